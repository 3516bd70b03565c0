"""Erros do armazenamento (módulo folha: importável de qualquer camada sem arrastar o pymongo)."""

from __future__ import annotations

from trader_monitor.exceptions import DependencyUnavailable


class StoreUnavailable(DependencyUnavailable):
    """O MongoDB não respondeu depois das tentativas; o chamador responde 503 (ou adia)."""

    code = "store_unavailable"
