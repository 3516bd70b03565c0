"""Escritas do domínio de eventos (ingestão, remoção, quarentena). A difusão fica em ``events/feed/publish.py``."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from events.alerts.cache import rules_watching
from events.alerts.evaluate import alerts_evaluate
from events.domain import (
    EventPayload,
    IdempotencyKey,
    body_hash,
    build_document,
    event_to_json,
)
from events.store import get_store
from events.store.contract import InsertStatus
from trader_monitor import metrics

logger = logging.getLogger(__name__)

_MAX_BSON_INT = 2**63 - 1


@dataclass(frozen=True)
class IngestResult:
    status: InsertStatus
    event: dict[str, Any]
    cursor: int
    # Alertas novos que este evento disparou (JSON público), para a difusão ao vivo.
    alerts: tuple[dict[str, Any], ...] = ()


def event_ingest(
    *,
    payload: EventPayload,
    data: dict[str, Any],
    key: IdempotencyKey | None,
    received_at: datetime | None = None,
) -> IngestResult:
    """Persiste o evento uma única vez por chave. Lança ``StoreUnavailable``."""
    event_id = key.event_id() if key is not None else ObjectId()
    doc = build_document(
        payload,
        event_id=event_id,
        received_at=received_at or datetime.now(UTC),
        key=key,
        payload_hash=body_hash(data),
        ingest_id=secrets.token_hex(16),
    )
    outcome = get_store().insert_event(doc)
    if outcome.status == "deleted":
        # Reenvio de uma entrega cujo evento foi apagado: a lápide responde, nada é recriado.
        metrics.EVENTS_INGESTED.labels("deleted").inc()
        return IngestResult("deleted", {"id": str(outcome.document["_id"])}, 0)
    if outcome.status != "conflict":
        metrics.EVENTS_INGESTED.labels(outcome.status).inc()
    alerts: list[dict[str, Any]] = []
    if outcome.status == "created":
        alerts = alerts_on_event(event=outcome.document)
    return IngestResult(
        outcome.status, event_to_json(outcome.document), int(outcome.document["seq"]), alerts=tuple(alerts)
    )


def alerts_on_event(*, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Avalia as regras habilitadas contra um evento recém-gravado; nunca lança (a ingestão já terminou).

    Sem conseguir ler as regras, o cache segue com as que tinha (``events/alerts/cache.py``);
    cada regra tem o próprio ``try`` (``alerts_evaluate``). O daqui é só a última proteção.
    """
    try:
        rules = rules_watching(event["type"])
        return alerts_evaluate(event=event, store=get_store(), rules=rules) if rules else []
    except Exception:
        metrics.ALERT_RULE_ERRORS.labels("rules").inc()
        logger.exception("avaliação de alertas falhou; evento %s gravado sem alertas", event.get("_id"))
        return []


def event_delete(*, event_id: ObjectId) -> bool:
    """Remove o evento e desconta suas agregações. ``False`` se não existia."""
    return get_store().delete_event(event_id) is not None


def rejection_record(
    *,
    reason: str,
    detail: str,
    headers: dict[str, str],
    body: bytes,
    body_size: int,
    remote_addr: str | None,
    fields: dict[str, list[str]] | None = None,
) -> None:
    """Guarda na quarentena uma entrega rejeitada. Nunca lança: rejeitar já é o erro."""
    from django.conf import settings

    metrics.WEBHOOK_REJECTED.labels(reason).inc()
    limit = settings.QUARANTINE_BODY_BYTES
    record = {
        "receivedAt": datetime.now(UTC),
        "reason": reason,
        "detail": detail[:500],
        "fields": {storable_key(name): messages for name, messages in (fields or {}).items()},
        "headers": {storable_key(name): value for name, value in redact_headers(headers).items()},
        "body": body[:limit].decode("utf-8", errors="replace"),
        "bodyTruncated": body_size > limit,
        # O tamanho pode vir de um Content-Length mentiroso; o BSON só guarda inteiros de 64 bits.
        "bodySize": min(body_size, _MAX_BSON_INT),
        "remoteAddr": remote_addr,
        "webhookId": headers.get("webhook-id", "")[:200] or None,
    }
    try:
        get_store().record_rejection(record)
    except Exception:
        logger.exception("não foi possível gravar a entrega rejeitada na quarentena", extra={"reason": reason})


_SECRET_HEADERS = frozenset({"webhook-signature", "authorization", "cookie", "x-api-key", "proxy-authorization"})


def storable_key(name: str) -> str:
    """Nome vindo do cliente (cabeçalho, campo do JSON) como chave aceita por qualquer MongoDB.

    NUL é proibido pelo BSON; "$" no início e "." são recusados por servidores antigos.
    Trocados pelos equivalentes Unicode de largura total, como a documentação do MongoDB sugere.
    """
    name = name[:200].replace("\x00", "\ufffd").replace(".", "\uff0e")
    return "\uff04" + name[1:] if name.startswith("$") else name


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: ("[removido]" if name in _SECRET_HEADERS else value[:500]) for name, value in headers.items()}
