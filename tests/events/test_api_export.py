"""GET /api/events/export: CSV (RFC 4180) e NDJSON com os filtros da listagem, em fluxo."""

from __future__ import annotations

import csv
import io
import json
import warnings
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
import time_machine
from asgiref.sync import sync_to_async
from bson import ObjectId
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from events import api
from events.store import EventStore, StoreUnavailable
from tests.accounts.factories import bearer_client, make_user

pytestmark = pytest.mark.django_db

URL = "/api/events/export"
NOW = datetime(2026, 11, 29, 15, 37, 12, 345000, tzinfo=UTC)
HEADER = ["id", "userId", "type", "value", "timestamp", "receivedAt", "metadata"]


def doc(
    *, user: str = "u1", kind: str = "purchase", value: float = 1.0, ago: timedelta, metadata: Any = None
) -> dict[str, Any]:
    moment = NOW - ago
    document: dict[str, Any] = {
        "_id": ObjectId(),
        "userId": user,
        "type": kind,
        "value": value,
        "timestamp": moment,
        "receivedAt": moment,
        "bodyHash": "x",
        "ingestId": "x",
        "schemaVersion": 1,
    }
    if metadata is not None:
        document["metadata"] = metadata
    return document


@pytest.fixture
def client() -> APIClient:
    api_client = APIClient()
    api_client.force_authenticate(make_user("ana"))
    return api_client


@pytest.fixture
def events(store: EventStore) -> list[dict[str, Any]]:
    store.now = lambda: NOW
    docs = [
        doc(user="u1", kind="purchase", value=100.0, ago=timedelta(minutes=5), metadata={"asset": "PETR4"}),
        doc(user="u1", kind="deposit", value=50.5, ago=timedelta(hours=2)),
        doc(user="u2", kind="purchase", value=10.0, ago=timedelta(hours=3)),
        doc(user="u3", kind="login", value=0.0, ago=timedelta(days=3)),
    ]
    store.insert_events_bulk(docs)  # type: ignore[arg-type]
    return docs


def get(client: Client, **params: Any) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, params)


def body(response: Any) -> str:
    assert response.streaming
    return b"".join(response.streaming_content).decode()


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body(response), newline="")))


def test_csv_has_a_header_row_and_one_row_per_event_in_time_order(client, events):
    response = get(client)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert response["Content-Disposition"] == 'attachment; filename="eventos-20261129T153712Z.csv"'
    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert [row[0] for row in rows[1:]] == [str(d["_id"]) for d in reversed(events)]
    newest = rows[-1]
    assert newest[1:] == [
        "u1",
        "purchase",
        "100.0",
        "2026-11-29T15:32:12.345Z",
        "2026-11-29T15:32:12.345Z",
        '{"asset":"PETR4"}',
    ]


def test_csv_lines_end_with_crlf_and_cells_with_commas_or_quotes_are_quoted(client, store):
    event = doc(user='a,"b"', ago=timedelta(minutes=1), metadata={"note": 'diz "oi", tchau'})
    store.insert_events_bulk([event])

    text = body(get(client))

    assert text == (
        "id,userId,type,value,timestamp,receivedAt,metadata\r\n"
        f'{event["_id"]},"a,""b""",purchase,1.0,2026-11-29T15:36:12.345Z,2026-11-29T15:36:12.345Z,'
        '"{""note"":""diz \\""oi\\"", tchau""}"\r\n'
    )
    [row] = list(csv.reader(io.StringIO(text, newline="")))[1:]
    assert row[1] == 'a,"b"'
    assert json.loads(row[6]) == {"note": 'diz "oi", tchau'}


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x")', "+1+2", "-2+3+cmd|' /C calc'!A0", "@SUM(A1:A2)"])
def test_cells_that_would_start_a_formula_are_neutralized(client, store, text):
    store.insert_events_bulk([doc(user=text, kind=text, ago=timedelta(minutes=1))])

    [row] = csv_rows(get(client))[1:]

    assert row[1] == "'" + text
    assert row[2] == "'" + text


def test_values_stay_numbers_even_when_negative(client, store):
    store.insert_events_bulk([doc(value=-12.5, ago=timedelta(minutes=1))])

    [row] = csv_rows(get(client))[1:]

    assert row[3] == "-12.5"


def test_export_applies_the_same_filters_as_the_list(client, events):
    params = {"type": "purchase,deposit", "userId": "u1", "range": "24h"}

    exported = [row[0] for row in csv_rows(get(client, **params))[1:]]
    with time_machine.travel(NOW, tick=False):
        listed = [event["id"] for event in client.get("/api/events", {**params, "sort": "timestamp"}).json()["results"]]

    assert exported == listed == [str(events[1]["_id"]), str(events[0]["_id"])]


def test_explicit_from_and_to_select_the_half_open_window(client, events):
    start = (NOW - timedelta(hours=3)).isoformat()
    end = (NOW - timedelta(minutes=5)).isoformat()

    rows = csv_rows(get(client, **{"from": start, "to": end}))[1:]

    assert [row[0] for row in rows] == [str(events[2]["_id"]), str(events[1]["_id"])]


def test_without_a_window_the_whole_history_is_exported(client, events):
    rows = csv_rows(get(client))[1:]

    assert len(rows) == len(events)


def test_an_empty_export_is_just_the_header(client, events):
    assert csv_rows(get(client, userId="nobody")) == [HEADER]


def test_ndjson_has_one_event_per_line_in_the_list_shape(client, events):
    response = get(client, format="ndjson", range="24h")

    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Content-Disposition"].endswith('.ndjson"')
    lines = body(response).splitlines()
    with time_machine.travel(NOW, tick=False):
        listed = client.get("/api/events", {"range": "24h", "sort": "timestamp"}).json()["results"]
    assert [json.loads(line) for line in lines] == listed


def test_an_empty_ndjson_export_has_an_empty_body(client, events):
    assert body(get(client, format="ndjson", userId="nobody")) == ""


def test_large_exports_are_sent_in_several_chunks_without_losing_rows(client, store, monkeypatch):
    monkeypatch.setattr(api, "EXPORT_BATCH_SIZE", 7)
    store.insert_events_bulk([doc(user=f"u{n}", value=float(n), ago=timedelta(seconds=n + 1)) for n in range(50)])

    with time_machine.travel(NOW, tick=False):
        chunks = list(client.get(URL).streaming_content)

    assert len(chunks) == 8
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert len(rows) == 51
    assert [row[1] for row in rows[1:]] == [f"u{n}" for n in reversed(range(50))]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "xlsx"}, "format"),
        ({"range": "2y"}, "range"),
        ({"range": "24h", "from": "2026-11-29T00:00:00Z"}, "range"),
        ({"cursor": "x"}, "cursor"),
        ({"type[$ne]": "x"}, "type[$ne]"),
    ],
)
def test_invalid_parameters_are_a_json_400_naming_the_parameter(client, params, field):
    response = get(client, **params)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response["Content-Type"] == "application/json"
    assert field in response.json()["fields"]


def test_export_requires_authentication():
    response = get(APIClient())

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "not_authenticated"


def test_a_jwt_can_export(events):
    response = bearer_client(make_user("bia")).get(URL)

    assert response.status_code == HTTPStatus.OK
    assert len(csv_rows(response)) == len(events) + 1


def test_a_signed_in_session_can_export(events):
    session = Client()
    session.force_login(make_user("bia"))

    response = get(session)

    assert response.status_code == HTTPStatus.OK
    assert len(csv_rows(response)) == len(events) + 1


def test_export_has_its_own_rate_limit(client, settings):
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {"default": "100/m", "events-export": "2/m"}

    statuses = [get(client).status_code for _ in range(3)]

    assert statuses == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    assert get(client, format="ndjson").status_code == HTTPStatus.TOO_MANY_REQUESTS
    with time_machine.travel(NOW, tick=False):
        assert client.get("/api/events").status_code == HTTPStatus.OK


def test_store_outage_before_the_first_row_is_a_503_not_a_truncated_file(client, store, monkeypatch):
    def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("fora do ar")

    monkeypatch.setattr(store, "iter_events", down)

    response = get(client)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "Retry-After" in response


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_body_streams_asynchronously(asgi_client, store):
    user = await sync_to_async(make_user)("carla")
    refresh = await sync_to_async(RefreshToken.for_user)(user)
    token = str(refresh.access_token)
    store.insert_events_bulk([doc(user=f"u{n}", ago=timedelta(seconds=n + 1)) for n in range(30)])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = await asgi_client.get(URL, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == HTTPStatus.OK
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert len(rows) == 31
    # Um corpo síncrono seria juntado inteiro na memória pelo Django (e ele avisa quando faz isso).
    assert not [w for w in caught if "StreamingHttpResponse must consume" in str(w.message)]
