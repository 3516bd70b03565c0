"""Webhook sob teste adversarial: o que cada sondagem dava no main antigo e o que dá agora.

Cada teste nomeia a sondagem; o comentário diz a resposta antiga.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from bson import ObjectId
from django.conf import settings
from django.test import override_settings

from events import webhook
from events.domain import EventFilter
from events.store import EventStore
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db

URL = "/api/webhook/event"
SECOND_SECRET = "whsec_QWxsIGhhaWwgdGhlIHJvdGF0aW5nIHNlY3JldCEhIQ=="


@pytest.fixture(autouse=True)
def _fresh_verifiers() -> Any:
    webhook.verifiers.cache_clear()
    yield
    webhook.verifiers.cache_clear()


async def test_a_metadata_integer_beyond_64_bits_is_400_naming_metadata(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    # Antes: 500 em texto puro (OverflowError do BSON), fora da quarentena.
    for big in (2**63, -(2**63) - 1):
        body = json.dumps({"userId": "u-1", "type": "purchase", "value": 1, "metadata": {"a": [{"n": big}]}})

        response = await asgi_client.post(URL, content=body, headers=sign(body))

        assert response.status_code == HTTPStatus.BAD_REQUEST
        assert "metadata" in response.json()["fields"]
    assert store.count_events(EventFilter()) == 0
    assert store.rejections_by_reason() == {"invalid_payload": 2}


async def test_the_largest_64_bit_integers_are_accepted(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    body = json.dumps({"userId": "u-1", "type": "t", "value": 1, "metadata": {"max": 2**63 - 1, "min": -(2**63)}})

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.CREATED


@pytest.mark.parametrize("moment", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_a_timestamp_that_leaves_the_calendar_in_utc_is_400_naming_timestamp(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore, moment: str
) -> None:
    # Antes: 500 (OverflowError em to_storage_precision).
    body = event_body(timestamp=moment)

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["timestamp"]
    assert store.rejections_by_reason() == {"invalid_payload": 1}


async def test_a_lone_surrogate_in_the_user_id_is_400_naming_user_id(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    body = '{"userId": "u\\ud800", "type": "purchase", "value": 1}'

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["userId"]


def _raw_signature(msg_id: str, timestamp: str, body: bytes) -> str:
    key = base64.b64decode(settings.WEBHOOK_SECRETS[0].removeprefix("whsec_") + "==")
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


async def test_a_correctly_signed_body_that_is_not_utf8_is_400_invalid_encoding(
    asgi_client: httpx.AsyncClient, store: EventStore
) -> None:
    # Antes: 401 bad_signature, e a quarentena registrava o motivo errado.
    body = '{"userId": "ção", "type": "purchase", "value": 1}'.encode("latin-1")
    timestamp = str(int(datetime.now(UTC).timestamp()))
    headers = {
        "webhook-id": "msg_latin1",
        "webhook-timestamp": timestamp,
        "webhook-signature": _raw_signature("msg_latin1", timestamp, body),
    }

    response = await asgi_client.post(URL, content=body, headers=headers)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_encoding"
    assert list(response.json()["fields"]) == ["body"]
    assert store.rejections_by_reason() == {"invalid_encoding": 1}


async def test_replaying_a_delivery_after_its_event_was_deleted_does_not_bring_it_back(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    # Antes: 201 — o reenvio recriava o evento apagado pelo admin.
    body = event_body(timestamp="2026-11-01T10:00:00Z")
    headers = sign(body, msg_id="msg_deleted")
    created = await asgi_client.post(URL, content=body, headers=headers)
    assert store.delete_event(ObjectId(created.json()["id"])) is not None

    replay = await asgi_client.post(URL, content=body, headers=sign(body, msg_id="msg_deleted"))

    assert replay.status_code == HTTPStatus.OK
    assert replay.json() == {"id": created.json()["id"], "duplicate": True, "deleted": True}
    assert store.count_events(EventFilter()) == 0


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_raw_webhook_responses_carry_the_security_headers(
    asgi_client: httpx.AsyncClient, sign: Signer, method: str
) -> None:
    # Antes: o app ASGI do webhook respondia sem X-Content-Type-Options nem X-Frame-Options.
    body = event_body()

    response = await asgi_client.request(method, URL, content=body, headers=sign(body))

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


async def _post_from(ip: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    from trader_monitor.asgi import application

    transport = httpx.ASGITransport(app=application, client=(ip, 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(URL, content=body, headers=headers)


async def test_valid_deliveries_are_limited_per_sender_secret_not_per_ip(sign: Signer, store: EventStore) -> None:
    # Antes: 6000/min por IP — uma plataforma com poucos IPs e muito volume levava 429.
    with override_settings(WEBHOOK_RATE_LIMIT="3/m", WEBHOOK_SECRETS=[settings.WEBHOOK_SECRETS[0], SECOND_SECRET]):
        webhook.verifiers.cache_clear()
        statuses = []
        for index in range(4):
            body = event_body(value=float(index))
            response = await _post_from(f"10.0.0.{index + 1}", body, sign(body))
            statuses.append(response.status_code)
        other_sender = event_body(value=99.0)
        other = await _post_from("10.0.0.1", other_sender, sign(other_sender, secret=SECOND_SECRET))

    assert statuses == [HTTPStatus.CREATED] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert other.status_code == HTTPStatus.CREATED
    assert store.count_events(EventFilter()) == 4


async def test_invalid_attempts_are_limited_per_ip_at_a_low_rate(sign: Signer, store: EventStore) -> None:
    with override_settings(WEBHOOK_INVALID_RATE_LIMIT="2/m"):
        bad = [await _post_from("10.9.9.9", event_body(), {"webhook-id": "x"}) for _ in range(3)]
        elsewhere = await _post_from("10.9.9.8", event_body(), {"webhook-id": "x"})
        body = event_body()
        valid_from_the_same_ip = await _post_from("10.9.9.9", body, sign(body))

    assert [response.status_code for response in bad] == [HTTPStatus.UNAUTHORIZED] * 2 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert 1 <= int(bad[-1].headers["Retry-After"]) <= 60
    assert elsewhere.status_code == HTTPStatus.UNAUTHORIZED
    assert valid_from_the_same_ip.status_code == HTTPStatus.CREATED
    # Os 429 não enchem a quarentena (seria amplificar o abuso): só as três 401.
    assert store.rejections_by_reason() == {"missing_signature": 3}
