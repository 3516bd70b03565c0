"""Agregações ("rollups") no MongoDB: deltas por lote, gravação idempotente e recuperação.

Como um evento chega aos rollups sem nunca se perder nem contar duas vezes, mesmo
com o processo morto (``kill -9``) no meio:

1. A ingestão grava o evento com ``rollupBatch: "<processo>:<n>"`` (o lote aberto
   deste processo) e ``batchedAt``. O próprio documento é o diário: enquanto tiver
   ``rollupBatch``, ainda não foi totalmente contado.
2. A cada ``ROLLUP_FLUSH_SECONDS`` (e antes de cada leitura de agregação neste
   processo) o lote ``n`` é fechado: novas ingestões vão para ``n + 1``; depois que
   as inserções em voo do lote ``n`` terminam, os documentos com aquele
   ``rollupBatch`` são relidos e o lote é **reivindicado**: um registro em
   ``rollup_batches`` com os ``_id`` lidos, gravado antes de qualquer delta. O
   registro fixa, de uma vez por todas, quais documentos aquele lote conta.
3. Os deltas desses documentos (+1 por evento, −1 por lápide de evento já contado)
   são aplicados com ``$inc`` **guardado**: cada documento de agregação guarda em
   ``applied.<processo>`` o último lote daquele processo que recebeu, e o filtro
   ``applied.<processo> < n`` faz a reaplicação do mesmo lote não ter efeito (o
   upsert vira ``DuplicateKeyError``, ignorado). Depois, o ``rollupBatch`` deles é
   removido.

Quem aplica um lote já reivindicado (o dono de novo depois de uma falha, ou outro
processo na recuperação) reaplica só os documentos do registro — a guarda descarta
o que já tinha entrado — e trata os demais documentos com aquele ``rollupBatch``
como **atrasados** (gravação incerta que acabou acontecendo depois, ou o dono ainda
vivo que continuou gravando num lote que a recuperação de outro processo já
reivindicou): eles vão para um lote novo, de dono único, e contam ali uma vez.
Reaplicá-los com a guarda do lote antigo os perderia (a guarda já foi marcada).

Recuperação (na partida e a cada ``ROLLUP_RECOVERY_SECONDS / 2``): documentos com
``rollupBatch`` mais velhos que ``ROLLUP_RECOVERY_SECONDS`` são de um processo que
morreu (ou travou) e seus lotes são aplicados como acima. Os lotes de um mesmo dono
são sempre aplicados em ordem de ``n``, condição para a guarda ``<`` valer; por isso
cada lote de documentos atrasados tem dono próprio (``<processo>-r<k>``): um deles
que falhe e só seja recuperado depois não fica "para trás" de outro.

O custo é de um ``find``, um ``insert``, as atualizações guardadas e um
``update_many`` por lote (por segundo), não por evento; o registro do lote leva os
``_id`` contados (uns 20 bytes cada: cabem centenas de milhares por lote no limite
de 16 MiB de um documento) e expira em 7 dias. O índice parcial em ``batchedAt`` só
contém os documentos pendentes.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database
from pymongo.errors import AutoReconnect, BulkWriteError, DuplicateKeyError, PyMongoError

from events.buckets import LEVELS, MINUTE_TTL, Family, Level, buckets_for
from events.store import queries
from events.store.errors import StoreUnavailable
from events.store.retry import RetryPolicy

logger = logging.getLogger(__name__)

BATCHES = "rollup_batches"
BATCH_RECORD_TTL = timedelta(days=7)
_DUPLICATE_KEY = 11000
# Projeção do que os deltas precisam (eventos e lápides).
DELTA_PROJECTION = {"timestamp": 1, "type": 1, "userId": 1, "value": 1, "deleted": 1, "deletedAt": 1}


@dataclass
class Delta:
    """Delta de um documento de agregação: campos fixos (balde, tipo, usuário), contagem e soma."""

    keys: dict[str, Any]
    count: int = 0
    sum: float = 0.0


Deltas = dict[tuple[str, str], Delta]


def event_fields(doc: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Os campos que contam e o sinal: evento +1, lápide (``deleted``) −1."""
    if "deletedAt" in doc:
        return doc["deleted"], -1
    return doc, +1


Contribution = tuple[Level, datetime, str, str, int, float]


def contributions(doc: dict[str, Any], now: datetime) -> Iterator[Contribution]:
    """O que um documento soma às agregações: ``(nível, balde, tipo, usuário, sinal, valor)``.

    O mesmo cálculo serve aos dois adaptadores (aqui viram ``$inc``; em memória, somas
    em dicionários): cada nível recebe o evento nas duas famílias.
    """
    fields, sign = event_fields(doc)
    for level, bucket in buckets_for(fields["timestamp"], now):
        yield level, bucket, fields["type"], fields["userId"], sign, fields["value"]


def collect_deltas(docs: Iterable[dict[str, Any]], now: datetime, into: Deltas | None = None) -> Deltas:
    """Soma as contribuições dos documentos por (coleção, ``_id`` do rollup)."""
    deltas: Deltas = {} if into is None else into
    for doc in docs:
        for level, bucket, event_type, user_id, sign, value in contributions(doc, now):
            for family in Family:
                user = user_id if family is Family.USER else None
                key = (level.collection(family), queries.rollup_id(family, bucket, event_type, user))
                delta = deltas.get(key)
                if delta is None:
                    delta = deltas[key] = Delta(queries.rollup_keys(family, bucket, event_type, user))
                delta.count += sign
                delta.sum += sign * value
    return deltas


def rollup_collections() -> list[str]:
    return [level.collection(family) for family in Family for level in LEVELS]


def declare_indexes(db: Database[dict[str, Any]]) -> list[str]:
    """Índices das coleções de agregação (o de minuto expira sozinho)."""
    names: list[str] = []
    for family in Family:
        for level in LEVELS:
            options: dict[str, Any] = {}
            if level.retention is not None:
                options["expireAfterSeconds"] = int(MINUTE_TTL.total_seconds())
            names.append(db[level.collection(family)].create_index([("bucket", ASCENDING)], **options))
    ttl = int(BATCH_RECORD_TTL.total_seconds())
    names.append(db[BATCHES].create_index([("appliedAt", ASCENDING)], expireAfterSeconds=ttl))
    return names


@dataclass
class _OpenBatch:
    number: int
    inflight: int = 0
    dirty: bool = False


@dataclass
class BatchClock:
    """Numeração dos lotes deste processo e contagem das gravações em voo em cada um."""

    owner: str = field(default_factory=lambda: str(ObjectId()))
    _current: _OpenBatch = field(default_factory=lambda: _OpenBatch(1))
    _sealed: dict[int, _OpenBatch] = field(default_factory=dict)
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def batch_id(self, number: int) -> str:
        return f"{self.owner}:{number}"

    def enter(self) -> int:
        """Uma gravação vai começar no lote aberto; devolve o número dele."""
        with self._cond:
            batch = self._current
            batch.inflight += 1
            batch.dirty = True
            return batch.number

    def leave(self, number: int) -> None:
        with self._cond:
            batch = self._current if self._current.number == number else self._sealed.get(number)
            if batch is not None:
                batch.inflight -= 1
                self._cond.notify_all()

    @property
    def dirty(self) -> bool:
        return self._current.dirty

    def seal(self, timeout: float) -> int | None:
        """Fecha o lote aberto e espera as gravações em voo dele; ``None`` se estava limpo."""
        with self._cond:
            batch = self._current
            if not batch.dirty:
                return None
            self._current = _OpenBatch(batch.number + 1)
            self._sealed[batch.number] = batch
            self._cond.wait_for(lambda: batch.inflight <= 0, timeout=timeout)
            del self._sealed[batch.number]
            return batch.number


class RollupWriter:
    """Lotes de deltas deste processo: gravação guardada, anotação e recuperação."""

    def __init__(
        self,
        db: Database[dict[str, Any]],
        events: str,
        retry: RetryPolicy,
        *,
        now: Callable[[], datetime],
        recovery_after: timedelta,
        settle_timeout: float,
    ) -> None:
        self.db = db
        self.events = events
        self.retry = retry
        self.now = now
        self.recovery_after = recovery_after
        self.settle_timeout = settle_timeout
        self.clock = BatchClock()
        # Lotes de documentos atrasados: um dono por lote (``<processo>-r<k>``, sempre o
        # lote 1), para que a ordem em que são aplicados nunca importe para a guarda.
        self.recovery_owner = f"{self.clock.owner}-r"
        self._recovery_number = 0
        # Lotes fechados cuja aplicação falhou: reaplicados primeiro, em ordem.
        self._failed: list[int] = []
        self._lock = threading.Lock()

    @property
    def pending(self) -> bool:
        """Se há deltas deste processo ainda não aplicados (lote aberto sujo ou lote falho)."""
        return self.clock.dirty or bool(self._failed)

    # --- marcação na ingestão -------------------------------------------------------

    def mark(self, number: int) -> dict[str, Any]:
        """Campos que põem um documento no lote ``number``."""
        return {"rollupBatch": self.clock.batch_id(number), "batchedAt": self.now()}

    # --- gravação --------------------------------------------------------------------

    def flush(self) -> int:
        """Fecha e aplica o lote aberto; devolve quantos documentos contou."""
        with self._lock:
            counted = 0
            while self._failed:
                counted += self._apply_batch(self.clock.owner, self._failed[0])
                self._failed.pop(0)
            number = self.clock.seal(self.settle_timeout)
            if number is None:
                return counted
            try:
                return counted + self._apply_batch(self.clock.owner, number)
            except StoreUnavailable:
                self._failed.append(number)
                raise

    def _apply_batch(self, owner: str, number: int) -> int:
        batch_id = f"{owner}:{number}"

        def read() -> list[dict[str, Any]]:
            return list(self.db[self.events].find({"rollupBatch": batch_id}, DELTA_PROJECTION))

        docs = self.retry.run("rollups_read_batch", read)
        claimed_ids = self._claim(batch_id, [doc["_id"] for doc in docs])
        claimed = [doc for doc in docs if doc["_id"] in claimed_ids]
        if claimed:
            self._write(collect_deltas(claimed, self.now()), owner, number)
        self._finish(batch_id, [doc["_id"] for doc in claimed])
        late = [doc["_id"] for doc in docs if doc["_id"] not in claimed_ids]
        if late:
            logger.warning("documentos gravados depois do seu lote de agregações", extra={"batch": batch_id})
            return len(claimed) + self._rebatch(batch_id, late)
        return len(claimed)

    def _claim(self, batch_id: str, ids: list[Any]) -> set[Any]:
        """Reivindica o lote com estes documentos; se já foi reivindicado, os documentos de então.

        Registros anteriores a esta regra (sem ``ids``) eram gravados só depois da
        aplicação completa: o que sobrou com aquele ``rollupBatch`` é atrasado.
        """

        def op() -> set[Any]:
            try:
                self.db[BATCHES].insert_one({"_id": batch_id, "ids": ids, "appliedAt": self.now()})
            except DuplicateKeyError:
                record = self.db[BATCHES].find_one({"_id": batch_id}, {"ids": 1})
                if record is None:  # expirou entre as duas operações: tente de novo
                    raise AutoReconnect("registro do lote sumiu durante a reivindicação") from None
                return set(record.get("ids", []))
            return set(ids)

        return self.retry.run("rollups_claim_batch", op)

    def _write(self, deltas: Deltas, owner: str, number: int) -> None:
        guard = f"applied.{owner}"
        by_collection: dict[str, list[UpdateOne]] = {}
        for (collection, rollup_id), delta in deltas.items():
            if delta.count == 0 and delta.sum == 0:
                continue
            by_collection.setdefault(collection, []).append(
                UpdateOne(
                    {"_id": rollup_id, guard: {"$not": {"$gte": number}}},
                    {
                        "$inc": {"count": delta.count, "sum": delta.sum},
                        "$set": {guard: number},
                        "$setOnInsert": delta.keys,
                    },
                    upsert=True,
                )
            )

        def op() -> None:
            for collection, ops in by_collection.items():
                try:
                    self.db[collection].bulk_write(ops, ordered=False)
                except BulkWriteError as exc:
                    # Chave duplicada = documento que já recebeu este lote (reaplicação).
                    errors = exc.details.get("writeErrors", [])
                    if any(error.get("code") != _DUPLICATE_KEY for error in errors):
                        raise

        self.retry.run("rollups_write", op)

    def _finish(self, batch_id: str, ids: list[Any]) -> None:
        if not ids:
            return

        def op() -> None:
            self.db[self.events].update_many(
                {"_id": {"$in": ids}, "rollupBatch": batch_id}, {"$unset": {"rollupBatch": "", "batchedAt": ""}}
            )

        self.retry.run("rollups_finish", op)

    # --- recuperação -------------------------------------------------------------------

    def recover(self) -> int:
        """Conta os documentos pendentes há mais de ``recovery_after``; devolve quantos."""
        cutoff = self.now() - self.recovery_after

        def stale() -> list[dict[str, Any]]:
            query = {"rollupBatch": {"$exists": True}, "batchedAt": {"$lt": cutoff}}
            return list(self.db[self.events].find(query, {"rollupBatch": 1}))

        with self._lock:
            pending = self.retry.run("rollups_find_stale", stale)
            if not pending:
                return 0
            by_batch: dict[str, list[Any]] = {}
            for doc in pending:
                by_batch.setdefault(doc["rollupBatch"], []).append(doc["_id"])
            counted = 0
            for batch_id in sorted(by_batch, key=_batch_order):
                owner, _sep, number = batch_id.rpartition(":")
                if not owner or not number.isdigit():
                    counted += self._rebatch(batch_id, by_batch[batch_id])
                else:
                    logger.warning("recuperando lote de agregações pendente", extra={"batch": batch_id})
                    counted += self._apply_batch(owner, int(number))
            return counted

    def _rebatch(self, old_batch: str, ids: list[Any]) -> int:
        """Documentos que chegaram depois do seu lote: passam a um lote novo, de dono único."""
        self._recovery_number += 1
        owner = f"{self.recovery_owner}{self._recovery_number}"
        mark = {"rollupBatch": f"{owner}:1", "batchedAt": self.now()}

        def op() -> None:
            self.db[self.events].update_many({"_id": {"$in": ids}, "rollupBatch": old_batch}, {"$set": mark})

        self.retry.run("rollups_rebatch", op)
        return self._apply_batch(owner, 1)

    # --- reconstrução -------------------------------------------------------------------

    def rebuild(self, docs: Iterable[dict[str, Any]]) -> None:
        """Troca todas as agregações pelas calculadas de ``docs`` (coleções novas + ``rename``)."""
        deltas = collect_deltas(docs, self.now())
        by_collection: dict[str, list[dict[str, Any]]] = {name: [] for name in rollup_collections()}
        for (collection, rollup_id), delta in deltas.items():
            if delta.count:
                by_collection[collection].append(
                    {"_id": rollup_id, **delta.keys, "count": delta.count, "sum": delta.sum}
                )
        with self._lock:
            for collection, rows in by_collection.items():
                staging = self.db[f"{collection}__rebuild"]
                staging.drop()
                if rows:
                    staging.insert_many(rows, ordered=False)
                    staging.rename(collection, dropTarget=True)
                else:
                    self.db[collection].delete_many({})


def _batch_order(batch_id: str) -> tuple[str, int]:
    owner, _sep, number = batch_id.rpartition(":")
    return owner, int(number) if number.isdigit() else 0


def start_background(
    writer: RollupWriter, interval: float, recovery_interval: float
) -> tuple[threading.Thread, threading.Event]:
    """Gravador em segundo plano: aplica o lote a cada ``interval`` e recupera pendências."""
    stop = threading.Event()
    thread = threading.Thread(
        target=_loop, args=(weakref.ref(writer), stop, interval, recovery_interval), name="rollups", daemon=True
    )
    thread.start()
    return thread, stop


def _loop(ref: weakref.ref[RollupWriter], stop: threading.Event, interval: float, recovery_interval: float) -> None:
    next_recovery = time.monotonic()
    while not stop.wait(interval):
        writer = ref()
        if writer is None:
            return
        try:
            writer.flush()
            if time.monotonic() >= next_recovery:
                next_recovery = time.monotonic() + recovery_interval
                writer.recover()
        except StoreUnavailable:
            logger.warning("gravação de agregações adiada: armazenamento indisponível")
        except PyMongoError:
            logger.exception("gravação de agregações falhou")
        del writer
