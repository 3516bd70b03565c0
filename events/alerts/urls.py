"""Rotas da API de alertas (montadas em trader_monitor/urls.py em ``api/``), sem barra final."""

from __future__ import annotations

from events.alerts import api
from events.urls import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("alert-rules", api.AlertRuleViewSet, basename="alert-rules")
router.register("alerts", api.AlertViewSet, basename="alerts")

urlpatterns = [*router.urls]
