"""Rotas HTTP do app `events` (montadas em trader_monitor/urls.py em ``api/``).

Sem barra final, como no contrato; a forma com barra também responde.
O roteador põe ``summary`` e ``timeseries`` antes de ``<id>``.
"""

from __future__ import annotations

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from events import api


class OptionalSlashRouter(SimpleRouter):
    """Rotas sem barra final (o contrato) que também aceitam a barra (``/?`` na expressão regular)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("events", api.EventViewSet, basename="events")

urlpatterns = [
    re_path(r"^webhook/event/?$", api.WebhookEventView.as_view(), name="webhook-event"),
    *router.urls,
]
