"""Difusão de eventos e alertas novos para os feeds ao vivo, sempre depois da gravação confirmada."""

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


async def alert_broadcast(*, alert: dict[str, Any]) -> bool:
    """Publica ``alert.new`` no mesmo grupo dos eventos; como ``event_broadcast``, nunca lança.

    O alerta já está gravado: uma falha aqui só atrasa o painel, que o lê em ``GET /api/alerts``.
    """
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await layer.group_send(EVENTS_GROUP, {"type": "alert.new", "alert": alert})
    except Exception:
        metrics.BROADCAST_FAILURES.inc()
        logger.exception("falha ao difundir alert.new", extra={"alert_id": alert["id"]})
        return False
    return True
