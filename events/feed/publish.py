"""Difusão de eventos novos para os feeds ao vivo, sempre depois da gravação confirmada."""

from __future__ import annotations

import logging
from typing import Any

from channels.layers import get_channel_layer

from trader_monitor import metrics

logger = logging.getLogger(__name__)

EVENTS_GROUP = "events"


async def event_broadcast(*, event: dict[str, Any], cursor: int) -> bool:
    """Publica ``new_event`` para os hubs dos processos (grupo ``events`` da camada de canais).

    Uma falha aqui é registrada e contada, nunca propagada: o evento já está salvo
    e o feed o recupera pela retomada com cursor.
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await layer.group_send(EVENTS_GROUP, {"type": "event.new", "event": event, "cursor": cursor})
    except Exception:
        metrics.BROADCAST_FAILURES.inc()
        logger.exception("falha ao difundir new_event", extra={"event_id": event["id"]})
        return False
    return True
