"""EventStore: caminhos rápidos (repetição sem tenacity no caminho feliz, ``seq`` em memória,
gravador de rollups que se espaça sob carga, cursor linear do mongomock)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import mongomock.collection
import pytest
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from events import store as store_module
from events.buckets import LEVELS
from events.store import EventStore, StoreUnavailable, flush_wait

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def make_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": ObjectId(),
        "userId": "u1",
        "type": "purchase",
        "value": 10.0,
        "timestamp": NOW - timedelta(minutes=5),
        "receivedAt": NOW,
        "bodyHash": "h",
        "ingestId": str(ObjectId()),
        "schemaVersion": 1,
    }
    doc.update(overrides)
    return doc


class Flaky:
    """Função que falha com ``error`` nas primeiras ``failures`` chamadas."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Registra as esperas do recuo em vez de dormir."""
    recorded: list[float] = []
    # O primeiro recuo (events.store) e os seguintes (tenacity.nap) usam time.sleep.
    monkeypatch.setattr("time.sleep", recorded.append)
    return recorded


# --- repetição ---------------------------------------------------------------------


def test_happy_path_does_not_build_a_tenacity_retrier(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Retrying construído no caminho feliz")

    monkeypatch.setattr(store_module, "Retrying", forbidden)

    assert store._retrying("op", lambda: 42) == 42


def test_one_transient_failure_waits_the_first_backoff_then_succeeds(store: EventStore, sleeps: list[float]) -> None:
    fn = Flaky(failures=1, error=AutoReconnect("primary stepped down"))

    assert store._retrying("op", fn) == "ok"

    assert fn.calls == 2
    assert len(sleeps) == 1
    assert 0.05 <= sleeps[0] <= 0.1


def test_transient_failures_use_every_attempt_with_growing_backoff(store: EventStore, sleeps: list[float]) -> None:
    store.write_attempts = 4
    fn = Flaky(failures=10, error=AutoReconnect("down"))

    with pytest.raises(StoreUnavailable, match="op: down"):
        store._retrying("op", fn)

    assert fn.calls == 4
    assert len(sleeps) == 3
    assert 0.05 <= sleeps[0] <= 0.1
    assert 0.1 <= sleeps[1] <= 0.15
    assert 0.2 <= sleeps[2] <= 0.25


def test_a_single_attempt_means_no_retry(store: EventStore, sleeps: list[float]) -> None:
    store.write_attempts = 1
    fn = Flaky(failures=1, error=AutoReconnect("down"))

    with pytest.raises(StoreUnavailable):
        store._retrying("op", fn)

    assert fn.calls == 1
    assert sleeps == []


def test_non_transient_errors_are_not_retried(store: EventStore, sleeps: list[float]) -> None:
    fn = Flaky(failures=1, error=OperationFailure("bad query"))

    with pytest.raises(StoreUnavailable, match="bad query"):
        store._retrying("op", fn)

    assert fn.calls == 1
    assert sleeps == []


def test_duplicate_key_errors_reach_the_caller(store: EventStore, sleeps: list[float]) -> None:
    fn = Flaky(failures=1, error=DuplicateKeyError("E11000"))

    with pytest.raises(DuplicateKeyError):
        store._retrying("op", fn)

    assert fn.calls == 1


# --- seq ---------------------------------------------------------------------------


def test_sequence_numbers_continue_across_single_and_bulk_inserts(store: EventStore) -> None:
    first = store.insert_event(make_doc()).document["seq"]  # type: ignore[arg-type]
    store.insert_events_bulk([make_doc(), make_doc()])  # type: ignore[list-item]
    last = store.insert_event(make_doc()).document["seq"]  # type: ignore[arg-type]

    assert (first, last) == (1, 4)
    assert store.last_seq() == 4
    assert [doc["seq"] for doc in store.events_after_seq(0, limit=10)] == [1, 2, 3, 4]


def test_dropping_the_store_restarts_the_sequence(store: EventStore) -> None:
    store.insert_event(make_doc())  # type: ignore[arg-type]
    store.drop_all()

    assert store.last_seq() == 0
    assert store.insert_event(make_doc()).document["seq"] == 1  # type: ignore[arg-type]


def test_concurrent_inserts_get_distinct_gap_free_sequence_numbers(store: EventStore) -> None:
    seqs: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            seq = store.insert_event(make_doc()).document["seq"]  # type: ignore[arg-type]
            with lock:
                seqs.append(seq)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seqs) == list(range(1, 101))
    assert store.last_seq() == 100


# --- intervalo do gravador de rollups ------------------------------------------------


def test_cheap_flushes_keep_the_configured_interval() -> None:
    assert flush_wait(1.0, 0.02) == 1.0


def test_expensive_flushes_stretch_the_interval_to_bound_the_flusher_share() -> None:
    wait = flush_wait(1.0, 0.4)

    assert wait == pytest.approx(3.6)
    assert 0.4 / (0.4 + wait) == pytest.approx(0.1)


def test_the_stretched_interval_is_capped() -> None:
    assert flush_wait(1.0, 30.0) == 10.0


# --- cursor do mongomock -------------------------------------------------------------


@pytest.mark.mongomock_only
@pytest.mark.parametrize(
    ("skip", "limit", "direction"),
    [(0, 0, ASCENDING), (0, 7, DESCENDING), (5, 0, ASCENDING), (5, 7, DESCENDING), (18, 7, ASCENDING), (40, 3, 1)],
)
def test_linear_mongomock_cursor_returns_what_the_original_slicing_returns(
    store: EventStore, skip: int, limit: int, direction: int
) -> None:
    collection = store.db["cursor_check"]
    collection.insert_many([{"n": index % 6, "k": index} for index in range(20)])

    def cursor() -> Any:
        return collection.find({"k": {"$gte": 2}}).sort([("n", direction), ("k", direction)]).skip(skip).limit(limit)

    # O comportamento original: a lista calculada, recortada por skip/limit.
    expected = cursor()._compute_results(with_limit_and_skip=True)

    assert list(cursor()) == expected
    assert [doc["k"] for doc in collection.aggregate([{"$sort": {"k": -1}}, {"$limit": 3}])] == [19, 18, 17]


@pytest.mark.mongomock_only
def test_linear_mongomock_cursor_is_installed_once_by_in_memory_stores() -> None:
    patched = mongomock.collection.Cursor.__next__
    EventStore(mongomock.MongoClient(tz_aware=True), "again", in_memory=True)

    assert mongomock.collection.Cursor.__next__ is patched
    assert getattr(mongomock.collection.Cursor, "_tm_linear", False)


# --- gravação de rollups em memória ----------------------------------------------------


def rollup_state(store: EventStore) -> dict[str, list[dict[str, Any]]]:
    return {
        level.collection: sorted(store.db[level.collection].find({}), key=lambda doc: doc["_id"])
        for levels in LEVELS.values()
        for level in levels
    }


def test_in_memory_rollup_flush_matches_the_pymongo_upserts() -> None:
    rng = random.Random(7)
    in_memory = EventStore(mongomock.MongoClient(tz_aware=True), "flush_memory", in_memory=True, flush_seconds=0)
    upserts = EventStore(mongomock.MongoClient(tz_aware=True), "flush_upserts", in_memory=False, flush_seconds=0)
    for target in (in_memory, upserts):
        target.now = lambda: NOW
    docs = [
        make_doc(
            userId=f"u{rng.randrange(4)}",
            type=rng.choice(["login", "purchase"]),
            value=round(rng.uniform(-50, 500), 2),
            timestamp=NOW - timedelta(minutes=rng.randrange(3 * 24 * 60)),
        )
        for _ in range(120)
    ]

    # Vários flushes: chaves novas (inserção) e já gravadas ($inc), inclusive remoções.
    for chunk in (docs[:40], docs[40:90], docs[90:]):
        for target in (in_memory, upserts):
            target.insert_events_bulk([dict(doc) for doc in chunk])  # type: ignore[misc]
            target.flush_rollups()
    for target in (in_memory, upserts):
        target.delete_event(docs[0]["_id"])
        target.delete_event(docs[50]["_id"])
        target.flush_rollups()

    assert rollup_state(in_memory) == rollup_state(upserts)
    assert sum(doc["count"] for doc in rollup_state(in_memory)["rollup_type_hour"]) == 118
