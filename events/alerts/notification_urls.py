"""Rotas dos destinos de notificação (montadas em trader_monitor/urls.py, sob ``api/``)."""

from __future__ import annotations

from events.alerts.notification_api import NotificationEndpointViewSet
from events.urls import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("notification-endpoints", NotificationEndpointViewSet, basename="notification-endpoints")

urlpatterns = router.urls
