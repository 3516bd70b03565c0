from __future__ import annotations

import logging

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("events")


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Eventos")

    def ready(self) -> None:
        from events import checks  # noqa: F401  # registra as checagens
        from events.store import get_store
        from trader_monitor.health import register_readiness

        register_readiness("store", lambda: get_store().ping(), describe=lambda: get_store().kind)
        if settings.MONGO_IN_MEMORY and not settings.DEBUG:
            # Permitido (MONGO_ALLOW_IN_MEMORY), mas nunca em silêncio.
            logger.warning("store: in-memory — eventos só na memória deste processo (MONGO_ALLOW_IN_MEMORY=true)")
