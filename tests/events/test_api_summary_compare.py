"""GET /api/events/summary?compare=previous: o período anterior exato, base do Δ dos KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from bson import ObjectId
from rest_framework.test import APIClient

from events.selectors import summary_compute
from events.store import EventStore
from events.windows import Window
from tests.accounts.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/api/events/summary"
NOW = datetime(2026, 11, 29, 15, 37, 12, 345000, tzinfo=UTC)


def doc(*, user: str, kind: str, value: float, at: datetime) -> dict[str, Any]:
    return {
        "_id": ObjectId(),
        "userId": user,
        "type": kind,
        "value": value,
        "timestamp": at,
        "receivedAt": at,
        "bodyHash": "x",
        "ingestId": "x",
        "schemaVersion": 1,
    }


@pytest.fixture
def client() -> APIClient:
    api = APIClient()
    api.force_authenticate(make_user("ana"))
    return api


@pytest.fixture
def events(store: EventStore) -> None:
    store.now = lambda: NOW
    for document in [
        # janela atual (últimas 24 h); o início é inclusivo
        doc(user="u1", kind="purchase", value=100.0, at=NOW - timedelta(hours=1)),
        doc(user="u2", kind="purchase", value=60.0, at=NOW - timedelta(hours=23)),
        doc(user="u2", kind="login", value=0.0, at=NOW - timedelta(hours=24)),
        # período anterior [−48 h, −24 h): termina (exclusivo) onde a atual começa
        doc(user="u1", kind="purchase", value=40.0, at=NOW - timedelta(hours=24, milliseconds=1)),
        doc(user="u1", kind="deposit", value=500.0, at=NOW - timedelta(hours=30)),
        doc(user="u3", kind="purchase", value=20.0, at=NOW - timedelta(hours=48)),
        # antes do período anterior: fora de tudo
        doc(user="u1", kind="purchase", value=999.0, at=NOW - timedelta(hours=48, milliseconds=1)),
    ]:
        store.insert_event(document)  # type: ignore[arg-type]


def get(client: APIClient, **params: Any) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, params)


def test_previous_period_is_the_window_of_equal_length_ending_where_the_current_starts(client, events):
    body = get(client, range="24h", compare="previous").json()

    assert body["window"] == {"from": "2026-11-28T15:37:12.345Z", "to": "2026-11-29T15:37:12.345Z"}
    assert body["previous"]["window"] == {"from": "2026-11-27T15:37:12.345Z", "to": "2026-11-28T15:37:12.345Z"}
    assert body["totals"]["count"] == 3
    assert body["previous"]["totals"] == {
        "count": 3,
        "sum": 560.0,
        "avgTicket": 560.0 / 3,
        "purchaseAvgTicket": 30.0,
        "activeUsers": 2,
    }
    assert body["previous"]["byType"] == [
        {"type": "purchase", "count": 2, "sum": 60.0, "avg": 30.0},
        {"type": "deposit", "count": 1, "sum": 500.0, "avg": 500.0},
    ]


def test_previous_period_keeps_the_type_and_user_filters(client, events):
    body = get(client, range="24h", compare="previous", userId="u1", type="purchase").json()

    assert body["previous"]["totals"]["count"] == 1
    assert body["previous"]["totals"]["sum"] == 40.0
    assert body["previous"]["byType"] == [{"type": "purchase", "count": 1, "sum": 40.0, "avg": 40.0}]


def test_previous_period_equals_a_plain_summary_of_that_window(client, events):
    body = get(client, **{"from": "2026-11-29T00:00:00Z", "to": "2026-11-29T12:00:00Z", "compare": "previous"}).json()

    earlier = Window(datetime(2026, 11, 28, 12, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC))
    expected = summary_compute(window=earlier, top=5, now=NOW)
    assert body["previous"] == {key: expected[key] for key in ("window", "totals", "byType")}


def test_without_compare_there_is_no_previous_period(client, events):
    assert "previous" not in get(client, range="24h").json()


def test_compared_and_plain_summaries_are_cached_separately(client, events):
    plain = get(client, range="24h").json()
    compared = get(client, range="24h", compare="previous").json()
    again = get(client, range="24h", compare="previous").json()

    assert (plain["cached"], compared["cached"], again["cached"]) == (False, False, True)
    assert again["previous"] == compared["previous"]


def test_unknown_comparison_is_a_400(client, events):
    response = get(client, compare="last-year")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["compare"]
