"""Serviços e seletores dos destinos de notificação e das suas entregas.

Escritas no banco relacional (os destinos) aqui; as entregas ficam no MongoDB
(``events.store``, caixa de saída) e são lidas pelo armazenamento.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import ObjectId
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from events.alerts.models import NotificationEndpoint
from events.alerts.ssrf import url_check
from events.store import get_store
from trader_monitor import metrics

logger = logging.getLogger(__name__)


def endpoint_create(*, url: str, description: str = "") -> NotificationEndpoint:
    """Cadastra um destino; ``BlockedDestination`` se a URL for recusada (SSRF)."""
    url_check(url)
    return NotificationEndpoint.objects.create(url=url, description=description)


def endpoint_update(
    *, endpoint: NotificationEndpoint, enabled: bool | None = None, description: str | None = None
) -> NotificationEndpoint:
    """Ativa/desativa e troca a descrição. Reativar zera as falhas seguidas e o motivo."""
    fields: list[str] = []
    if description is not None:
        endpoint.description = description
        fields.append("description")
    if enabled is not None and enabled != endpoint.enabled:
        endpoint.enabled = enabled
        fields.append("enabled")
        if enabled:
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            fields += ["consecutive_failures", "disabled_at", "disabled_reason"]
    if fields:
        endpoint.save(update_fields=fields)
    return endpoint


def endpoint_record_outcome(*, endpoint_id: int, delivered: bool, now: datetime) -> bool:
    """Conta o fim de uma entrega no destino; devolve ``True`` se ele acabou de ser desativado.

    Entregue zera as falhas seguidas; falha soma uma e, ao chegar a
    ``NOTIFY_DISABLE_AFTER``, desativa o destino (com data e motivo). Atualizações
    atômicas no banco: dois remetentes podem terminar entregas do mesmo destino juntos.
    """
    endpoints = NotificationEndpoint.objects.filter(id=endpoint_id)
    if delivered:
        endpoints.exclude(consecutive_failures=0).update(consecutive_failures=0)
        return False
    limit = settings.NOTIFY_DISABLE_AFTER
    with transaction.atomic():
        endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
        disabled = endpoints.filter(enabled=True, consecutive_failures__gte=limit).update(
            enabled=False,
            disabled_at=now,
            disabled_reason=_("%(n)d entregas seguidas falharam.") % {"n": limit},
        )
    if disabled:
        metrics.NOTIFICATION_ENDPOINTS_DISABLED.inc()
        logger.warning("destino de notificação desativado por falhas seguidas", extra={"endpoint_id": endpoint_id})
    return bool(disabled)


@dataclass(frozen=True)
class DeliveryPage:
    results: list[dict[str, Any]]
    total: int


def delivery_list(*, endpoint_id: int, limit: int, page: int) -> DeliveryPage:
    """Entregas de um destino, mais novas primeiro (documentos do armazenamento)."""
    store = get_store()
    total = store.count_deliveries(endpoint_id=endpoint_id)
    rows = store.list_deliveries(endpoint_id=endpoint_id, limit=limit, skip=(page - 1) * limit)
    return DeliveryPage(results=rows, total=total)


def delivery_get(*, delivery_id: str) -> dict[str, Any] | None:
    if not ObjectId.is_valid(delivery_id):
        return None
    return get_store().get_delivery(ObjectId(delivery_id))
