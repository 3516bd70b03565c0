"""Checagens do Django para o armazenamento de eventos (``manage.py check --deploy``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

W001 = "events.W001"


# Marca própria: as de banco (Tags.database) só rodam com --database; esta roda no --deploy.
@register("store", deploy=True)
def in_memory_store_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Avisa quando o armazenamento de eventos é o dublê em memória (perdido a cada reinício)."""
    if not settings.MONGO_IN_MEMORY:
        return []
    return [
        Warning(
            "store: in-memory — MONGO_URI usa o armazenamento em memória (mongomock): cada processo "
            "tem o seu banco e todo evento se perde ao reiniciar.",
            hint="Aponte MONGO_URI para um MongoDB (ex.: mongodb://mongo:27017/trader_monitor?replicaSet=rs0).",
            id=W001,
        )
    ]
