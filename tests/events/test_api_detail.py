"""GET e DELETE /api/events/<id>: leitura para autenticados; remoção só para administradores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import pytest
from bson import ObjectId
from rest_framework.test import APIClient

from events.store import EventStore
from tests.accounts.factories import bearer_client, make_user
from tests.events.test_api_list import _doc

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(store: EventStore) -> dict[str, object]:
    doc = _doc(user="u7", kind="deposit", value=30.0, at=datetime.now(UTC) - timedelta(minutes=5))
    store.insert_event(doc)  # type: ignore[arg-type]
    return doc


@pytest.fixture
def staff() -> APIClient:
    return bearer_client(make_user("admin", staff=True))


@pytest.fixture
def analyst() -> APIClient:
    return bearer_client(make_user("ana"))


def _url(event_id: object) -> str:
    return f"/api/events/{event_id}"


def test_authenticated_user_reads_an_event(analyst: APIClient, event: dict[str, object]) -> None:
    response = analyst.get(_url(event["_id"]))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["id"] == str(event["_id"])
    assert response.json()["userId"] == "u7"
    assert analyst.get(_url(event["_id"]) + "/").status_code == HTTPStatus.OK


@pytest.mark.parametrize("event_id", [str(ObjectId()), "not-an-id", "0" * 23, "g" * 24, "summary-ish"])
def test_unknown_or_malformed_ids_get_404(analyst: APIClient, event_id: str) -> None:
    response = analyst.get(_url(event_id))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"] == "not_found"


def test_anonymous_cannot_read(event: dict[str, object]) -> None:
    assert APIClient().get(_url(event["_id"])).status_code == HTTPStatus.UNAUTHORIZED


def test_staff_deletes_an_event_and_the_summary_forgets_it(
    staff: APIClient, store: EventStore, event: dict[str, object]
) -> None:
    before = staff.get("/api/events/summary", {"range": "1h"}).json()["totals"]["count"]

    response = staff.delete(_url(event["_id"]))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert store.get_event(event["_id"]) is None  # type: ignore[arg-type]
    assert staff.get(_url(event["_id"])).status_code == HTTPStatus.NOT_FOUND
    # top diferente: outra chave de cache, então o resumo é recalculado.
    after = staff.get("/api/events/summary", {"range": "1h", "top": "6"}).json()["totals"]["count"]
    assert (before, after) == (1, 0)


def test_analyst_gets_403_and_the_event_stays(analyst: APIClient, store: EventStore, event: dict[str, object]) -> None:
    response = analyst.delete(_url(event["_id"]))

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert response.json()["error"] == "permission_denied"
    assert store.get_event(event["_id"]) is not None  # type: ignore[arg-type]


def test_anonymous_gets_401_and_the_event_stays(store: EventStore, event: dict[str, object]) -> None:
    response = APIClient().delete(_url(event["_id"]))

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert store.get_event(event["_id"]) is not None  # type: ignore[arg-type]


@pytest.mark.parametrize("event_id", [str(ObjectId()), "not-an-id"])
def test_staff_deleting_unknown_or_malformed_ids_gets_404(staff: APIClient, event_id: str) -> None:
    assert staff.delete(_url(event_id)).status_code == HTTPStatus.NOT_FOUND


def test_deleting_twice_gets_404_the_second_time(staff: APIClient, event: dict[str, object]) -> None:
    first = staff.delete(_url(event["_id"]))
    second = staff.delete(_url(event["_id"]))

    assert (first.status_code, second.status_code) == (HTTPStatus.NO_CONTENT, HTTPStatus.NOT_FOUND)


def test_inactive_staff_token_cannot_delete(store: EventStore, event: dict[str, object]) -> None:
    admin = make_user("admin", staff=True)
    client = bearer_client(admin)
    admin.is_active = False
    admin.save()

    assert client.delete(_url(event["_id"])).status_code == HTTPStatus.UNAUTHORIZED
    assert store.get_event(event["_id"]) is not None  # type: ignore[arg-type]
