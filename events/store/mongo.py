"""O adaptador de produção: MongoDB pelo pymongo, e nada mais.

Um ``MongoClient`` por processo (``connect``), com prazo total por operação
(``timeoutMS``), escritas repetíveis do driver e o nosso ``RetryPolicy`` por cima.
Eventos em ``events.py``, agregações em ``rollups.py``, quarentena em
``quarantine.py``, caixa de saída das notificações em ``outbox.py``; aqui só a
composição e o contrato (``contract.EventStore``).
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import PyMongoError

from events.alerts.domain import AlertFilter, AlertPosition
from events.buckets import Family, Segment
from events.domain import EventDocument, EventFilter, KeysetPosition, SortField
from events.store import queries
from events.store.alerts import AlertStore
from events.store.contract import BucketRow, GroupBy, GroupRow, InsertOutcome, StoreKind
from events.store.errors import StoreUnavailable
from events.store.events import COUNTERS, EVENTS, EventCollection
from events.store.outbox import OUTBOX, DeliveryStatus, Outbox
from events.store.quarantine import REJECTED, Quarantine
from events.store.retry import RetryPolicy
from events.store.rollups import BATCHES, RollupWriter, declare_indexes, rollup_collections, start_background

logger = logging.getLogger(__name__)

DEFAULT_DB_NAME = "trader_monitor"


def connect(
    uri: str, *, server_selection_timeout_ms: int, operation_timeout_ms: int | None
) -> Database[dict[str, Any]]:
    """Banco padrão do ``uri`` (ou ``trader_monitor``), num cliente novo.

    ``operation_timeout_ms`` é o prazo total de cada operação (``timeoutMS``: seleção de
    servidor, rede, espera de replicação e a nova tentativa interna do driver), o que
    limita o pior caso até um 503.
    """
    options: dict[str, Any] = {}
    if operation_timeout_ms:
        options["timeoutMS"] = operation_timeout_ms
    else:
        options["socketTimeoutMS"] = 10_000
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        connectTimeoutMS=server_selection_timeout_ms,
        retryWrites=True,
        appname="trader-monitor",
        **options,
    )
    return client.get_default_database(default=DEFAULT_DB_NAME)


class MongoStore:
    """``EventStore`` sobre um ``Database`` do pymongo."""

    def __init__(
        self,
        db: Database[dict[str, Any]],
        *,
        write_attempts: int = 3,
        flush_seconds: float = 1.0,
        recovery_seconds: float = 60.0,
        clock: Callable[[], datetime] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """``retry`` substitui a política montada de ``write_attempts`` (os testes injetam a espera)."""
        self.db = db
        self.now: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.retry = retry or RetryPolicy(write_attempts)
        self.events = EventCollection(db, self.retry)
        self.rollups = RollupWriter(
            db,
            EVENTS,
            self.retry,
            now=lambda: self.now(),
            recovery_after=timedelta(seconds=recovery_seconds),
            # Uma gravação em voo termina em no máximo ``attempts`` × prazo por operação.
            settle_timeout=10.0,
        )
        self.quarantine = Quarantine(db[REJECTED])
        self.alerts = AlertStore(db)
        self.outbox = Outbox(db[OUTBOX])
        self.flush_seconds = flush_seconds
        self.recovery_seconds = recovery_seconds
        self._background: tuple[threading.Thread, threading.Event] | None = None
        self._background_lock = threading.Lock()

    @property
    def kind(self) -> StoreKind:
        return "mongodb"

    # --- infraestrutura ------------------------------------------------------------

    def ping(self) -> bool:
        try:
            self.db.client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    def ensure_indexes(self) -> list[str]:
        return [
            *self.events.declare_indexes(),
            *declare_indexes(self.db),
            *self.quarantine.declare_indexes(),
            *self.alerts.declare_indexes(),
            *self.outbox.declare_indexes(),
        ]

    def drop_all(self) -> None:
        for name in self.db.list_collection_names():
            self.db.drop_collection(name)
        self.quarantine.reset()

    def start(self) -> None:
        """Sobe o gravador de agregações em segundo plano (e recupera pendências de quem caiu)."""
        if self.flush_seconds <= 0 or self._background is not None:
            return
        with self._background_lock:
            if self._background is None:
                self._background = start_background(self.rollups, self.flush_seconds, self.recovery_seconds / 2)
                atexit.register(self.close)

    def close(self) -> None:
        """Para o gravador e aplica o lote aberto."""
        if self._background is not None:
            self._background[1].set()
        try:
            self.rollups.flush()
        except StoreUnavailable:
            logger.exception("agregações pendentes não puderam ser gravadas no encerramento")

    # --- ingestão e remoção ----------------------------------------------------------

    def insert_event(self, doc: EventDocument) -> InsertOutcome:
        document: dict[str, Any] = dict(doc)
        document["seq"] = self.events.reserve_seq()
        number = self.rollups.clock.enter()
        try:
            document.update(self.rollups.mark(number))
            outcome = self.events.insert(document)
        finally:
            self.rollups.clock.leave(number)
        self.start()
        return outcome

    def insert_events_bulk(self, docs: list[EventDocument], *, track_rollups: bool = True) -> int:
        if not docs:
            return 0
        last = self.events.reserve_seq(len(docs))
        first = last - len(docs) + 1
        batch = [dict(doc, seq=first + index) for index, doc in enumerate(docs)]
        if not track_rollups:
            return len(self.events.insert_many(batch))
        number = self.rollups.clock.enter()
        try:
            mark = self.rollups.mark(number)
            inserted = self.events.insert_many([doc | mark for doc in batch])
        finally:
            self.rollups.clock.leave(number)
        self.start()
        return len(inserted)

    def delete_event(self, event_id: ObjectId) -> dict[str, Any] | None:
        if self.rollups.pending:
            self.rollups.flush()
        number = self.rollups.clock.enter()
        try:
            deleted = self.events.replace_with_tombstone(
                event_id, deleted_at=self.now(), mark=self.rollups.mark(number)
            )
        finally:
            self.rollups.clock.leave(number)
        self.start()
        return deleted

    # --- leitura de eventos ----------------------------------------------------------

    def get_event(self, event_id: ObjectId) -> dict[str, Any] | None:
        return self.events.get(event_id)

    def list_events(
        self,
        event_filter: EventFilter,
        *,
        sort_field: SortField,
        descending: bool,
        limit: int,
        skip: int = 0,
        after: KeysetPosition | None = None,
    ) -> list[dict[str, Any]]:
        return self.events.page(
            event_filter, sort_field=sort_field, descending=descending, limit=limit, skip=skip, after=after
        )

    def count_events(self, event_filter: EventFilter) -> int:
        return self.events.count(event_filter)

    def iter_events(self, event_filter: EventFilter, *, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
        return self.events.iterate(event_filter, batch_size=batch_size)

    def events_after_seq(
        self,
        seq: int,
        *,
        limit: int,
        upto: int | None = None,
        types: tuple[str, ...] = (),
        user_id: str | None = None,
    ) -> list[dict[str, Any]]:
        return self.events.after_seq(seq, limit=limit, upto=upto, types=types, user_id=user_id)

    def last_seq(self) -> int:
        return self.events.last_seq()

    # --- agregações ------------------------------------------------------------------

    def _settle(self) -> None:
        """Leituras de agregação veem tudo que este processo já gravou."""
        if self.rollups.pending:
            self.rollups.flush()

    def group(self, segment: Segment, *, by: GroupBy, event_filter: EventFilter) -> list[GroupRow]:
        self._settle()
        if segment.level is None:
            match = queries.event_match(event_filter.within(segment.start, segment.end))
            pipeline = queries.raw_group_pipeline(match, by)
            collection = EVENTS
        else:
            family = Family.TYPE if by == "type" and event_filter.user_id is None else Family.USER
            pipeline = queries.group_pipeline(queries.rollup_match(segment, event_filter, family), by)
            collection = segment.level.collection(family)
        rows = self.retry.run("rollup_group", lambda: list(self.db[collection].aggregate(pipeline)))
        return [GroupRow(key=row["_id"], count=int(row["count"]), sum=float(row["sum"])) for row in rows]

    def series(self, segment: Segment, *, event_filter: EventFilter) -> list[BucketRow]:
        if segment.level is None:
            raise ValueError("series() só lê baldes; segmentos brutos vão por group()")
        self._settle()
        family = Family.TYPE if event_filter.user_id is None else Family.USER
        pipeline = queries.series_pipeline(queries.rollup_match(segment, event_filter, family))
        collection = segment.level.collection(family)
        rows = self.retry.run("rollup_series", lambda: list(self.db[collection].aggregate(pipeline)))
        return [
            BucketRow(
                bucket=row["_id"]["bucket"], type=row["_id"]["type"], count=int(row["count"]), sum=float(row["sum"])
            )
            for row in rows
        ]

    def flush_rollups(self) -> int:
        return self.rollups.flush()

    def recover_rollups(self) -> int:
        return self.rollups.recover()

    def rebuild_rollups(self) -> int:
        """Recalcula as agregações a partir dos eventos já contados; devolve quantos leu.

        Os ainda pendentes (com ``rollupBatch``) ficam de fora: o lote deles os conta.
        Rode com a ingestão pausada — um lote aplicado durante a troca pode se perder.
        """
        self.rollups.flush()
        seen = 0

        def counted() -> Iterator[dict[str, Any]]:
            nonlocal seen
            query = {**queries.event_match(EventFilter()), "rollupBatch": {"$exists": False}}
            for doc in self.db[EVENTS].find(query, {"timestamp": 1, "type": 1, "userId": 1, "value": 1}):
                seen += 1
                yield doc

        self.rollups.rebuild(counted())
        self.ensure_indexes()
        return seen

    # --- quarentena ------------------------------------------------------------------

    def record_rejection(self, record: dict[str, Any]) -> None:
        self.retry.run("record_rejection", lambda: self.quarantine.record(record))

    def list_rejections(self, *, reason: str | None = None, limit: int = 100, skip: int = 0) -> list[dict[str, Any]]:
        return self.retry.run("list_rejections", lambda: self.quarantine.page(reason=reason, limit=limit, skip=skip))

    def count_rejections(self, *, reason: str | None = None) -> int:
        return self.retry.run("count_rejections", lambda: self.quarantine.count(reason=reason))

    def get_rejection(self, rejection_id: ObjectId) -> dict[str, Any] | None:
        return self.retry.run("get_rejection", lambda: self.quarantine.get(rejection_id))

    def rejections_by_reason(self) -> dict[str, int]:
        return self.retry.run("rejections_by_reason", self.quarantine.by_reason)

    # --- alertas ---------------------------------------------------------------------

    def insert_alert(self, alert: dict[str, Any]) -> bool:
        return self.retry.run("insert_alert", lambda: self.alerts.insert(alert))

    def claim_alert_cooldown(self, key: str, *, at: datetime, cooldown: timedelta, claim: str) -> bool:
        return self.retry.run(
            "claim_alert_cooldown", lambda: self.alerts.claim_cooldown(key, at=at, cooldown=cooldown, claim=claim)
        )

    def add_alert_sample(self, key: str, value: float, *, sample_id: str) -> tuple[int, float, float]:
        return self.retry.run("add_alert_sample", lambda: self.alerts.add_sample(key, value, sample_id=sample_id))

    def get_alert(self, alert_id: ObjectId) -> dict[str, Any] | None:
        return self.retry.run("get_alert", lambda: self.alerts.get(alert_id))

    def list_alerts(
        self, alert_filter: AlertFilter, *, limit: int, after: AlertPosition | None = None
    ) -> list[dict[str, Any]]:
        return self.retry.run("list_alerts", lambda: self.alerts.page(alert_filter, limit=limit, after=after))

    def acknowledge_alert(self, alert_id: ObjectId, *, by: str, at: datetime) -> dict[str, Any] | None:
        return self.retry.run("acknowledge_alert", lambda: self.alerts.acknowledge(alert_id, by=by, at=at))

    # --- caixa de saída das notificações -----------------------------------------------
    # O enfileiramento repete com segurança (índice único); a reivindicação e o registro
    # da tentativa não: uma repetição depois de uma escrita que chegou reivindicaria outra
    # entrega ou perderia a tentativa. Neles, só a repetição interna do driver.

    def enqueue_deliveries(self, alert: dict[str, Any], endpoint_ids: list[int], *, now: datetime) -> int:
        return self.retry.run("enqueue_deliveries", lambda: len(self.outbox.enqueue(alert, endpoint_ids, now=now)))

    def claim_delivery(self, *, now: datetime, lease_seconds: float, owner: str) -> dict[str, Any] | None:
        try:
            return self.outbox.claim(now=now, lease_seconds=lease_seconds, owner=owner)
        except PyMongoError as exc:
            raise StoreUnavailable(f"claim_delivery: {exc}") from exc

    def finish_delivery_attempt(
        self,
        delivery_id: ObjectId,
        *,
        owner: str,
        attempt: dict[str, Any],
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> bool:
        try:
            return self.outbox.finish_attempt(
                delivery_id, owner=owner, attempt=attempt, status=status, next_attempt_at=next_attempt_at, now=now
            )
        except PyMongoError as exc:
            raise StoreUnavailable(f"finish_delivery_attempt: {exc}") from exc

    def list_deliveries(self, *, endpoint_id: int, limit: int = 50, skip: int = 0) -> list[dict[str, Any]]:
        return self.retry.run(
            "list_deliveries", lambda: self.outbox.page(endpoint_id=endpoint_id, limit=limit, skip=skip)
        )

    def count_deliveries(self, *, endpoint_id: int) -> int:
        return self.retry.run("count_deliveries", lambda: self.outbox.count(endpoint_id=endpoint_id))

    def get_delivery(self, delivery_id: ObjectId) -> dict[str, Any] | None:
        return self.retry.run("get_delivery", lambda: self.outbox.get(delivery_id))


__all__ = ["BATCHES", "COUNTERS", "EVENTS", "MongoStore", "connect", "rollup_collections"]
