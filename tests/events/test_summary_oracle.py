"""Os pipelines de agregação contra um oráculo em Python puro, com dados aleatórios.

Os eventos entram pelo armazenamento (que mantém os rollups na ingestão), o resumo
sai dos pipelines ``aggregate()`` sobre os rollups, e o oráculo recalcula tudo a
partir da lista de eventos, na janela efetiva que o resumo declara.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.buckets import Window
from events.selectors import summary_compute
from events.store import EventStore, get_store

NOW = datetime(2026, 11, 29, 15, 37, 12, tzinfo=UTC)
HISTORY = timedelta(days=40)
TYPES = ["login", "purchase", "deposit", "withdraw"]
USERS = [f"u{i}" for i in range(8)]


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def oracle(events: list[dict[str, Any]], summary: dict[str, Any], top: int) -> dict[str, Any]:
    type_window = Window(_parse(summary["window"]["from"]), _parse(summary["window"]["to"]))
    user_window = Window(_parse(summary["usersWindow"]["from"]), _parse(summary["usersWindow"]["to"]))
    by_type: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    by_user: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for event in events:
        if type_window.contains(event["timestamp"]):
            by_type[event["type"]][0] += 1
            by_type[event["type"]][1] += event["value"]
        if user_window.contains(event["timestamp"]):
            by_user[event["userId"]][0] += 1
            by_user[event["userId"]][1] += event["value"]
    count = sum(int(c) for c, _ in by_type.values())
    total = sum(s for _, s in by_type.values())
    users: list[dict[str, Any]] = [
        {"userId": u, "count": int(c), "sum": s, "avg": s / c} for u, (c, s) in by_user.items()
    ]
    return {
        "byType": sorted(
            ({"type": t, "count": int(c), "sum": s, "avg": s / c} for t, (c, s) in by_type.items()),
            key=lambda row: (-row["count"], row["type"]),
        ),
        "totals": {
            "count": count,
            "sum": total,
            "avgTicket": total / count if count else None,
            "purchaseAvgTicket": (by_type["purchase"][1] / by_type["purchase"][0]) if by_type["purchase"][0] else None,
            "activeUsers": len(users),
        },
        "topUsersByValue": sorted(users, key=lambda row: (-row["sum"], row["userId"]))[:top],
        "topUsersByCount": sorted(users, key=lambda row: (-row["count"], row["userId"]))[:top],
    }


event_strategy = st.fixed_dictionaries(
    {
        "userId": st.sampled_from(USERS),
        "type": st.sampled_from(TYPES),
        # Valores em meios inteiros: somas exatas em ponto flutuante, sem empates espúrios.
        "value": st.integers(min_value=-2000, max_value=20000).map(lambda n: n / 2),
        "age": st.integers(min_value=0, max_value=int(HISTORY.total_seconds())),
    }
)


def _documents(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    docs = []
    for item in raw:
        timestamp = NOW - timedelta(seconds=item["age"])
        docs.append(
            {
                "_id": ObjectId(),
                "userId": item["userId"],
                "type": item["type"],
                "value": item["value"],
                "timestamp": timestamp,
                "receivedAt": NOW,
                "bodyHash": "x",
                "ingestId": "x",
                "schemaVersion": 1,
            }
        )
    return docs


def _fresh_store() -> EventStore:
    store = get_store()
    store.drop_all()
    store.now = lambda: NOW
    return store


window_strategy = st.one_of(
    st.sampled_from([timedelta(minutes=15), timedelta(hours=24), timedelta(days=7), timedelta(days=30)]).map(
        lambda span: Window(NOW - span, NOW)
    ),
    st.tuples(
        st.integers(min_value=0, max_value=int(HISTORY.total_seconds())),
        st.integers(min_value=1, max_value=int(HISTORY.total_seconds())),
    ).map(lambda pair: Window(NOW - timedelta(seconds=pair[0] + pair[1]), NOW - timedelta(seconds=pair[0]))),
)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.lists(event_strategy, max_size=60),
    window=window_strategy,
    top=st.integers(min_value=1, max_value=6),
    delete_every=st.integers(min_value=0, max_value=5),
    one_by_one=st.booleans(),
)
def test_summary_matches_python_oracle(
    raw: list[dict[str, Any]], window: Window, top: int, delete_every: int, one_by_one: bool
) -> None:
    store = _fresh_store()
    docs = _documents(raw)
    if one_by_one:
        for doc in docs:
            store.insert_event(doc)  # type: ignore[arg-type]
    else:
        store.insert_events_bulk(docs)  # type: ignore[arg-type]
    kept = []
    for index, doc in enumerate(docs):
        if delete_every and index % delete_every == 0:
            assert store.delete_event(doc["_id"]) is not None
        else:
            kept.append(doc)

    summary = summary_compute(window=window, top=top, now=NOW)

    expected = oracle(kept, summary, top)
    assert summary["byType"] == expected["byType"]
    assert summary["totals"] == expected["totals"]
    assert summary["topUsersByValue"] == expected["topUsersByValue"]
    assert summary["topUsersByCount"] == expected["topUsersByCount"]
    # A janela efetiva sempre contém a pedida.
    assert _parse(summary["window"]["from"]) <= window.start
    assert _parse(summary["window"]["to"]) >= window.end


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.lists(event_strategy, min_size=1, max_size=60), window=window_strategy)
def test_rebuild_gives_the_same_rollups_as_incremental_maintenance(raw: list[dict[str, Any]], window: Window) -> None:
    store = _fresh_store()
    store.insert_events_bulk(_documents(raw))  # type: ignore[arg-type]
    incremental = summary_compute(window=window, top=5, now=NOW)

    seen = store.rebuild_rollups()
    rebuilt = summary_compute(window=window, top=5, now=NOW)

    assert seen == len(raw)
    assert rebuilt == incremental


def test_short_windows_use_fine_levels_and_long_windows_coarse() -> None:
    short = summary_compute(window=Window(NOW - timedelta(minutes=15), NOW), top=3, now=NOW)
    long = summary_compute(window=Window(NOW - timedelta(days=30), NOW), top=3, now=NOW)

    assert short["window"] == {
        "from": "2026-11-29T15:22:00.000Z",
        "to": "2026-11-29T15:38:00.000Z",
        "granularity": "minute",
    }
    assert short["usersWindow"]["granularity"] == "hour"
    assert long["window"]["granularity"] == "hour"
    assert long["usersWindow"] == {
        "from": "2026-10-30T00:00:00.000Z",
        "to": "2026-11-30T00:00:00.000Z",
        "granularity": "day",
    }


def test_ties_are_broken_by_user_id_ascending() -> None:
    store = _fresh_store()
    raw = [{"userId": user, "type": "purchase", "value": 10.0, "age": 60} for user in ["u3", "u1", "u2"]]
    store.insert_events_bulk(_documents(raw))  # type: ignore[arg-type]

    summary = summary_compute(window=Window(NOW - timedelta(hours=1), NOW), top=2, now=NOW)

    assert [row["userId"] for row in summary["topUsersByValue"]] == ["u1", "u2"]
    assert [row["userId"] for row in summary["topUsersByCount"]] == ["u1", "u2"]
    assert summary["totals"]["activeUsers"] == 3
