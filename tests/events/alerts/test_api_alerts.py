"""``/api/alerts``: listagem com filtros e cursor, detalhe e reconhecimento."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from bson import ObjectId
from rest_framework.test import APIClient

from events.store import EventStore

pytestmark = pytest.mark.django_db

URL = "/api/alerts"
BASE = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
KEYS = {
    "id", "ruleId", "ruleName", "kind", "severity", "userId", "eventIds", "triggeredAt", "state", "ackBy", "ackAt",
    "message",
}  # fmt: skip


def oid(number: int) -> str:
    return f"{number:024x}"


def put(store: EventStore, number: int, **overrides: Any) -> str:
    alert: dict[str, Any] = {
        "_id": ObjectId(oid(number)),
        "ruleId": 1,
        "ruleName": "Saque alto",
        "kind": "threshold",
        "severity": "warning",
        "userId": "u1",
        "eventIds": [ObjectId(oid(1000 + number))],
        "triggeredAt": BASE - timedelta(minutes=number),
        "state": "open",
        "ackBy": None,
        "ackAt": None,
        "message": f"alerta {number}",
    }
    alert.update(overrides)
    assert store.insert_alert(alert)
    return oid(number)


@pytest.fixture
def ten(store: EventStore) -> list[str]:
    """Dez alertas, um por minuto antes de ``BASE``: pares de u2, 1–3 críticos, 9–10 reconhecidos."""
    return [
        put(
            store,
            number,
            userId="u2" if number % 2 == 0 else "u1",
            severity="critical" if number <= 3 else "warning",
            ruleId=2 if number >= 8 else 1,
            state="acknowledged" if number >= 9 else "open",
        )
        for number in range(1, 11)
    ]


def ids(response: Any) -> list[str]:
    assert response.status_code == HTTPStatus.OK, response.content
    return [alert["id"] for alert in response.json()["results"]]


def test_anonymous_gets_401(ten: list[str]) -> None:
    client = APIClient()

    assert client.get(URL).status_code == HTTPStatus.UNAUTHORIZED
    assert client.get(f"{URL}/{ten[0]}").status_code == HTTPStatus.UNAUTHORIZED
    assert client.post(f"{URL}/{ten[0]}/ack").status_code == HTTPStatus.UNAUTHORIZED


def test_list_is_newest_first_in_the_public_shape(analyst: APIClient, ten: list[str]) -> None:
    response = analyst.get(URL)

    assert ids(response) == ten
    first = response.json()["results"][0]
    assert set(first) == KEYS
    assert first["eventIds"] == [oid(1001)]
    assert first["triggeredAt"] == "2026-11-30T11:59:00.000Z"
    assert response.json()["nextCursor"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("state=acknowledged", [9, 10]),
        ("state=open&severity=critical", [1, 2, 3]),
        ("ruleId=2", [8, 9, 10]),
        ("userId=u2&ruleId=1", [2, 4, 6]),
        ("from=2026-11-30T11:55:00Z&to=2026-11-30T11:58:00Z", [3, 4, 5]),
        ("from=2026-11-30T11:52:00Z", [1, 2, 3, 4, 5, 6, 7, 8]),
        ("state=resolved", []),
    ],
)
def test_filters(analyst: APIClient, ten: list[str], query: str, expected: list[int]) -> None:
    assert ids(analyst.get(f"{URL}?{query}")) == [oid(number) for number in expected]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("state=closed", "state"),
        ("severity=high", "severity"),
        ("ruleId=abc", "ruleId"),
        ("ruleId=99999999999999999999999", "ruleId"),
        ("userId=%24ne", "userId"),
        ("from=ontem", "from"),
        ("from=2026-11-30T12:00:00", "from"),
        ("from=2026-11-30T12:00:00Z&to=2026-11-30T11:00:00Z", "from"),
        ("range=999y", "range"),
        ("limit=0", "limit"),
        ("limit=100000", "limit"),
        ("cursor=garbage", "cursor"),
        ("state=open&state=acknowledged", "state"),
        ("sort=value", "sort"),
    ],
)
def test_bad_parameters_are_400_naming_them(analyst: APIClient, ten: list[str], query: str, field: str) -> None:
    response = analyst.get(f"{URL}?{query}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["fields"]


def test_cursor_pages_walk_the_whole_filtered_list_without_gaps(analyst: APIClient, store: EventStore) -> None:
    # Empates em triggeredAt: o desempate pelo id mantém a ordem estável entre as páginas.
    for number in range(1, 12):
        put(store, number, triggeredAt=BASE - timedelta(minutes=number // 3), userId="u1" if number != 5 else "u9")
    seen: list[str] = []
    response = analyst.get(f"{URL}?userId=u1&limit=3")
    pages = 0
    while True:
        seen += ids(response)
        pages += 1
        link = response.json()["next"]
        if link is None:
            break
        assert parse_qs(urlsplit(link).query)["cursor"] == [response.json()["nextCursor"]]
        response = analyst.get(link)

    expected = analyst.get(f"{URL}?userId=u1&limit=200")
    assert seen == ids(expected)
    assert len(seen) == 10
    assert pages == 4


def test_a_cursor_carries_the_filters_and_refuses_new_ones(analyst: APIClient, ten: list[str]) -> None:
    cursor = analyst.get(f"{URL}?state=open&limit=2").json()["nextCursor"]

    following = analyst.get(f"{URL}?cursor={cursor}&limit=2")
    mixed = analyst.get(f"{URL}?cursor={cursor}&state=acknowledged")

    assert ids(following) == [oid(3), oid(4)]
    assert mixed.status_code == HTTPStatus.BAD_REQUEST
    assert "state" in mixed.json()["fields"]


def test_detail_and_404s(analyst: APIClient, ten: list[str]) -> None:
    detail = analyst.get(f"{URL}/{ten[2]}")

    assert detail.status_code == HTTPStatus.OK
    assert detail.json()["id"] == ten[2]
    assert set(detail.json()) == KEYS
    for bad in (oid(999), "zzz", "0" * 25, "%24ne"):
        assert analyst.get(f"{URL}/{bad}").status_code == HTTPStatus.NOT_FOUND


def test_ack_sets_who_and_when_and_is_idempotent(analyst: APIClient, staff: APIClient, ten: list[str]) -> None:
    first = analyst.post(f"{URL}/{ten[0]}/ack")
    again = staff.post(f"{URL}/{ten[0]}/ack")

    assert first.status_code == HTTPStatus.OK
    data = first.json()
    assert (data["state"], data["ackBy"]) == ("acknowledged", "analyst")
    assert data["ackAt"].endswith("Z")
    assert again.status_code == HTTPStatus.OK
    assert again.json() == data
    assert analyst.get(f"{URL}/{ten[0]}").json() == data
    assert ids(analyst.get(f"{URL}?state=acknowledged")) == [ten[0], ten[8], ten[9]]


@pytest.mark.parametrize("bad", [oid(999), "zzz", "0" * 25, "%24ne", "a" * 500])
def test_ack_of_unknown_or_malformed_ids_is_404(analyst: APIClient, ten: list[str], bad: str) -> None:
    response = analyst.post(f"{URL}/{bad}/ack")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"] == "not_found"
