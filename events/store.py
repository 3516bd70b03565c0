"""Armazenamento de eventos no MongoDB — o ÚNICO módulo que fala pymongo.

Decisões (ver DESIGN.md):

* A chave de idempotência vira o ``_id`` do documento: a deduplicação é a própria
  chave primária, sem índice único secundário.
* Agregações ("rollups") são mantidas na ingestão por incrementos ``$inc`` em
  lote: os deltas se acumulam em memória e são gravados a cada
  ``ROLLUP_FLUSH_SECONDS`` (e antes de qualquer leitura de resumo neste processo).
  Se gravar demora (carga alta, banco lento), o intervalo cresce para que o gravador
  não passe de ~10% do tempo, até ``_FLUSH_MAX_FACTOR`` × o intervalo configurado.
  Uma queda do processo perde no máximo esse intervalo de deltas; o comando
  ``rebuild_rollups`` recalcula tudo a partir dos eventos.
* Erros transitórios (rede, eleição, seleção de servidor) são repetidos com
  backoff limitado; esgotadas as tentativas, ``StoreUnavailable``. O caminho feliz
  não passa pelo tenacity: ele só entra depois da primeira falha.
* ``seq`` (cursor do feed) vem de um contador no próprio banco — monotônico entre
  processos. No armazenamento em memória (mongomock) o banco é privado do processo,
  então o contador fica num inteiro protegido por trava, com o mesmo efeito.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import heapq
import logging
import operator
import random
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal, TypeVar

from bson import ObjectId
from django.conf import settings
from pymongo import ASCENDING, DESCENDING, ReturnDocument, UpdateOne
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
    WriteConcernError,
)
from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from events.buckets import FINE_TTL, LEVELS, Family, Level, Window, buckets_for
from events.domain import EventDocument
from trader_monitor import metrics
from trader_monitor.mongo import create_client

logger = logging.getLogger(__name__)

T = TypeVar("T")

EVENTS = "events"
REJECTED = "rejected_webhooks"
COUNTERS = "counters"
_DIMENSION_FIELD = {Family.TYPE: "type", Family.USER: "userId"}
_TRANSIENT = (AutoReconnect, ConnectionFailure, WriteConcernError)
# Inserções incertas guardadas para conferência; além disso, rebuild_rollups corrige.
MAX_UNCERTAIN = 10_000
# Recuo entre tentativas: 50 ms (+ até 50 ms de jitter) antes da 2ª, dobrando até 0,5 s.
_BACKOFF_FIRST = 0.05
_BACKOFF_JITTER = 0.05
_BACKOFF_MAX = 0.5
# O gravador de rollups não deve ocupar mais que esta fração do tempo...
_FLUSH_DUTY = 0.1
# ...e nunca espera mais que este múltiplo do intervalo configurado.
_FLUSH_MAX_FACTOR = 10


class StoreUnavailable(Exception):
    """O MongoDB não respondeu depois das tentativas; o chamador deve responder 503."""


@dataclass(frozen=True)
class InsertOutcome:
    status: Literal["created", "duplicate", "conflict"]
    document: dict[str, Any]


@dataclass(frozen=True)
class EventFilter:
    """Filtros de listagem. Só aceita valores já validados (strings e datas)."""

    types: tuple[str, ...] = ()
    user_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def to_mongo(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.types:
            query["type"] = self.types[0] if len(self.types) == 1 else {"$in": list(self.types)}
        if self.user_id is not None:
            query["userId"] = self.user_id
        span: dict[str, datetime] = {}
        if self.start is not None:
            span["$gte"] = self.start
        if self.end is not None:
            span["$lt"] = self.end
        if span:
            query["timestamp"] = span
        return query


SortField = Literal["timestamp", "value"]


@dataclass(frozen=True)
class KeysetPosition:
    """Posição de paginação por chave: valor do campo de ordenação e ``_id`` do último item."""

    value: Any
    event_id: ObjectId


@dataclass
class _Delta:
    count: int = 0
    total: float = 0.0


@dataclass
class RollupBuffer:
    """Deltas pendentes por (coleção, balde, chave), seguros entre threads."""

    _pending: dict[tuple[str, datetime, str], _Delta] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, doc: dict[str, Any], sign: int, now: datetime) -> None:
        timestamp: datetime = doc["timestamp"]
        with self._lock:
            for family, level, bucket in buckets_for(timestamp, now):
                key = (level.collection, bucket, doc[_DIMENSION_FIELD[family]])
                delta = self._pending.setdefault(key, _Delta())
                delta.count += sign
                delta.total += sign * doc["value"]

    def drain(self) -> dict[tuple[str, datetime, str], _Delta]:
        with self._lock:
            drained, self._pending = self._pending, {}
        return drained

    def restore(self, drained: dict[tuple[str, datetime, str], _Delta]) -> None:
        with self._lock:
            for key, delta in drained.items():
                current = self._pending.setdefault(key, _Delta())
                current.count += delta.count
                current.total += delta.total

    def __len__(self) -> int:
        return len(self._pending)


def _rollup_id(bucket: datetime, key: str) -> str:
    return f"{bucket.isoformat()}|{key}"


# Tipos (exatos) que o store grava em cada campo de ordenação: data; número que não é
# bool. Com eles a ordem do Python coincide com a do BSON.
_SORT_TYPES: dict[str, tuple[type, ...]] = {"timestamp": (datetime,), "value": (int, float)}


def _mongomock_helpers() -> Any:
    """``mongomock.helpers`` (conversões de data do mongomock), importado só no modo em memória."""
    import mongomock.helpers

    return mongomock.helpers


def _comparable(sort_field: str, value: Any) -> bool:
    """Se o valor de ordenação é de um tipo que o store grava (e não é NaN)."""
    return type(value) in _SORT_TYPES[sort_field] and value == value


def flush_wait(interval: float, last_duration: float) -> float:
    """Espera até a próxima gravação de rollups, dada a duração da última.

    Em regime normal é o ``interval`` configurado. Se gravar ficou caro (muitas
    chaves, banco lento), espera ``last_duration × (1 − duty)/duty`` para que o
    gravador use no máximo ``_FLUSH_DUTY`` do tempo — mais deltas por gravação, as
    mesmas chaves —, limitado a ``_FLUSH_MAX_FACTOR × interval``.
    """
    stretched = last_duration * (1 - _FLUSH_DUTY) / _FLUSH_DUTY
    return min(max(interval, stretched), interval * _FLUSH_MAX_FACTOR)


def _linear_mongomock_cursor() -> None:
    """Torna linear a leitura de cursores do mongomock 4.3 (só afeta o armazenamento em memória).

    No mongomock 4.3, cada ``next()`` do cursor recorta a lista inteira de resultados
    (``_results[skip:]``): ler n documentos custa O(n²) — ``rebuild_rollups`` com
    100k eventos levava ~1 min, e todo ``aggregate`` passa por esse laço. A troca
    indexa a mesma lista, já calculada, com o mesmo ``skip``/``limit``: mesma ordem e
    mesmos documentos (``tests/events/test_store_fast_paths.py`` compara com o original).
    """
    import mongomock.collection

    cursor_class: Any = mongomock.collection.Cursor
    if getattr(cursor_class, "_tm_linear", False):
        return
    original = cursor_class.__next__

    def __next__(self: Any) -> Any:
        skip = self._skip or 0
        if skip < 0:  # fora do contrato do pymongo; fica com o comportamento original
            return original(self)
        if self._limit and self._emitted >= abs(self._limit):
            raise StopIteration
        results = self._compute_results()
        index = skip + self._emitted
        if index >= len(results):
            raise StopIteration
        self._emitted += 1
        return results[index]

    cursor_class.__next__ = __next__
    cursor_class.next = __next__
    cursor_class._tm_linear = True


class EventStore:
    """Acesso ao MongoDB (ou mongomock) para eventos, agregações e quarentena."""

    def __init__(
        self,
        client: Any,
        db_name: str,
        *,
        in_memory: bool,
        flush_seconds: float = 1.0,
        write_attempts: int = 3,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.client = client
        self.db = client[db_name]
        self.in_memory = in_memory
        self.flush_seconds = flush_seconds
        self.write_attempts = max(1, write_attempts)
        self.now: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.rollups = RollupBuffer()
        # O mongomock verifica e insere o _id em dois passos; sob threads isso
        # poderia aceitar dois documentos com a mesma chave. Serializamos as
        # escritas do armazenamento em memória (o MongoDB real é atômico).
        self._write_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if in_memory else contextlib.nullcontext()
        )
        self._flusher: threading.Thread | None = None
        self._flusher_lock = threading.Lock()
        self._stop = threading.Event()
        self._flush_lock = threading.Lock()
        self._rejections_since_trim = 0
        # Inserções que desistiram com a rede caída: o documento pode ter sido gravado sem
        # que ninguém contasse seus rollups (o reenvio do remetente vira "duplicate").
        # Conferidas no próximo flush_rollups (_settle_uncertain).
        # _id -> {ingestId: documento}: várias tentativas do mesmo evento podem ficar incertas.
        self._uncertain: dict[ObjectId, dict[str, dict[str, Any]]] = {}
        self._uncertain_lock = threading.Lock()
        # Contador de ``seq`` do armazenamento em memória (``None``: ler do banco).
        self._seq: int | None = None
        self._seq_lock = threading.Lock()
        if in_memory:
            _linear_mongomock_cursor()

    # --- infraestrutura -----------------------------------------------------

    @property
    def blocking(self) -> bool:
        """Se as chamadas fazem I/O de rede (e devem sair do laço de eventos)."""
        return not self.in_memory

    def _retrying(self, operation: str, fn: Callable[[], T]) -> T:
        """Executa ``fn``; erros transitórios são repetidos com recuo, os demais viram ``StoreUnavailable``.

        A primeira tentativa roda direto: montar o ``Retrying`` do tenacity a cada
        chamada custava ~20% da ingestão em memória (duas chamadas por evento; ver
        ``bench/OTIMIZACOES.md``). Só depois de uma falha transitória esperamos o
        primeiro recuo e seguimos com o tenacity nas tentativas restantes.
        """
        try:
            return fn()
        except DuplicateKeyError:
            raise
        except _TRANSIENT as exc:
            if self.write_attempts == 1:
                metrics.STORE_ERRORS.labels(operation).inc()
                raise StoreUnavailable(f"{operation}: {exc}") from exc
        except PyMongoError as exc:
            metrics.STORE_ERRORS.labels(operation).inc()
            raise StoreUnavailable(f"{operation}: {exc}") from exc
        # Jitter de recuo, não segredo: um gerador pseudoaleatório comum basta.
        jitter = random.uniform(0, _BACKOFF_JITTER)  # noqa: S311  # nosec B311
        time.sleep(min(_BACKOFF_FIRST + jitter, _BACKOFF_MAX))
        retrying = Retrying(
            retry=retry_if_exception_type(_TRANSIENT),
            stop=stop_after_attempt(self.write_attempts - 1),
            # A 1ª tentativa do tenacity é a 2ª no total: o próximo recuo já é o dobro.
            wait=wait_exponential_jitter(multiplier=2 * _BACKOFF_FIRST, max=_BACKOFF_MAX, jitter=_BACKOFF_JITTER),
            reraise=False,
        )
        try:
            return retrying(fn)
        except RetryError as exc:
            metrics.STORE_ERRORS.labels(operation).inc()
            raise StoreUnavailable(f"{operation}: {exc.last_attempt.exception()}") from exc
        except PyMongoError as exc:
            if isinstance(exc, DuplicateKeyError):
                raise
            metrics.STORE_ERRORS.labels(operation).inc()
            raise StoreUnavailable(f"{operation}: {exc}") from exc

    def ping(self) -> bool:
        try:
            self.client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    def ensure_indexes(self) -> list[str]:
        """Cria (idempotentemente) os índices declarados; devolve seus nomes."""
        created: list[str] = []
        events = self.db[EVENTS]
        created.append(events.create_index([("timestamp", DESCENDING), ("_id", DESCENDING)]))
        created.append(events.create_index([("type", ASCENDING), ("timestamp", DESCENDING), ("_id", DESCENDING)]))
        created.append(events.create_index([("userId", ASCENDING), ("timestamp", DESCENDING), ("_id", DESCENDING)]))
        created.append(events.create_index([("value", DESCENDING), ("_id", DESCENDING)]))
        created.append(events.create_index([("seq", ASCENDING)]))
        for levels in LEVELS.values():
            for level in levels:
                options: dict[str, Any] = {}
                if level.fine:
                    options["expireAfterSeconds"] = int(FINE_TTL.total_seconds())
                created.append(self.db[level.collection].create_index([("bucket", ASCENDING)], **options))
        rejected = self.db[REJECTED]
        ttl = int(timedelta(days=settings.QUARANTINE_TTL_DAYS).total_seconds())
        created.append(rejected.create_index([("receivedAt", ASCENDING)], expireAfterSeconds=ttl))
        created.append(rejected.create_index([("reason", ASCENDING), ("receivedAt", DESCENDING)]))
        return created

    def drop_all(self) -> None:
        """Apaga todas as coleções do banco (testes e ``seed --reset``)."""
        self.rollups.drain()
        self._uncertain.clear()
        self._rejections_since_trim = 0
        with self._seq_lock:
            for name in self.db.list_collection_names():
                self.db.drop_collection(name)
            self._seq = None

    # --- ingestão -----------------------------------------------------------

    def _reserve_seq(self, count: int = 1) -> int:
        """Reserva ``count`` números de sequência; devolve o último.

        No MongoDB, ``$inc`` atômico num contador: monotônico entre processos, que é
        o que a retomada do feed sem lacunas precisa. Em memória o banco só existe
        neste processo; o contador local sob trava dá a mesma garantia sem o
        ``find_one_and_update`` (~90 µs no mongomock, quase metade da ingestão).
        """
        if self.in_memory:
            with self._seq_lock:
                self._seq = self._stored_seq() if self._seq is None else self._seq
                self._seq += count
                return self._seq

        def op() -> int:
            counter = self.db[COUNTERS].find_one_and_update(
                {"_id": EVENTS},
                {"$inc": {"seq": count}},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            return int(counter["seq"])

        return self._retrying("reserve_seq", op)

    def insert_event(self, doc: EventDocument) -> InsertOutcome:
        """Grava um evento uma única vez por ``_id``.

        Uma repetição com o mesmo corpo é ``duplicate``; com outro corpo,
        ``conflict``. Se uma tentativa anterior nossa gravou mas a confirmação se
        perdeu, o ``ingestId`` igual mostra que o documento é nosso: ``created``.
        """
        document: dict[str, Any] = dict(doc)
        document["seq"] = self._reserve_seq()

        def op() -> InsertOutcome:
            with self._write_lock:
                try:
                    self.db[EVENTS].insert_one(document)
                except DuplicateKeyError:
                    existing = self.db[EVENTS].find_one({"_id": document["_id"]})
                    if existing is None:  # apagado entre as duas operações: tente de novo
                        raise AutoReconnect("documento sumiu durante a deduplicação") from None
                    if existing.get("ingestId") == document["ingestId"]:
                        return InsertOutcome("created", existing)
                    if existing.get("bodyHash") == document["bodyHash"]:
                        return InsertOutcome("duplicate", existing)
                    return InsertOutcome("conflict", existing)
            return InsertOutcome("created", document)

        try:
            outcome = self._retrying("insert_event", op)
        except StoreUnavailable:
            with self._uncertain_lock:
                if len(self._uncertain) < MAX_UNCERTAIN:
                    self._uncertain.setdefault(document["_id"], {})[document["ingestId"]] = document
            raise
        if outcome.status == "created":
            self._track(outcome.document, +1)
        return outcome

    def insert_events_bulk(self, docs: list[EventDocument], *, track_rollups: bool = True) -> int:
        """Carga em lote (seed). Ignora ``_id`` já existentes; devolve quantos entraram.

        Com ``track_rollups=False`` as agregações não são tocadas: para cargas grandes
        é mais barato chamar ``rebuild_rollups()`` uma vez no final.
        """
        if not docs:
            return 0
        last = self._reserve_seq(len(docs))
        first = last - len(docs) + 1
        batch = [dict(doc, seq=first + index) for index, doc in enumerate(docs)]

        def op() -> list[dict[str, Any]]:
            with self._write_lock:
                try:
                    self.db[EVENTS].insert_many(batch, ordered=False)
                    return batch
                except BulkWriteError as exc:
                    failed = {error["index"] for error in exc.details.get("writeErrors", [])}
                    if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                        raise
                    return [doc for index, doc in enumerate(batch) if index not in failed]

        inserted = self._retrying("insert_events_bulk", op)
        if track_rollups:
            for doc in inserted:
                self._track(doc, +1)
        return len(inserted)

    def _track(self, doc: dict[str, Any], sign: int) -> None:
        self.rollups.add(doc, sign, self.now())
        self._start_flusher()

    # --- agregações (rollups) -------------------------------------------------

    def _start_flusher(self) -> None:
        if self.flush_seconds <= 0 or self._flusher is not None:
            return
        with self._flusher_lock:
            self._spawn_flusher()

    def _spawn_flusher(self) -> None:
        if self._flusher is None:
            self._flusher = threading.Thread(
                target=_flush_loop,
                args=(weakref.ref(self), self._stop, self.flush_seconds),
                name="rollup-flusher",
                daemon=True,
            )
            self._flusher.start()
            atexit.register(self.close)

    def close(self) -> None:
        """Para o gravador em segundo plano e grava os deltas pendentes."""
        self._stop.set()
        try:
            self.flush_rollups()
        except StoreUnavailable:
            logger.exception("rollups pendentes não puderam ser gravados no encerramento")

    def _settle_uncertain(self) -> None:
        """Conta nos rollups as inserções incertas que, afinal, foram gravadas."""
        with self._uncertain_lock:
            pending = list(self._uncertain)
        for event_id in pending:
            try:
                existing = self.db[EVENTS].find_one({"_id": event_id}, {"ingestId": 1})
            except PyMongoError:
                return  # ainda fora do ar: fica para o próximo flush
            with self._uncertain_lock:
                candidates = self._uncertain.pop(event_id, None)
            if candidates is None:
                continue  # removido nesse meio-tempo (delete_event já acertou as contas)
            landed = candidates.get(existing.get("ingestId")) if existing is not None else None
            if landed is not None:
                self._track(landed, +1)

    def flush_rollups(self) -> int:
        """Grava os deltas pendentes com upserts ``$inc``; devolve quantas chaves foram gravadas."""
        if self._uncertain:
            self._settle_uncertain()
        with self._flush_lock:
            drained = self.rollups.drain()
            if not drained:
                return 0
            by_collection: dict[str, list[tuple[datetime, str, _Delta]]] = {}
            for (collection, bucket, key), delta in drained.items():
                by_collection.setdefault(collection, []).append((bucket, key, delta))

            def op() -> None:
                for collection, items in by_collection.items():
                    if self.in_memory:
                        self._inc_in_memory(collection, items)
                        continue
                    ops = [
                        UpdateOne(
                            {"_id": _rollup_id(bucket, key)},
                            {
                                "$inc": {"count": delta.count, "sum": delta.total},
                                "$setOnInsert": {"bucket": bucket, "key": key},
                            },
                            upsert=True,
                        )
                        for bucket, key, delta in items
                    ]
                    self.db[collection].bulk_write(ops, ordered=False)

            try:
                self._retrying("flush_rollups", op)
            except (StoreUnavailable, BulkWriteError):
                # Nada se perde: os deltas voltam para a próxima gravação. ($inc em
                # upsert não é idempotente; se parte foi aplicada, rebuild_rollups corrige.)
                self.rollups.restore(drained)
                raise StoreUnavailable("flush_rollups falhou") from None
            return len(drained)

    def _inc_in_memory(self, collection: str, items: list[tuple[datetime, str, _Delta]]) -> None:
        """O mesmo ``$inc`` com upsert, aplicado direto nos documentos do mongomock.

        No mongomock cada ``update_one`` varre a coleção inteira em Python (não há
        índice nem para ``_id``): mil chaves numa coleção de mil documentos custavam
        ~0,4 s de CPU segurando o GIL, o que travava o laço de eventos do servidor (p99
        da ingestão em centenas de ms). Aqui cada chave custa um acesso ao dicionário
        interno por ``_id`` — o mesmo que o mongomock faz num update (altera o
        documento guardado no lugar) — e as chaves novas entram por ``insert_many``.
        Equivalência com o caminho do pymongo: ``tests/events/test_store_fast_paths.py``.
        """
        target = self.db[collection]
        collection_store = target._store
        stored: dict[Any, dict[str, Any]] = collection_store._documents
        fresh: list[dict[str, Any]] = []
        # Trava de escrita do próprio mongomock: um leitor (aggregate) nunca vê
        # ``count`` já somado e ``sum`` ainda não.
        with collection_store._rwlock.writer():
            for bucket, key, delta in items:
                rollup_id = _rollup_id(bucket, key)
                document = stored.get(rollup_id)
                if document is None:
                    fresh.append(
                        {"_id": rollup_id, "bucket": bucket, "key": key, "count": delta.count, "sum": delta.total}
                    )
                else:
                    document["count"] += delta.count
                    document["sum"] += delta.total
        if fresh:
            target.insert_many(fresh, ordered=False)

    def rollup_totals(self, level: Level, window: Window) -> list[dict[str, Any]]:
        """Total por chave (tipo ou usuário) na janela: ``[{key, count, sum}]``."""
        pipeline = [
            {"$match": {"bucket": {"$gte": window.start, "$lt": window.end}}},
            {"$group": {"_id": "$key", "count": {"$sum": "$count"}, "sum": {"$sum": "$sum"}}},
            {"$match": {"count": {"$gt": 0}}},
            {"$sort": {"count": -1, "_id": 1}},
        ]
        rows = self._retrying("rollup_totals", lambda: list(self.db[level.collection].aggregate(pipeline)))
        return [{"key": row["_id"], "count": row["count"], "sum": row["sum"]} for row in rows]

    def rollup_top(self, level: Level, window: Window, top: int) -> dict[str, Any]:
        """Top ``top`` chaves por soma e por contagem, e o número de chaves distintas."""
        pipeline = [
            {"$match": {"bucket": {"$gte": window.start, "$lt": window.end}}},
            {"$group": {"_id": "$key", "count": {"$sum": "$count"}, "sum": {"$sum": "$sum"}}},
            {"$match": {"count": {"$gt": 0}}},
            {
                "$facet": {
                    "byValue": [{"$sort": {"sum": -1, "_id": 1}}, {"$limit": top}],
                    "byCount": [{"$sort": {"count": -1, "_id": 1}}, {"$limit": top}],
                    "distinct": [{"$count": "n"}],
                }
            },
        ]
        rows = self._retrying("rollup_top", lambda: list(self.db[level.collection].aggregate(pipeline)))
        facet = rows[0] if rows else {"byValue": [], "byCount": [], "distinct": []}

        def shape(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"key": row["_id"], "count": row["count"], "sum": row["sum"]} for row in items]

        distinct = facet["distinct"][0]["n"] if facet["distinct"] else 0
        return {"byValue": shape(facet["byValue"]), "byCount": shape(facet["byCount"]), "distinct": distinct}

    def rollup_series(self, level: Level, window: Window) -> list[dict[str, Any]]:
        """Baldes da janela em ordem: ``[{bucket, key, count, sum}]``."""

        def op() -> list[dict[str, Any]]:
            cursor = (
                self.db[level.collection]
                .find(
                    {"bucket": {"$gte": window.start, "$lt": window.end}, "count": {"$gt": 0}},
                    {"_id": 0, "bucket": 1, "key": 1, "count": 1, "sum": 1},
                )
                .sort([("bucket", ASCENDING), ("key", ASCENDING)])
            )
            return list(cursor)

        return self._retrying("rollup_series", op)

    def rebuild_rollups(self) -> int:
        """Recalcula todas as agregações a partir dos eventos; devolve quantos eventos leu.

        Constrói coleções novas e as troca pelas atuais (``renameCollection``), para
        que leitores nunca vejam uma agregação pela metade.
        """
        self.flush_rollups()
        with self._uncertain_lock:
            self._uncertain.clear()  # a varredura abaixo conta o que de fato foi gravado
        fresh = RollupBuffer()
        now = self.now()
        seen = 0
        projection = {"_id": 0, "timestamp": 1, "type": 1, "userId": 1, "value": 1}
        for doc in self.db[EVENTS].find({}, projection):
            fresh.add(doc, +1, now)
            seen += 1
        by_collection: dict[str, list[dict[str, Any]]] = {
            level.collection: [] for levels in LEVELS.values() for level in levels
        }
        for (collection, bucket, key), delta in fresh.drain().items():
            by_collection[collection].append(
                {"_id": _rollup_id(bucket, key), "bucket": bucket, "key": key, "count": delta.count, "sum": delta.total}
            )
        with self._flush_lock:
            for collection, docs in by_collection.items():
                staging = self.db[f"{collection}__rebuild"]
                staging.drop()
                if docs:
                    staging.insert_many(docs, ordered=False)
                    staging.rename(collection, dropTarget=True)
                else:
                    self.db[collection].delete_many({})
        self.ensure_indexes()
        return seen

    # --- leitura de eventos ---------------------------------------------------

    def get_event(self, event_id: ObjectId) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self._retrying("get_event", lambda: self.db[EVENTS].find_one({"_id": event_id}))
        return result

    def delete_event(self, event_id: ObjectId) -> dict[str, Any] | None:
        def op() -> dict[str, Any] | None:
            with self._write_lock:
                deleted: dict[str, Any] | None = self.db[EVENTS].find_one_and_delete({"_id": event_id})
                return deleted

        deleted = self._retrying("delete_event", op)
        if deleted is not None:
            with self._uncertain_lock:
                candidates = self._uncertain.get(deleted["_id"], {})
                never_counted = deleted.get("ingestId") in candidates
                if never_counted:
                    del self._uncertain[deleted["_id"]]
            if not never_counted:
                self._track(deleted, -1)
        return deleted

    def count_events(self, event_filter: EventFilter) -> int:
        if self.in_memory:
            if event_filter == EventFilter():
                # Sem filtro todo documento casa: o tamanho da coleção.
                return len(self.db[EVENTS]._store._documents)
            matched = self._scan_in_memory(event_filter, None, "timestamp", descending=False)
            if matched is not None:
                return len(matched)
        query = event_filter.to_mongo()
        return int(self._retrying("count_events", lambda: self.db[EVENTS].count_documents(query)))

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
        """Página de eventos ordenada por ``(sort_field, _id)``.

        Com ``after`` usa paginação por chave (custo independente da profundidade);
        sem ele, ``skip``/``limit`` clássico.
        """
        if self.in_memory:
            page = self._list_in_memory(event_filter, sort_field, descending, limit, skip, after)
            if page is not None:
                return page
        return self._list_pymongo(event_filter, sort_field, descending, limit, skip, after)

    def _list_pymongo(
        self,
        event_filter: EventFilter,
        sort_field: SortField,
        descending: bool,
        limit: int,
        skip: int,
        after: KeysetPosition | None,
    ) -> list[dict[str, Any]]:
        query = event_filter.to_mongo()
        if after is not None:
            op = "$lt" if descending else "$gt"
            keyset = {
                "$or": [
                    {sort_field: {op: after.value}},
                    {sort_field: after.value, "_id": {op: after.event_id}},
                ]
            }
            query = {"$and": [query, keyset]} if query else keyset
        direction = DESCENDING if descending else ASCENDING
        order = [(sort_field, direction), ("_id", direction)]

        def op_list() -> list[dict[str, Any]]:
            return list(self.db[EVENTS].find(query).sort(order).skip(skip).limit(limit))

        return self._retrying("list_events", op_list)

    # --- listagem em memória -------------------------------------------------------
    #
    # O mongomock ordena com comparações BSON em Python puro e copia todos os
    # documentos que casam antes de aplicar skip/limit: ~1–2 s por página com 20k
    # eventos e ~1 min com 1M. Para o armazenamento em memória, a mesma consulta é
    # feita direto sobre os documentos guardados: filtro em Python, as ``skip + limit``
    # primeiras chaves ``(campo, _id)`` por ``heapq`` e cópia só da página. Só vale para
    # documentos no formato que o próprio store grava (textos, números, datas, ObjectId);
    # qualquer outra coisa devolve ``None`` e a consulta vai para o mongomock. A
    # equivalência com o mongomock é verificada por propriedade em
    # ``tests/events/test_store_list_in_memory.py``.

    def _scan_in_memory(
        self,
        event_filter: EventFilter,
        after: KeysetPosition | None,
        sort_field: SortField,
        *,
        descending: bool,
    ) -> list[tuple[Any, ObjectId, dict[str, Any]]] | None:
        """``(valor de ordenação, _id, documento guardado)`` dos eventos que casam; ``None``: use o mongomock."""
        helpers = _mongomock_helpers()
        collection_store = self.db[EVENTS]._store
        with collection_store._rwlock.reader():
            # dict.values direto: iterar um OrderedDict busca cada chave de novo, e o hash
            # de um ObjectId é Python puro (a ordem não importa; quem ordena somos nós).
            stored = list(dict.values(collection_store._documents))
        types = frozenset(event_filter.types)
        user_id = event_filter.user_id
        # O mongomock guarda datas sem fuso, em UTC e com milissegundos (como o BSON).
        start, end = (
            None if moment is None else helpers.patch_datetime_awareness_in_document(moment)
            for moment in (event_filter.start, event_filter.end)
        )
        after_value = after_id = None
        if after is not None:
            after_value = helpers.patch_datetime_awareness_in_document(after.value)
            after_id = after.event_id
            if not _comparable(sort_field, after_value) or type(after_id) is not ObjectId:
                return None
        matched: list[tuple[Any, ObjectId, dict[str, Any]]] = []
        append = matched.append
        allowed = _SORT_TYPES[sort_field]
        by_time = start is not None or end is not None
        # Só os campos que a consulta usa precisam ter o tipo esperado; os demais não
        # mudam o resultado. Um tipo inesperado (ex.: array) devolve a consulta ao mongomock.
        for doc in stored:
            value = doc.get(sort_field)
            event_id = doc.get("_id")
            if type(value) not in allowed or value != value or type(event_id) is not ObjectId:
                return None
            if types:
                event_type = doc.get("type")
                if type(event_type) is not str:
                    return None
                if event_type not in types:
                    continue
            if user_id is not None:
                owner = doc.get("userId")
                if type(owner) is not str:
                    return None
                if owner != user_id:
                    continue
            if by_time:
                timestamp = doc.get("timestamp")
                if type(timestamp) is not datetime:
                    return None
                if (start is not None and timestamp < start) or (end is not None and timestamp >= end):
                    continue
            if after is not None:
                if descending:
                    beyond = value < after_value or (value == after_value and event_id < after_id)
                else:
                    beyond = value > after_value or (value == after_value and event_id > after_id)
                if not beyond:
                    continue
            append((value, event_id, doc))
        return matched

    def _list_in_memory(
        self,
        event_filter: EventFilter,
        sort_field: SortField,
        descending: bool,
        limit: int,
        skip: int,
        after: KeysetPosition | None,
    ) -> list[dict[str, Any]] | None:
        matched = self._scan_in_memory(event_filter, after, sort_field, descending=descending)
        if matched is None:
            return None
        key = operator.itemgetter(0, 1)
        if limit > 0:
            pick = heapq.nlargest if descending else heapq.nsmallest
            ordered = pick(skip + limit, matched, key=key)[skip:]
        else:  # limit 0 no pymongo: sem limite
            ordered = sorted(matched, key=key, reverse=descending)[skip:]
        # A mesma forma que o find() do mongomock devolve: uma cópia (com fuso UTC nas
        # datas quando o cliente é tz_aware, como o nosso).
        if self.db.codec_options.tz_aware:
            aware = _mongomock_helpers().make_datetime_timezone_aware_in_document
            return [aware(doc) for _, _, doc in ordered]
        return [copy.deepcopy(doc) for _, _, doc in ordered]

    def events_after_seq(
        self,
        seq: int,
        *,
        limit: int,
        types: tuple[str, ...] = (),
        user_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """Eventos com ``seq`` maior que o cursor, em ordem (retomada do feed).

        ``types``/``user_id`` aplicam no servidor o mesmo filtro da assinatura do socket.
        """
        query = {"seq": {"$gt": seq}, **EventFilter(types=types, user_id=user_id).to_mongo()}

        def op() -> list[dict[str, Any]]:
            cursor = self.db[EVENTS].find(query).sort([("seq", ASCENDING)]).limit(limit)
            return list(cursor)

        return self._retrying("events_after_seq", op)

    def last_seq(self) -> int:
        if self.in_memory:
            with self._seq_lock:
                self._seq = self._stored_seq() if self._seq is None else self._seq
                return self._seq
        return self._stored_seq()

    def _stored_seq(self) -> int:
        counter = self._retrying("last_seq", lambda: self.db[COUNTERS].find_one({"_id": EVENTS}))
        return int(counter["seq"]) if counter else 0

    # --- quarentena -----------------------------------------------------------

    def record_rejection(self, record: dict[str, Any]) -> None:
        """Grava uma entrega rejeitada; mantém a coleção limitada em tamanho."""
        self.db[REJECTED].insert_one(dict(record))
        self._rejections_since_trim += 1
        if self._rejections_since_trim >= 100:
            self._rejections_since_trim = 0
            self._trim_rejections(settings.QUARANTINE_MAX_DOCS)

    def _trim_rejections(self, keep: int) -> None:
        collection = self.db[REJECTED]
        cutoff = list(collection.find({}, {"receivedAt": 1}).sort("receivedAt", DESCENDING).skip(keep).limit(1))
        if cutoff:
            collection.delete_many({"receivedAt": {"$lte": cutoff[0]["receivedAt"]}})

    def list_rejections(self, *, reason: str | None = None, limit: int = 100, skip: int = 0) -> list[dict[str, Any]]:
        query = {"reason": reason} if reason else {}
        return list(self.db[REJECTED].find(query).sort("receivedAt", DESCENDING).skip(skip).limit(limit))

    def count_rejections(self, *, reason: str | None = None) -> int:
        return int(self.db[REJECTED].count_documents({"reason": reason} if reason else {}))

    def get_rejection(self, rejection_id: ObjectId) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.db[REJECTED].find_one({"_id": rejection_id})
        return result

    def rejections_by_reason(self) -> dict[str, int]:
        rows = self.db[REJECTED].aggregate([{"$group": {"_id": "$reason", "n": {"$sum": 1}}}])
        return {row["_id"]: row["n"] for row in rows}

    def iter_events(self, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Percorre todos os eventos (exportações e verificações)."""
        yield from self.db[EVENTS].find({}).batch_size(batch_size)


def _flush_loop(store_ref: weakref.ref[EventStore], stop: threading.Event, interval: float) -> None:
    wait = interval
    while not stop.wait(wait):
        store = store_ref()
        if store is None:
            return
        started = time.monotonic()
        try:
            store.flush_rollups()
        except StoreUnavailable:
            logger.warning("gravação de rollups adiada: armazenamento indisponível")
        except OperationFailure:
            logger.exception("gravação de rollups falhou")
        del store
        wait = flush_wait(interval, time.monotonic() - started)


@cache
def get_store() -> EventStore:
    """O armazenamento do processo (um ``MongoClient`` por processo)."""
    target = create_client(
        settings.MONGO_URI,
        server_selection_timeout_ms=settings.MONGO_SERVER_SELECTION_TIMEOUT_MS,
        operation_timeout_ms=settings.MONGO_TIMEOUT_MS,
    )
    return EventStore(
        target.client,
        target.db_name,
        in_memory=target.in_memory,
        flush_seconds=settings.ROLLUP_FLUSH_SECONDS,
        write_attempts=settings.MONGO_WRITE_RETRIES,
    )
