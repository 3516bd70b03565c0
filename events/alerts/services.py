"""Escritas dos alertas feitas por pessoas (o disparo fica em ``evaluate.py``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events.alerts.domain import alert_to_json, parse_alert_id
from events.store import get_store
from events.windows import to_millisecond


def alert_acknowledge(*, alert_id: str, username: str) -> dict[str, Any] | None:
    """Aberto → reconhecido por ``username``; idempotente (quem reconheceu primeiro fica).

    ``None`` para id desconhecido ou malformado.
    """
    oid = parse_alert_id(alert_id)
    if oid is None:
        return None
    doc = get_store().acknowledge_alert(oid, by=username, at=to_millisecond(datetime.now(UTC)))
    return alert_to_json(doc) if doc is not None else None
