"""Enfileiramento das notificações de um alerta (a caixa de saída durável no MongoDB).

Quem dispara o alerta chama ``enqueue_alert_deliveries`` logo depois de gravá-lo; o
envio é do remetente (``manage.py deliver_notifications``, ``events/alerts/sender.py``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from events.alerts.models import NotificationEndpoint
from events.store import get_store
from trader_monitor import metrics

logger = logging.getLogger(__name__)


def enqueue_alert_deliveries(alert: dict[str, Any], endpoint_ids: list[int]) -> int:
    """Grava uma entrega pendente por destino ativo de ``endpoint_ids``; devolve quantas criou.

    ``alert`` é o alerta no formato da API (``id, ruleId, ruleName, kind, severity, userId,
    eventIds, triggeredAt, state, ackBy, ackAt, message``); vai inteiro em ``data`` do
    webhook. Idempotente por (``alert["id"]``, destino): chamar de novo não duplica.

    Síncrona (ORM e armazenamento): de código assíncrono, ``await run_store(...)``.
    Nunca levanta — a avaliação de alertas não pode derrubar a ingestão: uma falha do
    armazenamento, do banco ou um defeito é registrada no log (com o rastro), contada em
    ``notification_enqueue_failures_total`` e devolve 0.
    """
    if not endpoint_ids:
        return 0
    try:
        enabled = list(
            NotificationEndpoint.objects.filter(id__in=list(endpoint_ids), enabled=True).values_list("id", flat=True)
        )
        if not enabled:
            return 0
        created = get_store().enqueue_deliveries(alert, enabled, now=datetime.now(UTC))
    except Exception:  # armazenamento ou banco fora do ar, ou defeito nosso: nunca derruba a ingestão
        metrics.NOTIFICATION_ENQUEUE_FAILURES.inc()
        logger.exception("entregas do alerta não gravadas", extra={"alert_id": str(alert.get("id"))})
        return 0
    metrics.NOTIFICATIONS_ENQUEUED.inc(created)
    return created
