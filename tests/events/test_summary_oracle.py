"""Resumo e série contra um oráculo em Python puro: exatamente a janela e os filtros pedidos.

Os eventos entram pelo armazenamento (que mantém as agregações), o resumo sai dos
baldes mais as pontas brutas, e o oráculo recalcula tudo a partir da lista de
eventos na janela pedida ``[from, to)``, ao milissegundo. As janelas sorteadas têm
bordas arbitrárias em milissegundos, eventos exatamente nas bordas, janelas vazias,
de um só evento e atravessando baldes de minuto, hora e dia.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.domain import EventFilter
from events.selectors import summary_compute, timeseries_compute
from events.store import EventStore
from events.windows import Window
from tests.events.conftest import NOW

pytestmark = pytest.mark.django_db

HISTORY = timedelta(days=40)
TYPES = ["login", "purchase", "deposit", "withdraw"]
USERS = [f"u{i}" for i in range(8)]


def oracle(events: list[dict[str, Any]], window: Window, flt: EventFilter, top: int) -> dict[str, Any]:
    by_type: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    by_user: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    for event in events:
        if not window.start <= event["timestamp"] < window.end:
            continue
        if flt.types and event["type"] not in flt.types:
            continue
        if flt.user_id is not None and event["userId"] != flt.user_id:
            continue
        for table, key in ((by_type, event["type"]), (by_user, event["userId"])):
            table[key][0] += 1
            table[key][1] += event["value"]
    count = sum(c for c, _ in by_type.values())
    total = sum(s for _, s in by_type.values())
    users = [{"userId": u, "count": c, "sum": s, "avg": s / c} for u, (c, s) in by_user.items()]
    purchase = by_type.get("purchase")
    return {
        "window": window.to_json(),
        "filters": {"types": list(flt.types), "userId": flt.user_id},
        "byType": sorted(
            ({"type": t, "count": c, "sum": s, "avg": s / c} for t, (c, s) in by_type.items()),
            key=lambda row: (-row["count"], row["type"]),
        ),
        "totals": {
            "count": count,
            "sum": total,
            "avgTicket": total / count if count else None,
            "purchaseAvgTicket": purchase[1] / purchase[0] if purchase else None,
            "activeUsers": len(users),
        },
        "topUsersByValue": sorted(users, key=lambda row: (-row["sum"], row["userId"]))[:top],
        "topUsersByCount": sorted(users, key=lambda row: (-row["count"], row["userId"]))[:top],
    }


def _documents(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "_id": ObjectId(),
            "userId": item["userId"],
            "type": item["type"],
            "value": item["value"],
            "timestamp": NOW - timedelta(milliseconds=item["age_ms"]),
            "receivedAt": NOW,
            "bodyHash": f"x{index}",
            "ingestId": f"x{index}",
            "schemaVersion": 1,
        }
        for index, item in enumerate(raw)
    ]


@pytest.fixture
def frozen(store: EventStore) -> EventStore:
    store.now = lambda: NOW
    return store


history_ms = int(HISTORY.total_seconds() * 1000)
event_strategy = st.fixed_dictionaries(
    {
        "userId": st.sampled_from(USERS),
        "type": st.sampled_from(TYPES),
        # Meios inteiros: somas exatas em ponto flutuante, sem empates espúrios.
        "value": st.integers(min_value=-2000, max_value=20000).map(lambda n: n / 2),
        "age_ms": st.integers(min_value=0, max_value=history_ms),
    }
)
SPANS = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=24), timedelta(days=7), timedelta(days=30)]


@st.composite
def windows_over(draw: st.DrawFn, events: list[dict[str, Any]]) -> Window:
    """Janelas com bordas em milissegundos quaisquer — às vezes exatamente num evento."""
    moments = [NOW - timedelta(milliseconds=item["age_ms"]) for item in events]

    def edge(label: str) -> datetime:
        on_event: bool = draw(st.booleans(), label=f"{label} on an event")
        if moments and on_event:
            moment: datetime = draw(st.sampled_from(moments), label=label)
            return moment
        return NOW - timedelta(milliseconds=draw(st.integers(min_value=0, max_value=history_ms), label=label))

    kind = draw(st.sampled_from(["range", "edges"]), label="kind")
    if kind == "range":
        return Window(NOW - draw(st.sampled_from(SPANS), label="span"), NOW)
    first, second = sorted([edge("a"), edge("b")])
    if first == second:
        second = first + timedelta(milliseconds=draw(st.integers(min_value=1, max_value=90_000_000)))
    return Window(first, second)


filters = st.builds(
    EventFilter,
    types=st.lists(st.sampled_from(TYPES), max_size=2, unique=True).map(tuple),
    user_id=st.none() | st.sampled_from(USERS),
)


def assert_same_numbers(actual: Any, expected: Any) -> None:
    """Igualdade exata, salvo somas em ponto flutuante (tolerância relativa de 1e-12)."""
    if isinstance(expected, float) and isinstance(actual, float):
        assert math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-9), (actual, expected)
    elif isinstance(expected, dict):
        assert isinstance(actual, dict), (actual, expected)
        assert actual.keys() == expected.keys(), (actual, expected)
        for key in expected:
            assert_same_numbers(actual[key], expected[key])
    elif isinstance(expected, list):
        assert isinstance(actual, list), (actual, expected)
        assert len(actual) == len(expected), (actual, expected)
        for left, right in zip(actual, expected, strict=True):
            assert_same_numbers(left, right)
    else:
        assert actual == expected


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    raw=st.lists(event_strategy, max_size=60),
    top=st.integers(min_value=1, max_value=6),
    event_filter=filters,
    delete_every=st.integers(min_value=0, max_value=5),
    one_by_one=st.booleans(),
    data=st.data(),
)
def test_summary_matches_python_oracle(
    frozen: EventStore,
    raw: list[dict[str, Any]],
    top: int,
    event_filter: EventFilter,
    delete_every: int,
    one_by_one: bool,
    data: st.DataObject,
) -> None:
    frozen.drop_all()
    docs = _documents(raw)
    if one_by_one:
        for doc in docs:
            frozen.insert_event(dict(doc))  # type: ignore[arg-type]
    else:
        frozen.insert_events_bulk([dict(doc) for doc in docs])  # type: ignore[misc]
    if delete_every:
        for doc in docs[::delete_every]:
            frozen.delete_event(doc["_id"])
        docs = [doc for index, doc in enumerate(docs) if index % delete_every]
    window = data.draw(windows_over(raw), label="window")

    summary = summary_compute(window=window, top=top, now=NOW, event_filter=event_filter)

    assert_same_numbers(summary, oracle(docs, window, event_filter, top))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.lists(event_strategy, max_size=60), event_filter=filters, data=st.data())
def test_timeseries_points_partition_the_window_and_add_up_to_the_summary(
    frozen: EventStore, raw: list[dict[str, Any]], event_filter: EventFilter, data: st.DataObject
) -> None:
    frozen.drop_all()
    docs = _documents(raw)
    frozen.insert_events_bulk(docs)  # type: ignore[arg-type]
    window = data.draw(windows_over(raw), label="window")

    series = timeseries_compute(window=window, now=NOW, event_filter=event_filter)
    summary = summary_compute(window=window, top=3, now=NOW, event_filter=event_filter)

    points = series["points"]
    assert len(points) <= 120
    assert points[0]["from"] == window.to_json()["from"]
    assert points[-1]["to"] == window.to_json()["to"]
    assert all(left["to"] == right["from"] for left, right in itertools.pairwise(points))
    for point in points:
        part = Window(_parse(point["from"]), _parse(point["to"]))
        expected = oracle(docs, part, event_filter, top=1)
        assert point["count"] == expected["totals"]["count"]
        assert_same_numbers(point["sum"], float(expected["totals"]["sum"]))
        assert point["byType"] == {row["type"]: row["count"] for row in expected["byType"]}
    assert sum(point["count"] for point in points) == summary["totals"]["count"]


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_an_event_exactly_at_the_window_end_is_outside_and_one_at_the_start_inside(frozen: EventStore) -> None:
    raw = [
        {"userId": "u0", "type": "login", "value": 0.0, "age_ms": 0},
        {"userId": "u1", "type": "login", "value": 5.0, "age_ms": 15 * 60 * 1000},
    ]
    frozen.insert_events_bulk(_documents(raw))  # type: ignore[arg-type]
    window = Window(NOW - timedelta(minutes=15), NOW)

    summary = summary_compute(window=window, top=5, now=NOW)

    assert summary["totals"]["count"] == 1
    assert summary["topUsersByValue"] == [{"userId": "u1", "count": 1, "sum": 5.0, "avg": 5.0}]


def test_a_user_whose_only_event_is_outside_the_window_is_not_ranked(frozen: EventStore) -> None:
    # Medido no main antigo: um usuário com um só evento 24 h 20 min atrás liderava o
    # ranking por valor (1000) enquanto totals.sum era 10.
    raw = [
        {"userId": "whale", "type": "purchase", "value": 1000.0, "age_ms": (24 * 60 + 20) * 60 * 1000},
        {"userId": "u1", "type": "purchase", "value": 10.0, "age_ms": 60 * 60 * 1000},
    ]
    frozen.insert_events_bulk(_documents(raw))  # type: ignore[arg-type]

    summary = summary_compute(window=Window(NOW - timedelta(hours=24), NOW), top=5, now=NOW)

    assert summary["totals"]["sum"] == 10.0
    assert [row["userId"] for row in summary["topUsersByValue"]] == ["u1"]
    assert all(row["sum"] <= summary["totals"]["sum"] for row in summary["topUsersByValue"])


def test_ties_are_broken_by_user_id_ascending(frozen: EventStore) -> None:
    raw = [{"userId": user, "type": "purchase", "value": 10.0, "age_ms": 60_000} for user in ["u3", "u1", "u2"]]
    frozen.insert_events_bulk(_documents(raw))  # type: ignore[arg-type]

    summary = summary_compute(window=Window(NOW - timedelta(hours=1), NOW), top=2, now=NOW)

    assert [row["userId"] for row in summary["topUsersByValue"]] == ["u1", "u2"]
    assert [row["userId"] for row in summary["topUsersByCount"]] == ["u1", "u2"]
    assert summary["totals"]["activeUsers"] == 3


def test_the_summary_states_the_exact_window_and_filters(frozen: EventStore) -> None:
    window = Window(NOW - timedelta(hours=3, milliseconds=7), NOW - timedelta(minutes=1, milliseconds=1))

    summary = summary_compute(
        window=window, top=1, now=NOW, event_filter=EventFilter(types=("purchase",), user_id="u1")
    )

    assert summary["window"] == window.to_json()
    assert summary["filters"] == {"types": ["purchase"], "userId": "u1"}
