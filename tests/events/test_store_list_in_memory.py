"""Listagem em memória: a mesma página que o mongomock devolveria (oráculo por propriedade).

O atalho do armazenamento em memória (filtro + ``heapq`` sobre os documentos
guardados) tem de devolver exatamente o que ``find().sort().skip().limit()`` do
mongomock devolve — mesmos documentos, mesma ordem, mesmo desempate por ``_id`` —
para qualquer filtro, ordenação, página e cursor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import pytest
from bson import ObjectId
from hypothesis import given, settings
from hypothesis import strategies as st

from events.store import EventFilter, EventStore, KeysetPosition

pytestmark = pytest.mark.mongomock_only

BASE = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TYPES = ["login", "purchase", "deposit"]
USERS = ["u1", "u2", "u3"]

# Poucos instantes e valores distintos: empates frequentes, o desempate por _id importa.
moments = st.integers(min_value=0, max_value=12).map(lambda n: BASE - timedelta(minutes=n, microseconds=n * 1500))
values = st.sampled_from([0.0, 1.5, 10.0, 10, -3.25, 99.99])

event_docs = st.lists(
    st.builds(
        lambda event_type, user, moment, value: {
            "_id": ObjectId(),
            "userId": user,
            "type": event_type,
            "value": value,
            "timestamp": moment,
            "receivedAt": BASE,
            "bodyHash": "h",
            "ingestId": "i",
            "schemaVersion": 1,
            "metadata": {"nested": {"at": moment}, "tags": ["a", {"b": moment}]},
        },
        st.sampled_from(TYPES),
        st.sampled_from(USERS),
        moments,
        values,
    ),
    max_size=30,
)

filters = st.builds(
    EventFilter,
    types=st.lists(st.sampled_from(TYPES), max_size=2, unique=True).map(tuple),
    user_id=st.none() | st.sampled_from(USERS),
    start=st.none() | moments,
    end=st.none() | moments,
)


def fresh_store() -> EventStore:
    return EventStore(mongomock.MongoClient(tz_aware=True), "list_oracle", in_memory=True, flush_seconds=0)


@settings(max_examples=300, deadline=None)
@given(
    docs=event_docs,
    event_filter=filters,
    sort_field=st.sampled_from(["timestamp", "value"]),
    descending=st.booleans(),
    limit=st.integers(min_value=0, max_value=8),
    skip=st.integers(min_value=0, max_value=12),
    anchor=st.sampled_from(["none", "existing", "arbitrary"]),
    data=st.data(),
)
def test_in_memory_listing_returns_the_mongomock_page(
    docs: list[dict[str, Any]],
    event_filter: EventFilter,
    sort_field: str,
    descending: bool,
    limit: int,
    skip: int,
    anchor: str,
    data: st.DataObject,
) -> None:
    store = fresh_store()
    store.insert_events_bulk(docs, track_rollups=False)  # type: ignore[arg-type]
    after = None
    if anchor == "existing" and docs:
        # Cursor a partir de um evento existente (o caso da API)…
        chosen = docs[data.draw(st.integers(min_value=0, max_value=len(docs) - 1))]
        after = KeysetPosition(chosen[sort_field], chosen["_id"])
    elif anchor != "none":
        # …ou de uma posição qualquer (valor e _id que não existem).
        value = data.draw(moments if sort_field == "timestamp" else values)
        after = KeysetPosition(value, ObjectId())
    args = (event_filter, sort_field, descending, limit, skip, after)

    fast = store._list_in_memory(*args)  # type: ignore[arg-type]
    expected = store._list_pymongo(*args)  # type: ignore[arg-type]

    assert fast == expected
    assert store.count_events(event_filter) == store.db["events"].count_documents(event_filter.to_mongo())


def test_listing_falls_back_to_mongomock_for_documents_the_store_does_not_write() -> None:
    store = fresh_store()
    odd = {"_id": ObjectId(), "userId": "u1", "type": ["purchase"], "value": 1.0, "timestamp": BASE}
    store.db["events"].insert_one(odd)

    assert store._list_in_memory(EventFilter(types=("purchase",)), "timestamp", True, 10, 0, None) is None
    # O mongomock casa o tipo dentro do array, como o MongoDB.
    assert [
        doc["_id"]
        for doc in store.list_events(
            EventFilter(types=("purchase",)), sort_field="timestamp", descending=True, limit=10
        )
    ] == [odd["_id"]]


def test_listed_documents_are_copies_with_utc_datetimes() -> None:
    store = fresh_store()
    doc = {
        "_id": ObjectId(),
        "userId": "u1",
        "type": "purchase",
        "value": 1.0,
        "timestamp": BASE,
        "metadata": {"at": BASE, "list": [1]},
    }
    store.insert_events_bulk([doc], track_rollups=False)  # type: ignore[list-item]

    [listed] = store.list_events(EventFilter(), sort_field="timestamp", descending=True, limit=5)
    listed["metadata"]["list"].append(2)
    listed["userId"] = "changed"

    [again] = store.list_events(EventFilter(), sort_field="timestamp", descending=True, limit=5)
    assert again["timestamp"] == BASE
    assert again["timestamp"].tzinfo is not None
    assert again["metadata"] == {"at": BASE, "list": [1]}
    assert again["userId"] == "u1"
