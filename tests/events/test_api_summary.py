"""GET /api/events/summary: parâmetros, forma da resposta e cache (os números têm oráculo próprio)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from rest_framework.test import APIClient

from events.selectors import summary_compute
from events.store import EventStore
from events.windows import Window
from tests.accounts.factories import make_user
from tests.events.test_api_list import _doc

pytestmark = pytest.mark.django_db

URL = "/api/events/summary"
NOW = datetime(2026, 11, 29, 15, 37, 12, tzinfo=UTC)


@pytest.fixture
def client() -> APIClient:
    api = APIClient()
    api.force_authenticate(make_user("ana"))
    return api


@pytest.fixture
def events(store: EventStore) -> list[dict[str, Any]]:
    store.now = lambda: NOW
    docs = [
        _doc(user="u1", kind="purchase", value=100.0, at=NOW - timedelta(minutes=5)),
        _doc(user="u1", kind="purchase", value=50.0, at=NOW - timedelta(hours=2)),
        _doc(user="u2", kind="deposit", value=10.0, at=NOW - timedelta(hours=3)),
        _doc(user="u3", kind="login", value=0.0, at=NOW - timedelta(hours=30)),
    ]
    for doc in docs:
        store.insert_event(doc)  # type: ignore[arg-type]
    return docs


def _get(client: APIClient, **params: Any) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, params)


def test_default_window_is_the_last_24_hours(client: APIClient, events: list[dict[str, Any]]) -> None:
    body = _get(client).json()

    assert body["window"] == {"from": "2026-11-28T15:37:12.000Z", "to": "2026-11-29T15:37:12.000Z"}
    assert body["totals"] == {
        "count": 3,
        "sum": 160.0,
        "avgTicket": 160.0 / 3,
        "purchaseAvgTicket": 75.0,
        "activeUsers": 2,
    }
    assert body["byType"] == [
        {"type": "purchase", "count": 2, "sum": 150.0, "avg": 75.0},
        {"type": "deposit", "count": 1, "sum": 10.0, "avg": 10.0},
    ]
    assert body["topUsersByValue"][0] == {"userId": "u1", "count": 2, "sum": 150.0, "avg": 75.0}
    assert body["cached"] is False
    assert body["computedAt"] == "2026-11-29T15:37:12.000Z"


def test_http_answer_equals_the_selector_for_the_same_window(client: APIClient, events: list[dict[str, Any]]) -> None:
    body = _get(client, range="7d", top=1).json()

    expected = summary_compute(window=Window(NOW - timedelta(days=7), NOW), top=1, now=NOW)
    assert {key: body[key] for key in expected} == expected
    assert len(body["topUsersByCount"]) == 1


def test_from_and_to_select_an_explicit_window(client: APIClient, events: list[dict[str, Any]]) -> None:
    body = _get(client, **{"from": "2026-11-29T13:00:00Z", "to": "2026-11-29T14:00:00Z"}).json()

    assert body["window"] == {"from": "2026-11-29T13:00:00.000Z", "to": "2026-11-29T14:00:00.000Z"}
    assert body["totals"]["count"] == 1
    assert body["byType"] == [{"type": "purchase", "count": 1, "sum": 50.0, "avg": 50.0}]


def test_empty_window_has_null_averages(client: APIClient) -> None:
    body = _get(client, range="15m").json()

    assert body["totals"] == {"count": 0, "sum": 0, "avgTicket": None, "purchaseAvgTicket": None, "activeUsers": 0}
    assert body["byType"] == []


def test_second_identical_request_is_served_from_cache(
    client: APIClient, store: EventStore, events: list[dict[str, Any]]
) -> None:
    first = _get(client, range="24h").json()
    store.insert_event(_doc(user="u9", value=999.0, at=NOW - timedelta(minutes=1)))  # type: ignore[arg-type]

    second = _get(client, range="24h").json()

    assert (first["cached"], second["cached"]) == (False, True)
    assert second["computedAt"] == first["computedAt"]
    assert second["totals"] == first["totals"]


def test_different_parameters_miss_the_cache(client: APIClient, events: list[dict[str, Any]]) -> None:
    _get(client, range="24h")

    assert _get(client, range="24h", top=3).json()["cached"] is False
    assert _get(client, range="7d").json()["cached"] is False
    assert _get(client).json()["cached"] is True  # sem range = range=24h


@override_settings(SUMMARY_CACHE_SECONDS=30)
def test_cache_expires_after_summary_cache_seconds(
    client: APIClient, store: EventStore, events: list[dict[str, Any]]
) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        first = client.get(URL).json()
        store.insert_event(_doc(value=1.0, at=NOW - timedelta(minutes=1)))  # type: ignore[arg-type]
        traveller.shift(timedelta(seconds=29))
        warm = client.get(URL).json()
        traveller.shift(timedelta(seconds=2))
        expired = client.get(URL).json()

    assert (first["cached"], warm["cached"], expired["cached"]) == (False, True, False)
    assert expired["totals"]["count"] == first["totals"]["count"] + 1
    assert expired["computedAt"] == "2026-11-29T15:37:43.000Z"


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"top": 0}, "top"),
        ({"top": 101}, "top"),
        ({"range": "1w"}, "range"),
        ({"range": "367d"}, "range"),
        ({"range": "24h", "from": "2026-11-29T00:00:00Z"}, "range"),
        ({"from": "2025-01-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from"),
        ({"from": "2026-11-29T00:00:00"}, "from"),
        ({"page": 2}, "page"),
    ],
)
def test_invalid_parameters_get_400_naming_them(client: APIClient, params: dict[str, Any], named: str) -> None:
    response = _get(client, **params)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == [named]


def test_anonymous_gets_401() -> None:
    assert APIClient().get(URL).status_code == HTTPStatus.UNAUTHORIZED
