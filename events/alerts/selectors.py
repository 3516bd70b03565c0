"""Leituras dos alertas (listagem por chave e detalhe)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from events.alerts.domain import AlertFilter, AlertPosition, alert_to_json, parse_alert_id
from events.store import get_store


@dataclass(frozen=True)
class AlertPage:
    results: list[dict[str, Any]]
    next_position: AlertPosition | None


def alert_list(*, alert_filter: AlertFilter, limit: int, after: AlertPosition | None = None) -> AlertPage:
    """Uma página (mais recentes primeiro) e a posição da seguinte, se houver."""
    docs = get_store().list_alerts(alert_filter, limit=limit + 1, after=after)
    page = docs[:limit]
    next_position = None
    if len(docs) > limit:
        last = page[-1]
        next_position = AlertPosition(last["triggeredAt"], last["_id"])
    return AlertPage([alert_to_json(doc) for doc in page], next_position)


def alert_get(*, alert_id: str) -> dict[str, Any] | None:
    """O alerta (JSON público); ``None`` para id desconhecido ou malformado."""
    oid = parse_alert_id(alert_id)
    if oid is None:
        return None
    doc = get_store().get_alert(oid)
    return alert_to_json(doc) if doc is not None else None
