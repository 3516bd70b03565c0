"""GET /api/events: cada parâmetro inválido dá 400 nomeando-o; nada do cliente chega cru ao Mongo."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from bson import ObjectId
from django.core import signing
from rest_framework.test import APIClient

from events.serializers import CURSOR_SALT
from events.store import EventStore
from tests.accounts.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/api/events"


@pytest.fixture
def client() -> APIClient:
    api = APIClient()
    api.force_authenticate(make_user("ana"))
    return api


def _fields(response: Any) -> list[str]:
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.json()
    body = response.json()
    assert body["error"] == "invalid_request"
    return sorted(body["fields"])


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("limit=501", "limit"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1000001", "page"),
        ("sort=userId", "sort"),
        ("sort=", "sort"),
        ("from=2026-11-01T12:00:00", "from"),
        ("from=yesterday", "from"),
        ("to=2026-13-01T00:00:00Z", "to"),
        ("from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", "from"),
        ("from=2026-11-01T00:00:00Z&to=2026-11-01T00:00:00Z", "from"),
        ("range=1y", "range"),
        ("range=400d", "range"),
        ("range=24h&from=2026-11-01T00:00:00Z", "range"),
        ("type=", "type"),
        ("type=a,,b", "type"),
        ("type=%20purchase", "type"),
        ("type=" + "x" * 65, "type"),
        ("type=" + ",".join(f"t{n}" for n in range(21)), "type"),
        ("userId=", "userId"),
        ("userId=" + "u" * 129, "userId"),
        ("userId=a%00b", "userId"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_invalid_values_get_400_naming_the_parameter(client: APIClient, query: str, named: str) -> None:
    assert _fields(client.get(f"{URL}?{query}")) == [named]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("type[$ne]=x", ["type[$ne]"]),
        ("userId[$gt]=", ["userId[$gt]"]),
        ("$where=1", ["$where"]),
        ("offset=10&pageSize=3", ["offset", "pageSize"]),
    ],
)
def test_unknown_parameters_including_operator_injection_get_400(
    client: APIClient, query: str, named: list[str]
) -> None:
    assert _fields(client.get(f"{URL}?{query}")) == named


def test_repeated_parameters_get_400(client: APIClient) -> None:
    assert _fields(client.get(f"{URL}?type=login&type=deposit")) == ["type"]


def test_operator_like_values_get_400(client: APIClient) -> None:
    # Também recusados na ingestão (events.domain): nenhum evento guardado teria esses valores.
    response = client.get(URL, {"userId": '{"$gt": ""}', "type": "$ne"})

    assert _fields(response) == ["type", "userId"]


def _valid_cursor(client: APIClient, store: EventStore) -> str:
    from tests.events.test_api_list import _doc, _insert

    _insert(store, [_doc() for _ in range(3)])
    cursor: str = client.get(URL, {"limit": 1}).json()["nextCursor"]
    return cursor


def test_a_tampered_cursor_gets_400(client: APIClient, store: EventStore) -> None:
    cursor = _valid_cursor(client, store)
    payload = signing.loads(cursor, salt=CURSOR_SALT)
    forged_without_key = signing.dumps({**payload, "u": "someone-else"}, salt="other-salt", compress=True)
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]

    assert _fields(client.get(URL, {"cursor": forged_without_key})) == ["cursor"]
    assert _fields(client.get(URL, {"cursor": flipped})) == ["cursor"]


def test_a_signed_cursor_with_an_unexpected_shape_gets_400(client: APIClient) -> None:
    odd = signing.dumps({"v": 1, "s": "-timestamp", "k": "x", "i": str(ObjectId())}, salt=CURSOR_SALT)

    assert _fields(client.get(URL, {"cursor": odd})) == ["cursor"]


def test_cursor_cannot_be_combined_with_filters_or_page(client: APIClient, store: EventStore) -> None:
    cursor = _valid_cursor(client, store)

    response = client.get(URL, {"cursor": cursor, "sort": "value", "page": "2", "type": "login"})

    assert _fields(response) == ["page", "sort", "type"]


def test_validation_messages_are_in_portuguese(client: APIClient) -> None:
    body = client.get(URL, {"limit": 501}).json()

    assert body["detail"] == "Parâmetros inválidos: limit."
    assert "500" in body["fields"]["limit"][0]
