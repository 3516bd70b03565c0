"""``manage.py send_event``: curl assinado na hora e envio real verificável."""

from __future__ import annotations

import io
import json
import shlex
from http import HTTPStatus

import httpx
import pytest
import respx
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from standardwebhooks.webhooks import Webhook

from events import webhook
from events.domain import EventFilter
from events.store import EventStore

pytestmark = pytest.mark.django_db

URL = "http://127.0.0.1:8000/api/webhook/event"


def parse_curl(line: str) -> tuple[str, dict[str, str], str]:
    words = shlex.split(line)
    assert words[:4] == ["curl", "-sS", "-X", "POST"]
    headers = {}
    for index, word in enumerate(words):
        if word == "-H":
            name, _, value = words[index + 1].partition(": ")
            headers[name] = value
    return words[4], headers, words[words.index("--data-raw") + 1]


async def test_printed_curl_is_accepted_by_the_real_webhook(asgi_client: httpx.AsyncClient, store: EventStore) -> None:
    webhook.verifiers.cache_clear()
    out = io.StringIO()
    call_command("send_event", "--curl", "--type", "deposit", "--user", "u-curl", "--value", "250.5", stdout=out)

    url, headers, body = parse_curl(out.getvalue().strip())
    response = await asgi_client.post("/api/webhook/event", content=body.encode(), headers=headers)

    assert url == URL
    assert response.status_code == HTTPStatus.CREATED
    [doc] = list(store.iter_events(EventFilter()))
    assert (doc["userId"], doc["type"], doc["value"]) == ("u-curl", "deposit", 250.5)
    assert doc["idempotencyKey"] == headers["webhook-id"]


@respx.mock
def test_send_posts_a_signed_delivery_and_reports_the_answer() -> None:
    route = respx.post("http://backend.test/api/webhook/event").mock(
        return_value=httpx.Response(201, json={"id": "x", "duplicate": False})
    )
    out = io.StringIO()

    call_command(
        "send_event", "--url", "http://backend.test/api/webhook/event", "--id", "msg_fixo", "--metadata",
        '{"asset": "VALE3"}', stdout=out,
    )  # fmt: skip

    request = route.calls.last.request
    payload = Webhook(settings.WEBHOOK_SECRETS[0]).verify(request.content, dict(request.headers))
    assert request.headers["webhook-id"] == "msg_fixo"
    assert payload["metadata"] == {"asset": "VALE3"}
    assert json.loads(request.content)["userId"].startswith("trader-")
    assert out.getvalue().startswith("201 ")


@respx.mock
def test_send_fails_loudly_on_a_rejected_delivery() -> None:
    respx.post(URL).mock(return_value=httpx.Response(401, json={"error": "bad_signature"}))

    with pytest.raises(CommandError, match="401"):
        call_command("send_event", stdout=io.StringIO())


def test_send_requires_a_secret() -> None:
    with override_settings(WEBHOOK_SECRETS=[]), pytest.raises(CommandError, match="WEBHOOK_SECRET"):
        call_command("send_event", "--curl", stdout=io.StringIO())
