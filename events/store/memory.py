"""O adaptador em memória: o dublê do MongoDB para testes e para a demo (``MONGO_URI=mongomock://``).

Cumpre o mesmo contrato do ``MongoStore`` (``contract.EventStore``; a mesma suíte
de contrato roda contra os dois), com estruturas próprias onde o mongomock seria
lento demais — ele é um dublê fiel, não um banco: toda consulta é uma varredura em
Python (``find_one`` por ``_id`` em 50 mil documentos: ~41 ms).

* Eventos, lápides e índices ordenados (tempo, valor, ``seq``, por tipo e por
  usuário, em ``sortedcontainers``) ficam em estruturas deste módulo; as
  agregações são dicionários por (família, nível) → balde → chave, atualizados na
  mesma trava da gravação (não há lote pendente: em memória não há queda da qual
  se recuperar — o processo que cai leva os dados junto).
* A quarentena, de volume baixo, vai para o mongomock pela API pública, com o
  mesmo código do adaptador de produção (``quarantine.py``).
* Os alertas e o estado da avaliação (intervalos sem repetição, estatísticas das
  anomalias) ficam em dicionários, com a semântica de ``alerts.py`` (a suíte de contrato
  confere): são lidos ou gravados a cada evento, e no mongomock cada gravação valida e
  copia o documento e cada ``find_one`` por ``_id`` varre a coleção.

Nada aqui toca atributos privados do mongomock nem substitui métodos dele. Este
módulo só é importado quando o ``MONGO_URI`` pede o armazenamento em memória; o
mongomock e o sortedcontainers são dependências de desenvolvimento.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
from bson import ObjectId
from sortedcontainers import SortedDict, SortedList

from events.alerts.domain import AlertFilter, AlertPosition
from events.alerts.rules import Stats
from events.buckets import LEVELS, MINUTE_TTL, Family, Level, Segment
from events.domain import EventDocument, EventFilter, KeysetPosition, SortField
from events.store import queries
from events.store.contract import BucketRow, GroupBy, GroupRow, InsertOutcome, StoreKind
from events.store.events import classify_existing, tombstone
from events.store.quarantine import REJECTED, Quarantine
from events.store.rollups import contributions

# A cada tantas gravações, os baldes de minuto além da retenção são descartados
# (no MongoDB, o índice TTL faz isso).
_PRUNE_EVERY = 1000
_MIN = queries.MIN_TIMESTAMP
_MAX_ID = ObjectId("f" * 24)
_MIN_ID = ObjectId("0" * 24)

# Chave de índice ordenado: (valor de ordenação, _id).
_IndexKey = tuple[Any, ObjectId]
# Agregação guardada: [contagem, soma].
_Cell = list[Any]


class InMemoryStore:
    """``EventStore`` em memória; seguro entre threads (uma trava para eventos e agregações)."""

    def __init__(self, db_name: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.client: Any = mongomock.MongoClient(tz_aware=True)
        self.db = self.client[db_name]
        self.now: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.quarantine = Quarantine(self.db[REJECTED])
        self._lock = threading.RLock()
        # O mongomock não é atômico entre threads: as operações de alerta passam por esta trava.
        self._alerts_lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._docs: dict[ObjectId, dict[str, Any]] = {}
        self._tombstones: dict[ObjectId, dict[str, Any]] = {}
        self._by_time: SortedList = SortedList()
        self._by_value: SortedList = SortedList()
        self._by_type: dict[str, SortedList] = {}
        self._by_user: dict[str, SortedList] = {}
        # (tipo, usuário): as janelas das regras de alerta (frequência, sequência) leem por aqui.
        self._by_type_user: dict[tuple[str, str], SortedList] = {}
        # (seq, _id) em ordem de gravação: o seq é reservado e gravado sob a mesma trava.
        self._by_seq: list[tuple[int, ObjectId]] = []
        self._seq = 0
        self._rollups: dict[tuple[Family, Level], SortedDict] = {
            (family, level): SortedDict() for family in Family for level in LEVELS
        }
        self._writes_since_prune = 0
        # Estado da avaliação dos alertas: (regra, usuário) → (próximo disparo, quem reivindicou) e
        # (tipo, usuário) → (estatística, última amostra, estatística antes dela). Em dicionários,
        # não no mongomock: cada evento os lê, e um find_one por _id no mongomock varre a coleção.
        self._cooldowns: dict[str, tuple[datetime, str]] = {}
        self._samples: dict[str, tuple[Stats, str, Stats]] = {}
        # Os alertas também: gravar no mongomock custava ~2/3 da avaliação (validação e cópias).
        self._alerts: dict[ObjectId, dict[str, Any]] = {}
        self._alerts_by_time: SortedList = SortedList()

    @property
    def kind(self) -> StoreKind:
        return "in-memory"

    # --- infraestrutura ------------------------------------------------------------

    def ping(self) -> bool:
        return True

    def ensure_indexes(self) -> list[str]:
        # Os índices dos eventos e das agregações são as estruturas deste módulo.
        return self.quarantine.declare_indexes()

    def drop_all(self) -> None:
        with self._lock:
            self._reset()
            for name in self.db.list_collection_names():
                self.db.drop_collection(name)
            self.quarantine.reset()

    def close(self) -> None:
        """Nada pendente: as agregações em memória são atualizadas na gravação."""

    # --- ingestão e remoção ----------------------------------------------------------

    def insert_event(self, doc: EventDocument) -> InsertOutcome:
        document: dict[str, Any] = _clone(dict(doc))
        with self._lock:
            existing = self._docs.get(document["_id"]) or self._tombstones.get(document["_id"])
            if existing is not None:
                return classify_existing(_clone(existing), document)
            self._seq += 1
            document["seq"] = self._seq
            self._add(document, count=True)
        return InsertOutcome("created", _clone(document))

    def insert_events_bulk(self, docs: list[EventDocument], *, track_rollups: bool = True) -> int:
        inserted = 0
        with self._lock:
            for doc in docs:
                if doc["_id"] in self._docs or doc["_id"] in self._tombstones:
                    continue
                self._seq += 1
                document = _clone(dict(doc))
                document["seq"] = self._seq
                self._add(document, count=track_rollups)
                inserted += 1
        return inserted

    def delete_event(self, event_id: ObjectId) -> dict[str, Any] | None:
        with self._lock:
            document = self._docs.pop(event_id, None)
            if document is None:
                return None
            for index, key in self._index_entries(document):
                index.discard(key)
            stone = tombstone(document, deleted_at=self.now())
            self._tombstones[event_id] = stone
            self._apply([stone])
        deleted: dict[str, Any] = _clone(document)
        return deleted

    def _add(self, document: dict[str, Any], *, count: bool) -> None:
        event_id = document["_id"]
        self._docs[event_id] = document
        for index, key in self._index_entries(document):
            index.add(key)
        self._by_seq.append((document["seq"], event_id))
        if count:
            self._apply([document])

    def _index_entries(self, document: dict[str, Any]) -> Iterator[tuple[SortedList, _IndexKey]]:
        event_id, timestamp = document["_id"], document["timestamp"]
        yield self._by_time, (timestamp, event_id)
        yield self._by_value, (document["value"], event_id)
        yield self._by_type.setdefault(document["type"], SortedList()), (timestamp, event_id)
        yield self._by_user.setdefault(document["userId"], SortedList()), (timestamp, event_id)
        pair = (document["type"], document["userId"])
        yield self._by_type_user.setdefault(pair, SortedList()), (timestamp, event_id)

    def _apply(self, documents: Iterable[dict[str, Any]]) -> None:
        """Soma as contribuições nas agregações (as mesmas que o MongoDB recebe, ``contributions``)."""
        now = self.now()
        for document in documents:
            for level, bucket, event_type, user_id, sign, value in contributions(document, now):
                for family, key in ((Family.TYPE, event_type), (Family.USER, (event_type, user_id))):
                    buckets = self._rollups[(family, level)]
                    cells: dict[Any, _Cell] | None = buckets.get(bucket)
                    if cells is None:
                        cells = buckets[bucket] = {}
                    cell = cells.get(key)
                    if cell is None:
                        cells[key] = [sign, sign * value]
                    else:
                        cell[0] += sign
                        cell[1] += sign * value
        self._writes_since_prune += 1
        if self._writes_since_prune >= _PRUNE_EVERY:
            self._writes_since_prune = 0
            self._prune(now)

    def _prune(self, now: datetime) -> None:
        cutoff = now - MINUTE_TTL
        for (_family, level), buckets in self._rollups.items():
            if level.retention is None:
                continue
            for bucket in list(buckets.irange(maximum=cutoff, inclusive=(True, False))):
                del buckets[bucket]

    # --- leitura de eventos ----------------------------------------------------------

    def get_event(self, event_id: ObjectId) -> dict[str, Any] | None:
        with self._lock:
            document = self._docs.get(event_id)
            return _clone(document) if document is not None else None

    def _candidates(self, event_filter: EventFilter, *, reverse: bool) -> Iterator[dict[str, Any]]:
        """Eventos que passam no filtro, em ordem de ``(timestamp, _id)`` (o índice mais estreito)."""
        start = event_filter.start or _MIN
        lists: list[SortedList]
        if event_filter.user_id is not None and event_filter.types:
            lists = self._type_user_lists(event_filter)
            if not lists:
                return
        elif event_filter.user_id is not None:
            lists = [self._by_user.get(event_filter.user_id, SortedList())]
        elif event_filter.types:
            lists = [self._by_type[name] for name in event_filter.types if name in self._by_type]
        else:
            lists = [self._by_time]
        low = (start, _MIN_ID)
        ranges = [
            index.irange(low, (event_filter.end, _MIN_ID) if event_filter.end else None, (True, False), reverse=reverse)
            for index in lists
        ]
        keys: Iterable[_IndexKey] = ranges[0] if len(ranges) == 1 else _merge(ranges, reverse=reverse)
        for _moment, event_id in keys:
            document = self._docs[event_id]
            if event_filter.matches(document):
                yield document

    def _type_user_lists(self, event_filter: EventFilter) -> list[SortedList]:
        user_id = str(event_filter.user_id)
        return [
            self._by_type_user[key]
            for key in ((name, user_id) for name in event_filter.types)
            if key in self._by_type_user
        ]

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
        with self._lock:
            if sort_field == "timestamp":
                if after is not None:
                    event_filter = _narrow_to_cursor(event_filter, after, descending)
                matched: Iterable[dict[str, Any]] = self._candidates(event_filter, reverse=descending)
                if after is not None:
                    matched = (doc for doc in matched if _beyond(doc, "timestamp", after, descending))
            else:
                matched = self._by_value_order(event_filter, descending, after)
            stop = skip + limit if limit > 0 else None
            return [_clone(doc) for doc in itertools.islice(matched, skip, stop)]

    def _by_value_order(
        self, event_filter: EventFilter, descending: bool, after: KeysetPosition | None
    ) -> Iterator[dict[str, Any]]:
        if after is None:
            keys = self._by_value.irange(reverse=descending)
        elif descending:
            keys = self._by_value.irange(maximum=(after.value, after.event_id), inclusive=(True, False), reverse=True)
        else:
            keys = self._by_value.irange(minimum=(after.value, after.event_id), inclusive=(False, True))
        for _value, event_id in keys:
            document = self._docs[event_id]
            if event_filter.matches(document):
                yield document

    def count_events(self, event_filter: EventFilter) -> int:
        with self._lock:
            if event_filter.types and event_filter.user_id is None:
                lists = [self._by_type[name] for name in event_filter.types if name in self._by_type]
            elif not event_filter.types and event_filter.user_id is not None:
                lists = [self._by_user.get(event_filter.user_id, SortedList())]
            elif not event_filter.types:
                lists = [self._by_time]
            else:
                lists = self._type_user_lists(event_filter)
            low = (event_filter.start or _MIN, _MIN_ID)
            total = 0
            for index in lists:
                first = index.bisect_left(low)
                last = index.bisect_left((event_filter.end, _MIN_ID)) if event_filter.end else len(index)
                total += max(0, last - first)
            return total

    def iter_events(self, event_filter: EventFilter, *, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Em ordem de tempo, em lotes: a trava é solta entre um lote e outro."""
        after: KeysetPosition | None = None
        while True:
            page = self.list_events(
                event_filter, sort_field="timestamp", descending=False, limit=batch_size, after=after
            )
            yield from page
            if len(page) < batch_size:
                return
            after = KeysetPosition(page[-1]["timestamp"], page[-1]["_id"])

    def events_after_seq(
        self,
        seq: int,
        *,
        limit: int,
        upto: int | None = None,
        types: tuple[str, ...] = (),
        user_id: str | None = None,
    ) -> list[dict[str, Any]]:
        wanted = EventFilter(types=types, user_id=user_id)
        out: list[dict[str, Any]] = []
        with self._lock:
            position = _bisect_seq(self._by_seq, seq)
            for event_seq, event_id in itertools.islice(self._by_seq, position, None):
                if upto is not None and event_seq > upto:
                    break
                document = self._docs.get(event_id)
                if document is None or not wanted.matches(document):
                    continue
                out.append(_clone(document))
                if len(out) >= limit:
                    break
        return out

    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    # --- agregações ------------------------------------------------------------------

    def group(self, segment: Segment, *, by: GroupBy, event_filter: EventFilter) -> list[GroupRow]:
        totals: dict[str, list[Any]] = {}
        with self._lock:
            if segment.level is None:
                for document in self._candidates(event_filter.within(segment.start, segment.end), reverse=False):
                    cell = totals.setdefault(document[by], [0, 0.0])
                    cell[0] += 1
                    cell[1] += document["value"]
            else:
                for (event_type, user_id), count, value in self._cells(segment, event_filter, by):
                    cell = totals.setdefault(event_type if by == "type" else str(user_id), [0, 0.0])
                    cell[0] += count
                    cell[1] += value
        return [GroupRow(key=key, count=count, sum=value) for key, (count, value) in totals.items() if count > 0]

    def series(self, segment: Segment, *, event_filter: EventFilter) -> list[BucketRow]:
        if segment.level is None:
            raise ValueError("series() só lê baldes; segmentos brutos vão por group()")
        totals: dict[tuple[datetime, str], list[Any]] = {}
        with self._lock:
            for bucket, event_type, count, value in self._bucket_cells(segment, event_filter):
                cell = totals.setdefault((bucket, event_type), [0, 0.0])
                cell[0] += count
                cell[1] += value
        return [
            BucketRow(bucket=bucket, type=event_type, count=count, sum=value)
            for (bucket, event_type), (count, value) in sorted(totals.items())
            if count > 0
        ]

    def _cells(
        self, segment: Segment, event_filter: EventFilter, by: GroupBy
    ) -> Iterator[tuple[tuple[str, str | None], int, float]]:
        family = Family.TYPE if by == "type" and event_filter.user_id is None else Family.USER
        for _bucket, key, count, value in self._family_cells(family, segment, event_filter):
            yield key, count, value

    def _bucket_cells(self, segment: Segment, event_filter: EventFilter) -> Iterator[tuple[datetime, str, int, float]]:
        family = Family.TYPE if event_filter.user_id is None else Family.USER
        for bucket, (event_type, _user), count, value in self._family_cells(family, segment, event_filter):
            yield bucket, event_type, count, value

    def _family_cells(
        self, family: Family, segment: Segment, event_filter: EventFilter
    ) -> Iterator[tuple[datetime, tuple[str, str | None], int, float]]:
        if segment.level is None:
            raise ValueError("segmento bruto não tem baldes")
        types = frozenset(event_filter.types)
        buckets = self._rollups[(family, segment.level)]
        for bucket in buckets.irange(segment.start, segment.end, inclusive=(True, False)):
            for key, (count, value) in buckets[bucket].items():
                event_type, user_id = (key, None) if family is Family.TYPE else key
                if types and event_type not in types:
                    continue
                if event_filter.user_id is not None and user_id != event_filter.user_id:
                    continue
                yield bucket, (event_type, user_id), count, value

    def flush_rollups(self) -> int:
        return 0

    def rebuild_rollups(self) -> int:
        with self._lock:
            for buckets in self._rollups.values():
                buckets.clear()
            self._apply(self._docs.values())
            return len(self._docs)

    # --- quarentena ------------------------------------------------------------------

    def record_rejection(self, record: dict[str, Any]) -> None:
        self.quarantine.record(record)

    def list_rejections(self, *, reason: str | None = None, limit: int = 100, skip: int = 0) -> list[dict[str, Any]]:
        return self.quarantine.page(reason=reason, limit=limit, skip=skip)

    def count_rejections(self, *, reason: str | None = None) -> int:
        return self.quarantine.count(reason=reason)

    def get_rejection(self, rejection_id: ObjectId) -> dict[str, Any] | None:
        return self.quarantine.get(rejection_id)

    def rejections_by_reason(self) -> dict[str, int]:
        return self.quarantine.by_reason()

    # --- alertas ---------------------------------------------------------------------

    def insert_alert(self, alert: dict[str, Any]) -> bool:
        with self._alerts_lock:
            if alert["_id"] in self._alerts:
                return False
            self._alerts[alert["_id"]] = _clone(alert)
            self._alerts_by_time.add((alert["triggeredAt"], alert["_id"]))
            return True

    def claim_alert_cooldown(self, key: str, *, at: datetime, cooldown: timedelta, claim: str) -> bool:
        """A mesma regra de ``AlertStore.claim_cooldown``, num dicionário sob a trava."""
        with self._alerts_lock:
            current = self._cooldowns.get(key)
            if current is not None and current[0] > at:
                return current[1] == claim
            self._cooldowns[key] = (at + cooldown, claim)
            return True

    def add_alert_sample(self, key: str, value: float, *, sample_id: str) -> tuple[int, float, float]:
        """A mesma regra de ``AlertStore.add_sample``, num dicionário sob a trava."""
        with self._alerts_lock:
            current = self._samples.get(key)
            if current is not None and current[1] == sample_id:
                before = current[2]
            else:
                before = current[0] if current is not None else Stats()
                self._samples[key] = (before.add(value), sample_id, before)
            return before.n, before.mean, before.m2

    def get_alert(self, alert_id: ObjectId) -> dict[str, Any] | None:
        with self._alerts_lock:
            found = self._alerts.get(alert_id)
            return _clone(found) if found is not None else None

    def list_alerts(
        self, alert_filter: AlertFilter, *, limit: int, after: AlertPosition | None = None
    ) -> list[dict[str, Any]]:
        with self._alerts_lock:
            if after is None:
                keys = self._alerts_by_time.irange(reverse=True)
            else:
                high = (after.triggered_at, after.alert_id)
                keys = self._alerts_by_time.irange(maximum=high, inclusive=(True, False), reverse=True)
            matched = (self._alerts[alert_id] for _moment, alert_id in keys)
            return [_clone(doc) for doc in itertools.islice(filter(alert_filter.matches, matched), limit)]

    def acknowledge_alert(self, alert_id: ObjectId, *, by: str, at: datetime) -> dict[str, Any] | None:
        with self._alerts_lock:
            found = self._alerts.get(alert_id)
            if found is None:
                return None
            if found["state"] == "open":
                found.update(state="acknowledged", ackBy=by, ackAt=at)
            acknowledged: dict[str, Any] = _clone(found)
            return acknowledged


def _clone(value: Any) -> Any:
    """Cópia dos contêineres (dict, list); folhas imutáveis (datas, ObjectId, textos, números) são as mesmas.

    Quem recebe um documento pode alterá-lo sem mexer no guardado — o que o pymongo
    garante por construção (cada leitura decodifica o BSON de novo) — sem o custo de um
    ``deepcopy``, que recria cada ``datetime`` e ``ObjectId`` (era o maior custo da ingestão).
    """
    kind = type(value)
    if kind is dict:
        return {key: _clone(item) for key, item in value.items()}
    if kind is list:
        return [_clone(item) for item in value]
    return value


def _beyond(doc: dict[str, Any], field: str, after: KeysetPosition, descending: bool) -> bool:
    value, event_id = doc[field], doc["_id"]
    if descending:
        return bool(value < after.value or (value == after.value and event_id < after.event_id))
    return bool(value > after.value or (value == after.value and event_id > after.event_id))


def _narrow_to_cursor(event_filter: EventFilter, after: KeysetPosition, descending: bool) -> EventFilter:
    """Estreita a janela do filtro até o instante do cursor (o desempate por ``_id`` é de ``_beyond``)."""
    moment: datetime = after.value
    if descending:
        # ``end`` é exclusivo: o próprio instante do cursor ainda pode ter ids menores.
        limit = moment + timedelta(milliseconds=1)
        end = limit if event_filter.end is None else min(event_filter.end, limit)
        return event_filter.within(event_filter.start, end)
    start = moment if event_filter.start is None else max(event_filter.start, moment)
    return event_filter.within(start, event_filter.end)


def _merge(ranges: list[Iterator[_IndexKey]], *, reverse: bool) -> Iterator[_IndexKey]:
    return heapq.merge(*ranges, reverse=reverse)


def _bisect_seq(by_seq: list[tuple[int, ObjectId]], seq: int) -> int:
    return bisect.bisect_right(by_seq, (seq, _MAX_ID))
