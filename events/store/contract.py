"""O contrato do armazenamento de eventos, cumprido pelos dois adaptadores.

* ``MongoStore`` (``events/store/mongo.py``): produção, pymongo puro.
* ``InMemoryStore`` (``events/store/memory.py``): testes e demo, com o mongomock.

A mesma suíte de contrato (``tests/events/store_contract/``) roda contra os dois.
Tudo é síncrono: quem está num laço de eventos chama pelo ``run_store`` (pool de
threads limitado, ``events/store/__init__.py``), nunca direto.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol, TypedDict

from bson import ObjectId

from events.alerts.domain import AlertFilter, AlertPosition
from events.buckets import Segment
from events.domain import EventDocument, EventFilter, KeysetPosition, SortField
from events.store.outbox import DeliveryStatus

StoreKind = Literal["mongodb", "in-memory"]
GroupBy = Literal["type", "userId"]
InsertStatus = Literal["created", "duplicate", "conflict", "deleted"]


@dataclass(frozen=True)
class InsertOutcome:
    """``created``; ``duplicate`` (mesmo corpo); ``conflict`` (outro corpo); ``deleted`` (apagado antes).

    ``document`` é o evento gravado (ou o existente); em ``deleted``, a lápide.
    """

    status: InsertStatus
    document: dict[str, Any]


class GroupRow(TypedDict):
    """Contagem e soma de ``value`` por chave (tipo ou usuário) num segmento."""

    key: str
    count: int
    sum: float


class BucketRow(TypedDict):
    """Contagem e soma por (balde, tipo) num segmento de baldes."""

    bucket: datetime
    type: str
    count: int
    sum: float


class EventStore(Protocol):
    """Eventos, agregações, quarentena de webhooks rejeitados, alertas e a caixa de saída das notificações."""

    # Relógio das agregações (quais baldes de curta retenção um evento alimenta); os
    # testes o fixam.
    now: Callable[[], datetime]

    @property
    def kind(self) -> StoreKind: ...

    # --- infraestrutura ---
    def ping(self) -> bool: ...

    def ensure_indexes(self) -> list[str]: ...

    def drop_all(self) -> None: ...

    def close(self) -> None: ...

    # --- ingestão e remoção ---
    def insert_event(self, doc: EventDocument) -> InsertOutcome: ...

    def insert_events_bulk(self, docs: list[EventDocument], *, track_rollups: bool = True) -> int: ...

    def delete_event(self, event_id: ObjectId) -> dict[str, Any] | None: ...

    # --- leitura de eventos ---
    def get_event(self, event_id: ObjectId) -> dict[str, Any] | None: ...

    def list_events(
        self,
        event_filter: EventFilter,
        *,
        sort_field: SortField,
        descending: bool,
        limit: int,
        skip: int = 0,
        after: KeysetPosition | None = None,
    ) -> list[dict[str, Any]]: ...

    def count_events(self, event_filter: EventFilter) -> int: ...

    def iter_events(self, event_filter: EventFilter, *, batch_size: int = 1000) -> Iterator[dict[str, Any]]: ...

    def events_after_seq(
        self,
        seq: int,
        *,
        limit: int,
        upto: int | None = None,
        types: tuple[str, ...] = (),
        user_id: str | None = None,
    ) -> list[dict[str, Any]]: ...

    def last_seq(self) -> int: ...

    # --- agregações ---
    def group(self, segment: Segment, *, by: GroupBy, event_filter: EventFilter) -> list[GroupRow]: ...

    def series(self, segment: Segment, *, event_filter: EventFilter) -> list[BucketRow]: ...

    def flush_rollups(self) -> int: ...

    def rebuild_rollups(self) -> int: ...

    # --- quarentena ---
    def record_rejection(self, record: dict[str, Any]) -> None: ...

    def list_rejections(
        self, *, reason: str | None = None, limit: int = 100, skip: int = 0
    ) -> list[dict[str, Any]]: ...

    def count_rejections(self, *, reason: str | None = None) -> int: ...

    def get_rejection(self, rejection_id: ObjectId) -> dict[str, Any] | None: ...

    def rejections_by_reason(self) -> dict[str, int]: ...

    # --- alertas (events/store/alerts.py) ---
    def insert_alert(self, alert: dict[str, Any]) -> bool:
        """Grava o alerta; ``False`` se o ``_id`` (regra, usuário, gatilho) já existe."""
        ...

    def claim_alert_cooldown(self, key: str, *, at: datetime, cooldown: timedelta, claim: str) -> bool:
        """Atômico entre processos: ``True`` para um só reivindicador por intervalo."""
        ...

    def add_alert_sample(self, key: str, value: float, *, sample_id: str) -> tuple[int, float, float]:
        """Soma o valor à estatística (Welford) e devolve a de antes: ``(n, média, m2)``.

        Atômico entre processos; repetir o mesmo ``sample_id`` logo em seguida não soma de novo.
        """
        ...

    def get_alert(self, alert_id: ObjectId) -> dict[str, Any] | None: ...

    def list_alerts(
        self, alert_filter: AlertFilter, *, limit: int, after: AlertPosition | None = None
    ) -> list[dict[str, Any]]:
        """Mais recentes primeiro (``triggeredAt``, ``_id``), depois da posição ``after``."""
        ...

    def acknowledge_alert(self, alert_id: ObjectId, *, by: str, at: datetime) -> dict[str, Any] | None:
        """Aberto → reconhecido (idempotente: outro estado fica como está); ``None`` se não existe."""
        ...

    # --- caixa de saída das notificações (outbox.py) ---
    def enqueue_deliveries(self, alert: dict[str, Any], endpoint_ids: list[int], *, now: datetime) -> int: ...

    def claim_delivery(self, *, now: datetime, lease_seconds: float, owner: str) -> dict[str, Any] | None: ...

    def finish_delivery_attempt(
        self,
        delivery_id: ObjectId,
        *,
        owner: str,
        attempt: dict[str, Any],
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> bool: ...

    def list_deliveries(self, *, endpoint_id: int, limit: int = 50, skip: int = 0) -> list[dict[str, Any]]: ...

    def count_deliveries(self, *, endpoint_id: int) -> int: ...

    def get_delivery(self, delivery_id: ObjectId) -> dict[str, Any] | None: ...
