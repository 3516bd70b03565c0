"""GET /api/events/timeseries: série para os gráficos do painel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from rest_framework.test import APIClient

from events.store import EventStore
from tests.accounts.factories import make_user
from tests.events.test_api_list import _doc

pytestmark = pytest.mark.django_db

URL = "/api/events/timeseries"
NOW = datetime(2026, 11, 29, 15, 37, 12, tzinfo=UTC)


@pytest.fixture
def client() -> APIClient:
    api = APIClient()
    api.force_authenticate(make_user("ana"))
    return api


def _get(client: APIClient, **params: Any) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, params)


def test_points_add_up_to_the_events_in_the_window(client: APIClient, store: EventStore) -> None:
    store.now = lambda: NOW
    for minutes, kind in [(1, "purchase"), (2, "purchase"), (50, "deposit"), (60 * 30, "login")]:
        store.insert_event(_doc(kind=kind, value=2.0, at=NOW - timedelta(minutes=minutes)))  # type: ignore[arg-type]

    body = _get(client, range="1h").json()

    assert body["interval"] == 60
    assert len(body["points"]) <= 120
    assert sum(point["count"] for point in body["points"]) == 3
    assert sum(point["sum"] for point in body["points"]) == 6.0
    by_type: dict[str, int] = {}
    for point in body["points"]:
        for kind, count in point["byType"].items():
            by_type[kind] = by_type.get(kind, 0) + count
    assert by_type == {"purchase": 2, "deposit": 1}
    # O primeiro ponto começa alinhado ao intervalo e cobre a janela a partir do "from" exato.
    assert body["points"][0]["from"] == body["window"]["from"]
    assert body["points"][0]["t"] <= body["window"]["from"]
    assert body["points"][-1]["to"] == body["window"]["to"]


def test_default_window_is_24_hours_with_at_most_120_points(client: APIClient) -> None:
    body = _get(client).json()

    assert len(body["points"]) <= 120
    start = datetime.fromisoformat(body["window"]["from"])
    end = datetime.fromisoformat(body["window"]["to"])
    assert timedelta(hours=24) <= end - start <= timedelta(hours=24, minutes=1)


@pytest.mark.parametrize(
    ("params", "named"),
    [({"range": "0m"}, "range"), ({"top": 5}, "top"), ({"to": "2026-11-29T00:00:00+0300x"}, "to")],
)
def test_invalid_parameters_get_400_naming_them(client: APIClient, params: dict[str, Any], named: str) -> None:
    response = _get(client, **params)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == [named]


def test_anonymous_gets_401() -> None:
    assert APIClient().get(URL).status_code == HTTPStatus.UNAUTHORIZED
