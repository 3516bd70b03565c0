"""Admin de eventos sobre o MongoDB: listagem, filtros, detalhe e exclusão via store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from bson import ObjectId
from django.urls import reverse

from events.domain import parse_event_id
from events.selectors import summary_compute
from events.windows import Window
from tests.dashboard.conftest import ingest

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/events/event/"


@pytest.fixture
def events():
    return [
        ingest(user_id="u-alice", event_type="purchase", value=100.0, ago=timedelta(minutes=10)),
        ingest(user_id="u-alice", event_type="login", value=0.0, ago=timedelta(minutes=20)),
        ingest(user_id="u-bob", event_type="purchase", value=50.0, ago=timedelta(hours=3)),
        ingest(user_id="u-carol", event_type="deposit", value=300.0, ago=timedelta(days=3)),
    ]


def listed_ids(response: Any) -> list[str]:
    return [row["id"] for row in response.context["rows"]]


def test_admin_index_links_the_mongo_screens_for_staff(client, staff_user):
    client.force_login(staff_user)

    html = client.get("/admin/").content.decode()

    assert "Eventos (MongoDB)" in html
    assert f'href="{LIST_URL}"' in html
    assert 'href="/admin/events/rejectedwebhook/"' in html


def test_staff_sees_events_newest_first(client, staff_user, events):
    client.force_login(staff_user)

    response = client.get(LIST_URL)

    assert response.status_code == HTTPStatus.OK
    assert listed_ids(response) == [event["id"] for event in events]
    assert response.context["total"] == 4


def test_non_staff_is_sent_to_the_admin_login(client, analyst, events):
    client.force_login(analyst)

    for url in (LIST_URL, f"{LIST_URL}{events[0]['id']}/", f"{LIST_URL}{events[0]['id']}/delete/"):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith("/admin/login/")


def test_anonymous_is_sent_to_the_admin_login(client, events):
    response = client.get(LIST_URL)

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith("/admin/login/")


def test_filter_by_type(client, staff_user, events):
    client.force_login(staff_user)

    response = client.get(LIST_URL, {"type": "purchase"})

    assert listed_ids(response) == [events[0]["id"], events[2]["id"]]


def test_search_by_user_id(client, staff_user, events):
    client.force_login(staff_user)

    response = client.get(LIST_URL, {"q": "u-alice"})

    assert listed_ids(response) == [events[0]["id"], events[1]["id"]]


def test_filter_by_range(client, staff_user, events):
    client.force_login(staff_user)

    response = client.get(LIST_URL, {"range": "24h"})

    assert listed_ids(response) == [event["id"] for event in events[:3]]


def test_type_filter_offers_the_types_with_counts(client, staff_user, events):
    client.force_login(staff_user)

    response = client.get(LIST_URL, {"range": "7d"})

    assert response.context["type_counts"] == [
        {"type": "deposit", "count": 1},
        {"type": "login", "count": 1},
        {"type": "purchase", "count": 2},
    ]


def test_list_is_paginated(client, staff_user):
    for index in range(53):
        ingest(user_id=f"u-{index}", event_type="login", value=1.0, ago=timedelta(seconds=index + 1))
    client.force_login(staff_user)

    first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"p": "2"})
    beyond = client.get(LIST_URL, {"p": "99"})

    assert len(listed_ids(first)) == 50
    assert len(listed_ids(second)) == 3
    assert set(listed_ids(first)).isdisjoint(listed_ids(second))
    assert listed_ids(beyond) == listed_ids(second)


def test_detail_shows_fields_and_escaped_metadata(client, staff_user):
    event = ingest(
        user_id="<b>u-x</b>",
        event_type="purchase",
        value=12.5,
        metadata={"note": "<script>alert('x')</script>", "asset": "PETR4"},
        key="msg-detail-1",
    )
    client.force_login(staff_user)

    response = client.get(f"{LIST_URL}{event['id']}/")

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(" in html
    assert "&lt;b&gt;u-x&lt;/b&gt;" in html
    assert "PETR4" in html
    assert "msg-detail-1" in html


def test_detail_of_unknown_or_malformed_id_is_404(client, staff_user):
    client.force_login(staff_user)

    assert client.get(f"{LIST_URL}{ObjectId()}/").status_code == HTTPStatus.NOT_FOUND
    assert client.get(f"{LIST_URL}nao-e-um-id/").status_code == HTTPStatus.NOT_FOUND


def test_delete_asks_for_confirmation_first(client, staff_user, store, events):
    client.force_login(staff_user)

    response = client.get(f"{LIST_URL}{events[0]['id']}/delete/")

    assert response.status_code == HTTPStatus.OK
    assert store.get_event(parse_event_id(events[0]["id"])) is not None


def test_delete_removes_the_event_and_updates_the_rollups(client, staff_user, store, events):
    client.force_login(staff_user)
    now = datetime.now(UTC) + timedelta(seconds=1)
    window = Window(now - timedelta(hours=24), now)
    before = summary_compute(window=window, top=5)["totals"]

    response = client.post(f"{LIST_URL}{events[0]['id']}/delete/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("admin:events_event_list")
    assert store.get_event(parse_event_id(events[0]["id"])) is None
    after = summary_compute(window=window, top=5)["totals"]
    assert after["count"] == before["count"] - 1
    assert after["sum"] == pytest.approx(before["sum"] - 100.0)
    assert "excluído" in client.get(LIST_URL).content.decode()


def test_delete_of_unknown_event_is_404(client, staff_user):
    client.force_login(staff_user)

    assert client.post(f"{LIST_URL}{ObjectId()}/delete/").status_code == HTTPStatus.NOT_FOUND


def test_store_outage_shows_a_503_page(client, staff_user, monkeypatch):
    from events import selectors
    from events.store import StoreUnavailable

    def broken(**_kwargs):
        raise StoreUnavailable("fora do ar")

    monkeypatch.setattr(selectors, "event_list", broken)
    client.force_login(staff_user)

    response = client.get(LIST_URL)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "O MongoDB não respondeu" in response.content.decode()
