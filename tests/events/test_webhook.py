"""POST /api/webhook/event pelo caminho ASGI real (o mesmo que o servidor usa)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import httpx
import pytest
import time_machine
from channels.layers import get_channel_layer
from django.test import RequestFactory, override_settings

from events import webhook
from events.domain import EventFilter
from events.store import EventStore
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db

URL = "/api/webhook/event"
SECOND_SECRET = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tMTIzNA=="


@pytest.fixture(autouse=True)
def _fresh_verifiers() -> Iterator[None]:
    webhook.verifiers.cache_clear()
    yield
    webhook.verifiers.cache_clear()


@pytest.fixture
def unsigned() -> Iterator[None]:
    """Modo de desenvolvimento: sem WEBHOOK_SECRET."""
    with override_settings(WEBHOOK_SECRETS=[]):
        webhook.verifiers.cache_clear()
        yield


def stored(store: EventStore) -> list[dict[str, Any]]:
    return list(store.iter_events(EventFilter()))


def rejections(store: EventStore) -> list[dict[str, Any]]:
    return store.list_rejections(limit=1000)


async def test_signed_event_is_stored_and_answered_201(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    body = event_body(timestamp="2026-01-02T03:04:05.678Z", metadata={"asset": "PETR4"})

    response = await asgi_client.post(URL, content=body, headers=sign(body, msg_id="msg_1"))

    assert response.status_code == HTTPStatus.CREATED
    data = response.json()
    assert data["duplicate"] is False
    assert data["idempotencyKey"] == "webhook-id"
    assert response.headers["X-Request-ID"]
    [doc] = stored(store)
    assert str(doc["_id"]) == data["id"]
    assert doc["userId"] == "u-1"
    assert doc["type"] == "purchase"
    assert doc["value"] == 10.5
    assert doc["timestamp"] == datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    assert doc["metadata"] == {"asset": "PETR4"}
    assert doc["idempotencyKey"] == "msg_1"
    assert doc["schemaVersion"] == 1
    assert len(doc["bodyHash"]) == 64
    assert doc["seq"] == 1


async def test_timestamp_defaults_to_reception_time(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    with time_machine.travel(datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC), tick=False):
        body = event_body()
        response = await asgi_client.post(URL, content=body, headers=sign(body))
    assert response.status_code == HTTPStatus.CREATED
    [doc] = stored(store)
    assert doc["timestamp"] == datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert doc["receivedAt"] == doc["timestamp"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "login", "value": 1}, "userId"),
        ({"userId": "", "type": "login", "value": 1}, "userId"),
        ({"userId": "x" * 129, "type": "login", "value": 1}, "userId"),
        ({"userId": 42, "type": "login", "value": 1}, "userId"),
        ({"userId": " u", "type": "login", "value": 1}, "userId"),
        ({"userId": "u\n1", "type": "login", "value": 1}, "userId"),
        ({"userId": "u", "value": 1}, "type"),
        ({"userId": "u", "type": "t" * 65, "value": 1}, "type"),
        ({"userId": "u", "type": ["login"], "value": 1}, "type"),
        ({"userId": "u", "type": "login"}, "value"),
        ({"userId": "u", "type": "login", "value": "10"}, "value"),
        ({"userId": "u", "type": "login", "value": True}, "value"),
        ({"userId": "u", "type": "login", "value": 1e16}, "value"),
        ({"userId": "u", "type": "login", "value": 1, "timestamp": "2026-01-01T00:00:00"}, "timestamp"),
        ({"userId": "u", "type": "login", "value": 1, "timestamp": 1767225600}, "timestamp"),
        ({"userId": "u", "type": "login", "value": 1, "timestamp": "ontem"}, "timestamp"),
        ({"userId": "u", "type": "login", "value": 1, "timestamp": "2999-01-01T00:00:00Z"}, "timestamp"),
        ({"userId": "u", "type": "login", "value": 1, "metadata": "x"}, "metadata"),
        ({"userId": "u", "type": "login", "value": 1, "metadata": {"$gt": ""}}, "metadata"),
        ({"userId": "u", "type": "login", "value": 1, "metadata": {"a.b": 1}}, "metadata"),
        ({"userId": "u", "type": "login", "value": 1, "metadata": {"blob": "x" * 17000}}, "metadata"),
        (
            {"userId": "u", "type": "login", "value": 1, "metadata": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}},
            "metadata",
        ),
        ({"userId": "u", "type": "login", "value": 1, "user_id": "u"}, "user_id"),
    ],
)
async def test_each_invalid_field_is_named_and_nothing_is_stored(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore, payload: dict[str, Any], field: str
) -> None:
    body = json.dumps(payload).encode()

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    data = response.json()
    assert data["error"] == "invalid_payload"
    assert field in data["fields"], data
    assert stored(store) == []
    [rejected] = rejections(store)
    assert rejected["reason"] == "invalid_payload"
    assert field in rejected["fields"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'{"userId": "u", "type": "t", "value": NaN}', b"\xff\xfe"])
async def test_malformed_json_is_400(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore, body: bytes
) -> None:
    headers = sign(body.decode("latin-1")) if body == b"\xff\xfe" else sign(body)

    response = await asgi_client.post(URL, content=body, headers=headers)

    # Um corpo que não é UTF-8 é 400 com motivo próprio (antes: 401 bad_signature).
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert stored(store) == []
    [rejected] = rejections(store)
    expected_reason = "invalid_encoding" if body == b"\xff\xfe" else response.json()["error"]
    assert rejected["reason"] == expected_reason == response.json()["error"]


async def test_unsigned_request_is_401_and_quarantined(asgi_client: httpx.AsyncClient, store: EventStore) -> None:
    response = await asgi_client.post(URL, content=event_body())

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "missing_signature"
    assert stored(store) == []
    [rejected] = rejections(store)
    assert rejected["reason"] == "missing_signature"
    assert rejected["body"] == event_body().decode()


async def test_wrong_secret_and_tampered_body_are_401(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    body = event_body()
    wrong = await asgi_client.post(URL, content=body, headers=sign(body, secret=SECOND_SECRET))
    tampered = await asgi_client.post(URL, content=event_body(value=999), headers=sign(body))

    assert wrong.status_code == tampered.status_code == HTTPStatus.UNAUTHORIZED
    assert wrong.json()["error"] == tampered.json()["error"] == "bad_signature"
    assert stored(store) == []
    assert [r["reason"] for r in rejections(store)] == ["bad_signature", "bad_signature"]
    assert all(r["headers"]["webhook-signature"] == "[removido]" for r in rejections(store))


@pytest.mark.parametrize(
    "signature",
    ["garbage", "v1,", "v1,@@@not-base64@@@", "v1", "v1,a,b", ",", "v2,abc", " "],
)
async def test_malformed_signature_header_is_401_never_500(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore, signature: str
) -> None:
    body = event_body()
    headers = sign(body) | {"webhook-signature": signature}

    response = await asgi_client.post(URL, content=body, headers=headers)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert stored(store) == []


@pytest.mark.parametrize("timestamp", ["abc", "", "1e999", "-1"])
async def test_malformed_timestamp_header_is_401(asgi_client: httpx.AsyncClient, sign: Signer, timestamp: str) -> None:
    body = event_body()
    headers = sign(body) | {"webhook-timestamp": timestamp}

    response = await asgi_client.post(URL, content=body, headers=headers)

    assert response.status_code == HTTPStatus.UNAUTHORIZED


async def test_secret_rotation_accepts_any_configured_secret(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    from django.conf import settings

    old_secret = settings.WEBHOOK_SECRETS[0]
    body = event_body()
    with override_settings(WEBHOOK_SECRETS=[SECOND_SECRET, old_secret]):
        webhook.verifiers.cache_clear()
        by_new = await asgi_client.post(URL, content=body, headers=sign(body, secret=SECOND_SECRET))
        by_old = await asgi_client.post(URL, content=body, headers=sign(body, secret=old_secret))
    with override_settings(WEBHOOK_SECRETS=[SECOND_SECRET]):
        webhook.verifiers.cache_clear()
        retired = await asgi_client.post(URL, content=body, headers=sign(body, secret=old_secret))

    assert by_new.status_code == by_old.status_code == HTTPStatus.CREATED
    assert retired.status_code == HTTPStatus.UNAUTHORIZED
    assert len(stored(store)) == 2


@pytest.mark.parametrize(
    ("skew_seconds", "expected"),
    [
        (-299, HTTPStatus.CREATED),
        (-301, HTTPStatus.UNAUTHORIZED),
        (299, HTTPStatus.CREATED),
        (301, HTTPStatus.UNAUTHORIZED),
    ],
)
async def test_signature_timestamp_tolerance_edges(
    asgi_client: httpx.AsyncClient, sign: Signer, skew_seconds: int, expected: HTTPStatus
) -> None:
    now = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
    body = event_body()
    headers = sign(body, timestamp=now + timedelta(seconds=skew_seconds))

    with time_machine.travel(now, tick=False):
        response = await asgi_client.post(URL, content=body, headers=headers)

    assert response.status_code == expected
    if expected == HTTPStatus.UNAUTHORIZED:
        assert response.json()["error"] == "stale_timestamp"


async def test_replay_is_duplicate_with_original_id_and_no_second_broadcast(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("events", channel)
    body = event_body(timestamp="2026-01-01T00:00:00Z")
    headers = sign(body, msg_id="msg_replay")

    first = await asgi_client.post(URL, content=body, headers=headers)
    message = await asyncio.wait_for(layer.receive(channel), timeout=2)
    replay = await asgi_client.post(URL, content=body, headers=sign(body, msg_id="msg_replay"))

    assert first.status_code == HTTPStatus.CREATED
    assert replay.status_code == HTTPStatus.OK
    assert replay.json() == {"id": first.json()["id"], "duplicate": True, "idempotencyKey": "webhook-id"}
    assert message["type"] == "event.new"
    assert message["event"]["id"] == first.json()["id"]
    assert message["event"]["timestamp"] == "2026-01-01T00:00:00.000Z"
    assert message["cursor"] == 1
    # A difusão é aguardada antes da resposta: a fila já teria a 2ª mensagem.
    pending = layer.channels.get(channel)
    assert pending is None or pending.qsize() == 0
    assert len(stored(store)) == 1


async def test_same_id_with_different_body_is_409_and_quarantined(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    first_body = event_body(value=1)
    other_body = event_body(value=2)
    first = await asgi_client.post(URL, content=first_body, headers=sign(first_body, msg_id="msg_x"))

    conflict = await asgi_client.post(URL, content=other_body, headers=sign(other_body, msg_id="msg_x"))

    assert first.status_code == HTTPStatus.CREATED
    assert conflict.status_code == HTTPStatus.CONFLICT
    assert conflict.json()["error"] == "conflict"
    [doc] = stored(store)
    assert doc["value"] == 1
    [rejected] = rejections(store)
    assert rejected["reason"] == "conflict"
    assert rejected["webhookId"] == "msg_x"


async def test_body_over_64kib_is_413(asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore) -> None:
    body = event_body(metadata={"pad": "x" * (64 * 1024)})

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert stored(store) == []
    [rejected] = rejections(store)
    assert rejected["reason"] == "payload_too_large"
    assert rejected["bodySize"] == len(body)


async def test_chunked_body_without_content_length_is_cut_at_limit(store: EventStore) -> None:
    from trader_monitor.asgi import application

    chunk = b"x" * 16384
    sent = {"chunks": 0}
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        sent["chunks"] += 1
        return {"type": "http.request", "body": chunk, "more_body": sent["chunks"] < 1000}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "headers": [],
        "client": ("10.0.0.2", 1),
        "query_string": b"",
    }
    await application(scope, receive, send)

    assert messages[0]["status"] == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    # Parou de ler logo depois de passar do limite, sem consumir os ~16 MiB.
    assert sent["chunks"] == 5
    assert stored(store) == []


async def test_broadcast_failure_still_answers_201(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    layer = get_channel_layer()

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("redis down")

    monkeypatch.setattr(layer, "group_send", broken)
    body = event_body()

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.CREATED
    assert len(stored(store)) == 1


def test_concurrent_identical_deliveries_store_exactly_one(sign: Signer, store: EventStore) -> None:
    body = event_body(timestamp="2026-01-01T00:00:00Z")
    headers = sign(body, msg_id="msg_concurrent")
    request = RequestFactory().post(URL, body, content_type="application/json", REMOTE_ADDR="10.0.0.3")
    delivery = webhook.Delivery(headers, body, "10.0.0.3", len(body), request)
    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def deliver() -> None:
        barrier.wait()
        statuses.append(webhook.process_delivery(delivery).status)

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 15 + [201]
    assert len(stored(store)) == 1


async def test_get_is_405(asgi_client: httpx.AsyncClient) -> None:
    response = await asgi_client.get(URL)

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert response.headers["Allow"] == "POST"


async def test_trailing_slash_is_accepted_without_redirect(asgi_client: httpx.AsyncClient, sign: Signer) -> None:
    body = event_body()

    response = await asgi_client.post(URL + "/", content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.CREATED


class TestUnsignedDevelopmentMode:
    async def test_idempotency_key_header_dedupes(
        self, unsigned: None, asgi_client: httpx.AsyncClient, store: EventStore
    ) -> None:
        body = event_body()
        first = await asgi_client.post(URL, content=body, headers={"Idempotency-Key": "k-1"})
        again = await asgi_client.post(URL, content=body, headers={"Idempotency-Key": "k-1"})

        assert first.status_code == HTTPStatus.CREATED
        assert first.json()["idempotencyKey"] == "idempotency-key"
        assert again.status_code == HTTPStatus.OK
        assert again.json()["duplicate"] is True
        assert len(stored(store)) == 1

    async def test_body_with_own_timestamp_dedupes_on_content(
        self, unsigned: None, asgi_client: httpx.AsyncClient, store: EventStore
    ) -> None:
        body = event_body(timestamp="2026-01-01T00:00:00Z")
        reordered = json.dumps(dict(reversed(list(json.loads(body).items())))).encode()

        first = await asgi_client.post(URL, content=body)
        again = await asgi_client.post(URL, content=reordered)

        assert first.status_code == HTTPStatus.CREATED
        assert first.json()["idempotencyKey"] == "body"
        assert again.status_code == HTTPStatus.OK
        assert len(stored(store)) == 1

    async def test_without_any_key_each_post_is_new_and_response_warns(
        self, unsigned: None, asgi_client: httpx.AsyncClient, store: EventStore
    ) -> None:
        body = event_body()
        first = await asgi_client.post(URL, content=body)
        second = await asgi_client.post(URL, content=body)

        assert first.status_code == second.status_code == HTTPStatus.CREATED
        assert first.json()["idempotencyKey"] is None
        assert "warning" in first.json()
        assert first.json()["id"] != second.json()["id"]
        assert len(stored(store)) == 2


def test_django_view_shares_the_same_logic(client: Any, sign: Signer, store: EventStore) -> None:
    body = event_body()
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in sign(body, msg_id="msg_django").items()}

    first = client.post(URL, data=body, content_type="application/json", **headers)
    again = client.post(URL, data=body, content_type="application/json", **headers)
    big = client.post(URL, data=b"x" * (65 * 1024), content_type="application/json", **headers)

    assert first.status_code == HTTPStatus.CREATED
    assert again.status_code == HTTPStatus.OK
    assert big.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert len(stored(store)) == 1
