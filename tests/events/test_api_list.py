"""GET /api/events: filtros, ordenação, paginação por página e por cursor, contra um oráculo em Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from asgiref.sync import sync_to_async
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from events.serializers import SORTS
from events.store import EventStore
from events.windows import isoformat
from tests.accounts.factories import make_user

pytestmark = pytest.mark.django_db

URL = "/api/events"
BASE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TYPES = ["login", "purchase", "deposit", "withdraw"]
USERS = ["u1", "u2", "u3"]


def _doc(*, user: str = "u1", kind: str = "purchase", value: float = 1.0, at: datetime = BASE) -> dict[str, Any]:
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
        "metadata": {"n": 1},
    }


def _insert(store: EventStore, docs: list[dict[str, Any]]) -> None:
    store.insert_events_bulk(docs, track_rollups=False)  # type: ignore[arg-type]


def _oracle(
    docs: list[dict[str, Any]],
    *,
    sort: str = "-timestamp",
    types: list[str] | None = None,
    user: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[str]:
    field, descending = SORTS[sort]
    rows = [
        doc
        for doc in docs
        if (not types or doc["type"] in types)
        and (user is None or doc["userId"] == user)
        and (start is None or doc["timestamp"] >= start)
        and (end is None or doc["timestamp"] < end)
    ]
    rows.sort(key=lambda doc: (doc[field], doc["_id"]), reverse=descending)
    return [str(doc["_id"]) for doc in rows]


@pytest.fixture
def analyst() -> User:
    return make_user("ana")


@pytest.fixture
def client(analyst: User) -> APIClient:
    api = APIClient()
    api.force_authenticate(analyst)
    return api


def _ids(response: Any) -> list[str]:
    return [item["id"] for item in response.json()["results"]]


def _walk(client: APIClient, first_params: dict[str, Any]) -> list[str]:
    """Segue os ``nextCursor`` até o fim; devolve os ids na ordem recebida."""
    response = client.get(URL, first_params)
    assert response.status_code == HTTPStatus.OK, response.json()
    seen = _ids(response)
    pages = 1
    while response.json()["nextCursor"]:
        response = client.get(URL, {"cursor": response.json()["nextCursor"], "limit": first_params["limit"]})
        assert response.status_code == HTTPStatus.OK, response.json()
        assert response.json()["total"] is None
        seen += _ids(response)
        pages += 1
        assert pages < 10_000
    return seen


# --- oráculo -----------------------------------------------------------------------------

moments = st.integers(min_value=0, max_value=12).map(lambda n: BASE + timedelta(minutes=10 * n))
event_strategy = st.builds(
    lambda user, kind, value, at: _doc(user=user, kind=kind, value=value, at=at),
    st.sampled_from(USERS),
    st.sampled_from(TYPES),
    st.integers(min_value=-4, max_value=6).map(lambda n: n / 2),  # poucos valores: muitos empates
    moments,  # poucos instantes: empates e bordas exatas
)
query_strategy = st.fixed_dictionaries(
    {
        "sort": st.sampled_from(list(SORTS)),
        "types": st.one_of(st.none(), st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True)),
        "user": st.one_of(st.none(), st.sampled_from(USERS)),
        "start": st.one_of(st.none(), moments),
        "end": st.one_of(st.none(), moments),
        "limit": st.integers(min_value=1, max_value=8),
    }
)


def _params(query: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {"sort": query["sort"], "limit": query["limit"]}
    if query["types"]:
        params["type"] = ",".join(query["types"])
    if query["user"]:
        params["userId"] = query["user"]
    if query["start"]:
        params["from"] = isoformat(query["start"])
    if query["end"]:
        params["to"] = isoformat(query["end"])
    return params


def _valid(query: dict[str, Any]) -> bool:
    return not (query["start"] and query["end"] and query["start"] >= query["end"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(event_strategy, max_size=30), query=query_strategy, page=st.integers(min_value=1, max_value=6))
def test_pages_match_the_python_oracle(
    client: APIClient, store: EventStore, docs: list[dict[str, Any]], query: dict[str, Any], page: int
) -> None:
    store.drop_all()
    _insert(store, docs)
    expected = _oracle(
        docs, sort=query["sort"], types=query["types"], user=query["user"], start=query["start"], end=query["end"]
    )

    response = client.get(URL, {**_params(query), "page": page})

    if not _valid(query):
        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert list(response.json()["fields"]) == ["from"]
        return
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    limit = query["limit"]
    assert _ids(response) == expected[(page - 1) * limit : page * limit]
    assert body["total"] == len(expected)
    assert body["page"] == page
    assert (body["next"] is not None) == (page * limit < len(expected))
    assert (body["nextCursor"] is not None) == (page * limit < len(expected))
    assert (body["previous"] is not None) == (page > 1)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(docs=st.lists(event_strategy, max_size=30), query=query_strategy)
def test_a_cursor_walk_returns_every_match_once_in_order(
    client: APIClient, store: EventStore, docs: list[dict[str, Any]], query: dict[str, Any]
) -> None:
    if not _valid(query):
        return
    store.drop_all()
    _insert(store, docs)
    expected = _oracle(
        docs, sort=query["sort"], types=query["types"], user=query["user"], start=query["start"], end=query["end"]
    )

    walked = _walk(client, _params(query))

    assert walked == expected


@pytest.mark.parametrize("sort", list(SORTS))
def test_deep_cursor_walk_over_many_ties_has_no_duplicates_or_gaps(
    client: APIClient, store: EventStore, sort: str
) -> None:
    docs = [_doc(value=float(index % 3), at=BASE + timedelta(seconds=index % 4)) for index in range(230)]
    _insert(store, docs)

    walked = _walk(client, {"sort": sort, "limit": 7})

    assert len(walked) == len(set(walked)) == 230
    assert walked == _oracle(docs, sort=sort)


def test_next_cursor_from_page_mode_continues_where_the_page_ended(client: APIClient, store: EventStore) -> None:
    docs = [_doc(at=BASE + timedelta(minutes=index)) for index in range(25)]
    _insert(store, docs)
    expected = _oracle(docs)

    page_two = client.get(URL, {"limit": 5, "page": 2}).json()
    continued = client.get(URL, {"cursor": page_two["nextCursor"], "limit": 5}).json()
    bigger = client.get(URL, {"cursor": page_two["nextCursor"], "limit": 100}).json()

    assert [item["id"] for item in continued["results"]] == expected[10:15]
    assert continued["page"] is None
    assert continued["previous"] is None
    assert [item["id"] for item in bigger["results"]] == expected[10:]
    assert bigger["next"] is None
    assert bigger["nextCursor"] is None


def test_cursor_keeps_the_filters_it_was_issued_with(client: APIClient, store: EventStore) -> None:
    docs = [_doc(user=USERS[index % 3], at=BASE + timedelta(minutes=index)) for index in range(30)]
    _insert(store, docs)

    walked = _walk(client, {"userId": "u2", "sort": "timestamp", "limit": 3})

    assert walked == _oracle(docs, user="u2", sort="timestamp")


def test_next_and_previous_links_can_be_followed(client: APIClient, store: EventStore) -> None:
    _insert(store, [_doc(at=BASE + timedelta(minutes=index)) for index in range(12)])

    first = client.get(URL, {"limit": "5", "type": "purchase"}).json()
    second = client.get(first["next"]).json()
    back = client.get(second["previous"]).json()

    assert parse_qs(urlsplit(first["next"]).query) == {"limit": ["5"], "type": ["purchase"], "page": ["2"]}
    assert second["page"] == 2
    assert back["results"] == first["results"]
    assert first["previous"] is None


def test_cursor_mode_next_link_carries_only_cursor_and_limit(client: APIClient, store: EventStore) -> None:
    _insert(store, [_doc(at=BASE + timedelta(minutes=index)) for index in range(12)])
    first = client.get(URL, {"limit": 5}).json()

    second = client.get(URL, {"cursor": first["nextCursor"], "limit": 5}).json()

    assert set(parse_qs(urlsplit(second["next"]).query)) == {"cursor", "limit"}
    assert client.get(second["next"]).status_code == HTTPStatus.OK


# --- casos de borda ---------------------------------------------------------------------


def test_empty_store_gives_an_empty_first_page(client: APIClient) -> None:
    body = client.get(URL).json()

    assert body == {
        "results": [],
        "page": 1,
        "limit": 50,
        "total": 0,
        "next": None,
        "previous": None,
        "nextCursor": None,
        "window": None,
    }


def test_a_range_is_answered_with_the_exact_window_it_covered(client: APIClient) -> None:
    with time_machine.travel(datetime(2026, 11, 29, 15, 37, 12, 345678, tzinfo=UTC), tick=False):
        body = client.get(URL, {"range": "24h"}).json()

    assert body["window"] == {"from": "2026-11-28T15:37:12.346Z", "to": "2026-11-29T15:37:12.346Z"}


def test_page_beyond_the_end_is_empty_but_keeps_the_total(client: APIClient, store: EventStore) -> None:
    _insert(store, [_doc() for _ in range(3)])

    body = client.get(URL, {"page": 9, "limit": 2}).json()

    assert body["results"] == []
    assert body["total"] == 3
    assert body["next"] is None
    assert body["nextCursor"] is None
    assert body["previous"] is not None


def test_from_is_inclusive_and_to_is_exclusive_to_the_millisecond(client: APIClient, store: EventStore) -> None:
    edge = BASE + timedelta(milliseconds=500)
    before, at, after = (_doc(at=edge + timedelta(milliseconds=delta)) for delta in (-1, 0, 1))
    _insert(store, [before, at, after])

    from_edge = _ids(client.get(URL, {"from": isoformat(edge)}))
    to_edge = _ids(client.get(URL, {"to": isoformat(edge)}))
    sub_millisecond = _ids(client.get(URL, {"from": "2026-11-01T12:00:00.499500+00:00"}))

    assert from_edge == [str(after["_id"]), str(at["_id"])]
    assert to_edge == [str(before["_id"])]
    # 499,5 ms: o evento em 499 ms fica de fora, o de 500 ms entra.
    assert sub_millisecond == [str(after["_id"]), str(at["_id"])]


def test_offsets_in_from_and_to_are_honoured(client: APIClient, store: EventStore) -> None:
    doc = _doc(at=datetime(2026, 11, 1, 15, 0, tzinfo=UTC))
    _insert(store, [doc])

    inside = _ids(client.get(URL, {"from": "2026-11-01T12:00:00-03:00", "to": "2026-11-01T12:00:01-03:00"}))
    outside = _ids(client.get(URL, {"from": "2026-11-01T12:00:00Z", "to": "2026-11-01T12:00:01Z"}))

    assert inside == [str(doc["_id"])]
    assert outside == []


def test_range_counts_back_from_now(client: APIClient, store: EventStore) -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    inside = _doc(at=now - timedelta(minutes=15))
    outside = _doc(at=now - timedelta(minutes=15, milliseconds=1))
    _insert(store, [inside, outside])

    with time_machine.travel(now, tick=False):
        body = client.get(URL, {"range": "15m"}).json()

    assert _ids_of(body) == [str(inside["_id"])]


def _ids_of(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["results"]]


def test_without_range_the_list_covers_all_history(client: APIClient, store: EventStore) -> None:
    old = _doc(at=datetime(1999, 1, 1, tzinfo=UTC))
    _insert(store, [old, _doc()])

    assert client.get(URL).json()["total"] == 2


def test_type_accepts_one_or_several_and_user_id_is_an_exact_match(client: APIClient, store: EventStore) -> None:
    docs = [_doc(kind=kind, user=user) for kind in TYPES for user in USERS]
    _insert(store, docs)

    several = client.get(URL, {"type": "login,deposit,login", "limit": "500"}).json()
    regex_like = client.get(URL, {"userId": "u.*"}).json()

    assert sorted(_ids_of(several)) == sorted(_oracle(docs, types=["login", "deposit"]))
    assert regex_like["total"] == 0


def test_results_have_the_public_event_shape(client: APIClient, store: EventStore) -> None:
    doc = _doc(user="u9", kind="deposit", value=12.5, at=BASE)
    _insert(store, [doc])

    [item] = client.get(URL).json()["results"]

    assert item == {
        "id": str(doc["_id"]),
        "userId": "u9",
        "type": "deposit",
        "value": 12.5,
        "timestamp": "2026-11-01T12:00:00.000Z",
        "metadata": {"n": 1},
        "receivedAt": "2026-11-01T12:00:00.000Z",
    }


def test_slashed_path_answers_too(client: APIClient) -> None:
    assert client.get(URL + "/").status_code == HTTPStatus.OK


def test_anonymous_gets_401() -> None:
    assert APIClient().get(URL).status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.django_db(transaction=True)
async def test_list_answers_through_the_real_asgi_app(asgi_client: Any, store: EventStore) -> None:
    user = await sync_to_async(make_user)("ana")
    refresh = await sync_to_async(RefreshToken.for_user)(user)  # grava o token emitido (lista negra)
    token = str(refresh.access_token)
    _insert(store, [_doc()])

    response = await asgi_client.get(URL, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["total"] == 1
