"""EventStore: índices, deduplicação em lote, rollups em segundo plano, quarentena."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import mongomock.collection
import pytest
from bson import ObjectId
from django.test import override_settings
from pymongo.errors import AutoReconnect

from events.buckets import LEVELS, Family
from events.store import EventFilter, EventStore, KeysetPosition, StoreUnavailable

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
        "ingestId": ObjectId().__str__(),
        "schemaVersion": 1,
    }
    doc.update(overrides)
    return doc


def collection_docs(store: EventStore, name: str) -> list[dict[str, Any]]:
    return list(store.db[name].find({}, {"_id": 0}))


def test_ensure_indexes_is_idempotent_and_declares_the_query_indexes(store: EventStore) -> None:
    first = store.ensure_indexes()
    second = store.ensure_indexes()

    assert first == second
    events_indexes = {tuple(spec["key"]) for spec in store.db["events"].index_information().values()}
    assert (("timestamp", -1), ("_id", -1)) in events_indexes
    assert (("type", 1), ("timestamp", -1), ("_id", -1)) in events_indexes
    assert (("userId", 1), ("timestamp", -1), ("_id", -1)) in events_indexes
    assert (("seq", 1),) in events_indexes
    fine = store.db["rollup_type_minute"].index_information()
    assert any(spec.get("expireAfterSeconds") for spec in fine.values())


def test_insert_assigns_increasing_sequence_numbers(store: EventStore) -> None:
    seqs = [store.insert_event(make_doc()).document["seq"] for _ in range(3)]  # type: ignore[arg-type]

    assert seqs == [1, 2, 3]
    assert store.last_seq() == 3
    assert [doc["seq"] for doc in store.events_after_seq(1, limit=10)] == [2, 3]


def test_bulk_insert_skips_existing_ids_and_counts_only_new(store: EventStore) -> None:
    docs = [make_doc() for _ in range(5)]
    store.insert_events_bulk(docs[:2])  # type: ignore[arg-type]

    inserted = store.insert_events_bulk(docs)  # type: ignore[arg-type]

    assert inserted == 3
    assert store.count_events(EventFilter()) == 5


def test_keyset_pages_walk_the_whole_sorted_list_without_gaps(store: EventStore) -> None:
    docs = [make_doc(timestamp=NOW - timedelta(minutes=i % 4), value=float(i)) for i in range(23)]
    store.insert_events_bulk(docs)  # type: ignore[arg-type]
    expected = sorted(docs, key=lambda d: (d["timestamp"], d["_id"]), reverse=True)

    walked: list[ObjectId] = []
    after = None
    while True:
        page = store.list_events(EventFilter(), sort_field="timestamp", descending=True, limit=5, after=after)
        if not page:
            break
        walked += [doc["_id"] for doc in page]
        after = KeysetPosition(page[-1]["timestamp"], page[-1]["_id"])

    assert walked == [doc["_id"] for doc in expected]


def test_old_events_feed_only_the_coarse_rollups(store: EventStore) -> None:
    store.now = lambda: NOW
    store.insert_event(make_doc(timestamp=NOW - timedelta(days=3)))  # type: ignore[arg-type]
    store.insert_event(make_doc(timestamp=NOW - timedelta(hours=1)))  # type: ignore[arg-type]
    store.flush_rollups()

    fine_types, coarse_types = LEVELS[Family.TYPE]
    assert len(collection_docs(store, fine_types.collection)) == 1
    assert len(collection_docs(store, coarse_types.collection)) == 2


def test_failed_flush_keeps_the_deltas_for_the_next_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # O caminho do pymongo (bulk_write), com o mongomock no lugar do servidor: o
    # armazenamento em memória aplica os deltas sem rede e não tem falha transitória.
    client: Any = mongomock.MongoClient(tz_aware=True)
    store = EventStore(client, "flush_failure_test", in_memory=False, flush_seconds=0)
    store.insert_event(make_doc())  # type: ignore[arg-type]

    def down(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise AutoReconnect("primary stepped down")

    monkeypatch.setattr(mongomock.collection.Collection, "bulk_write", down)
    with pytest.raises(StoreUnavailable):
        store.flush_rollups()
    monkeypatch.undo()

    assert store.flush_rollups() > 0
    rows = collection_docs(store, "rollup_type_hour")
    assert [(row["key"], row["count"], row["sum"]) for row in rows] == [("purchase", 1, 10.0)]


def test_background_flusher_writes_rollups_without_a_reader_asking() -> None:
    client: Any = mongomock.MongoClient(tz_aware=True)
    store = EventStore(client, "flusher_test", in_memory=True, flush_seconds=0.01)
    flushed = threading.Event()
    original = store.flush_rollups

    def observed() -> int:
        written = original()
        if written:
            flushed.set()
        return written

    store.flush_rollups = observed  # type: ignore[method-assign]
    store.insert_event(make_doc())  # type: ignore[arg-type]

    assert flushed.wait(timeout=5), "o gravador em segundo plano não gravou os rollups"
    assert len(collection_docs(store, "rollup_type_hour")) == 1
    store.close()


def test_quarantine_is_trimmed_to_the_configured_size(store: EventStore) -> None:
    with override_settings(QUARANTINE_MAX_DOCS=50):
        for index in range(200):
            store.record_rejection({"receivedAt": NOW + timedelta(seconds=index), "reason": "bad_signature"})

    assert store.count_rejections() == 50
    newest = store.list_rejections(limit=1)[0]
    assert newest["receivedAt"] == NOW + timedelta(seconds=199)
    assert store.rejections_by_reason() == {"bad_signature": 50}


def test_transient_errors_are_retried_then_reported(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        raise AutoReconnect("network blip")

    monkeypatch.setattr(mongomock.collection.Collection, "find_one", flaky)

    with pytest.raises(StoreUnavailable):
        store.get_event(ObjectId())

    assert calls["n"] == store.write_attempts
