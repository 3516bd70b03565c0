"""A coleção ``events`` no MongoDB: gravação idempotente, lápides, leituras e o contador ``seq``.

* A chave de idempotência é o ``_id`` do documento: a deduplicação é a própria chave
  primária, sem índice único secundário (cada índice a mais custa vazão de escrita).
* Um evento apagado vira uma **lápide** no mesmo ``_id`` (sem ``timestamp``, ``type``,
  ``userId``…; os campos originais ficam em ``deleted``): um reenvio da mesma
  entrega esbarra na chave e é respondido como ``deleted`` — nunca recria o evento
  —, e as consultas de eventos, que sempre filtram por ``timestamp``, não a veem.
* ``seq`` (cursor do feed) vem de um contador ``$inc`` no próprio banco: monotônico
  entre processos, o que a retomada do feed sem lacunas precisa.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.database import Database
from pymongo.errors import AutoReconnect, BulkWriteError, DuplicateKeyError

from events.domain import EventFilter, KeysetPosition, SortField
from events.store import queries
from events.store.contract import InsertOutcome
from events.store.errors import StoreUnavailable
from events.store.retry import RetryPolicy

EVENTS = "events"
COUNTERS = "counters"
_DUPLICATE_KEY = 11000
# Uma remoção espera o lote de agregações do evento terminar (normalmente milissegundos).
DELETE_SETTLE_SECONDS = 3.0


def tombstone(original: dict[str, Any], *, deleted_at: datetime) -> dict[str, Any]:
    """A lápide que substitui um evento apagado (o ``_id`` e a impressão do corpo ficam)."""
    stone: dict[str, Any] = {
        "_id": original["_id"],
        "deletedAt": deleted_at,
        "bodyHash": original.get("bodyHash"),
        "deleted": {field: original[field] for field in ("userId", "type", "value", "timestamp")},
    }
    for field in ("ingestId", "idempotencySource", "idempotencyKey"):
        if field in original:
            stone[field] = original[field]
    return stone


def classify_existing(existing: dict[str, Any], document: dict[str, Any]) -> InsertOutcome:
    """O que significa esbarrar num ``_id`` já gravado."""
    if "deletedAt" in existing:
        same_body = existing.get("bodyHash") == document.get("bodyHash")
        return InsertOutcome("deleted" if same_body else "conflict", existing)
    if existing.get("ingestId") == document.get("ingestId"):
        # Uma tentativa anterior nossa gravou, mas a confirmação se perdeu.
        return InsertOutcome("created", existing)
    if existing.get("bodyHash") == document.get("bodyHash"):
        return InsertOutcome("duplicate", existing)
    return InsertOutcome("conflict", existing)


class EventCollection:
    def __init__(self, db: Database[dict[str, Any]], retry: RetryPolicy) -> None:
        self.db = db
        self.collection = db[EVENTS]
        self.retry = retry

    def declare_indexes(self) -> list[str]:
        events = self.collection
        return [
            events.create_index([("timestamp", DESCENDING), ("_id", DESCENDING)]),
            events.create_index([("type", ASCENDING), ("timestamp", DESCENDING), ("_id", DESCENDING)]),
            events.create_index([("userId", ASCENDING), ("timestamp", DESCENDING), ("_id", DESCENDING)]),
            events.create_index([("value", DESCENDING), ("_id", DESCENDING)]),
            events.create_index([("seq", ASCENDING)]),
            # Só os documentos ainda não contados nas agregações (poucos, recentes).
            events.create_index([("batchedAt", ASCENDING)], partialFilterExpression={"rollupBatch": {"$exists": True}}),
        ]

    # --- sequência -------------------------------------------------------------------

    def reserve_seq(self, count: int = 1) -> int:
        """Reserva ``count`` números de sequência; devolve o último."""

        def op() -> int:
            counter = self.db[COUNTERS].find_one_and_update(
                {"_id": EVENTS}, {"$inc": {"seq": count}}, upsert=True, return_document=ReturnDocument.AFTER
            )
            if counter is None:  # não acontece: upsert com AFTER sempre devolve o documento
                raise AutoReconnect("contador de sequência sem resposta")
            return int(counter["seq"])

        return self.retry.run("reserve_seq", op)

    def last_seq(self) -> int:
        counter = self.retry.run("last_seq", lambda: self.db[COUNTERS].find_one({"_id": EVENTS}))
        return int(counter["seq"]) if counter else 0

    # --- escrita ---------------------------------------------------------------------

    def insert(self, document: dict[str, Any]) -> InsertOutcome:
        def op() -> InsertOutcome:
            try:
                self.collection.insert_one(document)
            except DuplicateKeyError:
                existing = self.collection.find_one({"_id": document["_id"]})
                if existing is None:  # apagado de vez entre as duas operações: tente de novo
                    raise AutoReconnect("documento sumiu durante a deduplicação") from None
                return classify_existing(existing, document)
            return InsertOutcome("created", document)

        return self.retry.run("insert_event", op)

    def insert_many(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insere ignorando ``_id`` já existentes; devolve os que entraram."""

        def op() -> list[dict[str, Any]]:
            try:
                self.collection.insert_many(batch, ordered=False)
            except BulkWriteError as exc:
                errors = exc.details.get("writeErrors", [])
                if any(error.get("code") != _DUPLICATE_KEY for error in errors):
                    raise
                failed = {error["index"] for error in errors}
                return [doc for index, doc in enumerate(batch) if index not in failed]
            return batch

        return self.retry.run("insert_events_bulk", op)

    def replace_with_tombstone(
        self, event_id: ObjectId, *, deleted_at: datetime, mark: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Troca o evento pela lápide, só se ele já foi contado nas agregações.

        Devolve o evento apagado (``None`` se não existe). Enquanto o lote de agregações
        dele está em andamento, espera (até ``DELETE_SETTLE_SECONDS``): apagar no meio
        tornaria ambíguo se a contagem o incluiu.
        """
        deadline = time.monotonic() + DELETE_SETTLE_SECONDS
        while True:
            current = self.retry.run("delete_event", lambda: self.collection.find_one({"_id": event_id}))
            if current is None or "deletedAt" in current:
                return None
            if "rollupBatch" not in current:
                stone = tombstone(current, deleted_at=deleted_at) | mark
                guard = {"_id": event_id, "seq": current.get("seq"), "rollupBatch": {"$exists": False}}

                def op(guard: dict[str, Any] = guard, stone: dict[str, Any] = stone) -> dict[str, Any] | None:
                    replaced: dict[str, Any] | None = self.collection.find_one_and_replace(
                        guard, stone, return_document=ReturnDocument.BEFORE
                    )
                    return replaced

                replaced = self.retry.run("delete_event", op)
                if replaced is not None:
                    return replaced
            if time.monotonic() >= deadline:
                raise StoreUnavailable("delete_event: o evento ainda está sendo contado nas agregações")
            time.sleep(0.05)

    # --- leitura ---------------------------------------------------------------------

    def get(self, event_id: ObjectId) -> dict[str, Any] | None:
        query = {"_id": event_id, "timestamp": {"$gte": queries.MIN_TIMESTAMP}}
        result: dict[str, Any] | None = self.retry.run("get_event", lambda: self.collection.find_one(query))
        return result

    def get_any(self, event_id: ObjectId) -> dict[str, Any] | None:
        """O documento com este ``_id``, seja evento ou lápide."""
        result: dict[str, Any] | None = self.retry.run("get_event", lambda: self.collection.find_one({"_id": event_id}))
        return result

    def page(
        self,
        event_filter: EventFilter,
        *,
        sort_field: SortField,
        descending: bool,
        limit: int,
        skip: int,
        after: KeysetPosition | None,
    ) -> list[dict[str, Any]]:
        query = queries.event_match(event_filter)
        if after is not None:
            query = queries.keyset_match(query, sort_field, descending, after)
        order = queries.sort_spec(sort_field, descending)

        def op() -> list[dict[str, Any]]:
            return list(self.collection.find(query).sort(order).skip(skip).limit(limit))

        return self.retry.run("list_events", op)

    def count(self, event_filter: EventFilter) -> int:
        query = queries.event_match(event_filter)
        return int(self.retry.run("count_events", lambda: self.collection.count_documents(query)))

    def iterate(self, event_filter: EventFilter, *, batch_size: int) -> Iterator[dict[str, Any]]:
        query = queries.event_match(event_filter)
        order = queries.sort_spec("timestamp", descending=False)
        yield from self.collection.find(query).sort(order).batch_size(batch_size)

    def after_seq(
        self, seq: int, *, limit: int, upto: int | None, types: tuple[str, ...], user_id: str | None
    ) -> list[dict[str, Any]]:
        """Em ordem de ``seq``; com ``upto``, o índice de ``seq`` é varrido no máximo até ele."""
        span: dict[str, int] = {"$gt": seq}
        if upto is not None:
            span["$lte"] = upto
        query = {"seq": span, **queries.event_match(EventFilter(types=types, user_id=user_id))}

        def op() -> list[dict[str, Any]]:
            return list(self.collection.find(query).sort([("seq", ASCENDING)]).limit(limit))

        return self.retry.run("events_after_seq", op)
