"""/ws/events/: alertas (``alert.new`` na camada de canais) viram ``{"type": "alert"}`` nos sockets autenticados."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import override_settings

from accounts.models import User
from events.alerts.models import AlertRule
from events.feed.hub import get_hub
from events.feed.publish import EVENTS_GROUP, alert_broadcast
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect
session_cookie = ws.session_cookie


def make_alert(**fields: Any) -> dict[str, Any]:
    """Um alerta no formato de ``GET /api/alerts/<id>``."""
    alert: dict[str, Any] = {
        "id": "665f1c2e8b3e4a0012345678",
        "ruleId": 7,
        "ruleName": "Saque alto",
        "kind": "threshold",
        "severity": "critical",
        "userId": "u-7",
        "eventIds": ["665f1c2e8b3e4a0000000001"],
        "triggeredAt": "2026-12-01T23:50:00.000Z",
        "state": "open",
        "ackBy": None,
        "ackAt": None,
        "message": "Saque de 9.000,00 acima do limite de 5.000,00 — ção",
    }
    alert.update(fields)
    return alert


async def publish_alert(alert: dict[str, Any]) -> None:
    """Difunde como a avaliação na ingestão difunde (``alert.new`` no grupo do feed)."""
    assert await alert_broadcast(alert=alert)


async def publish_raw(alert: Any) -> None:
    """Uma mensagem ``alert.new`` qualquer na camada (inclusive fora do formato)."""
    await get_channel_layer().group_send(EVENTS_GROUP, {"type": "alert.new", "alert": alert})


async def test_alert_reaches_jwt_and_session_sockets_as_is(
    connect: ws.Connect, user: User, session_cookie: tuple[bytes, bytes]
) -> None:
    by_jwt, _ = await ws.authenticated(connect, user)
    by_session = await connect(session_cookie)
    await ws.receive(by_session)  # hello
    alert = make_alert()

    await publish_alert(alert)

    assert await ws.receive(by_jwt) == {"type": "alert", "alert": alert}
    assert await ws.receive(by_session) == {"type": "alert", "alert": alert}


async def test_alerts_and_events_share_the_socket_in_arrival_order(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    communicator, _ = await ws.authenticated(connect, user)

    first_id = await ws.ingest(asgi_client, sign, userId="u-7")
    await publish_alert(make_alert(eventIds=[first_id]))
    second_id = await ws.ingest(asgi_client, sign, userId="u-7")

    received = [await ws.receive(communicator) for _ in range(3)]
    assert [m["type"] for m in received] == ["new_event", "alert", "new_event"]
    assert received[0]["event"]["id"] == first_id
    assert received[1]["alert"]["eventIds"] == [first_id]
    assert "cursor" not in received[1]
    assert received[2]["event"]["id"] == second_id


async def test_unauthenticated_socket_gets_no_alert(connect: ws.Connect, user: User) -> None:
    waiting = await connect()  # ainda sem a mensagem "auth"

    await publish_alert(make_alert(id="a-before-auth"))
    await waiting.send_json_to({"type": "auth", "token": ws.access_token(user)})
    hello = await ws.receive(waiting)
    await waiting.send_json_to({"type": "ping"})

    # O alerta difundido antes da autenticação não ficou guardado para este socket.
    assert hello["type"] == "hello"
    assert await ws.receive(waiting) == {"type": "pong"}


async def test_user_filter_applies_to_alerts(connect: ws.Connect, user: User) -> None:
    communicator, _ = await ws.authenticated(connect, user)
    await communicator.send_json_to({"type": "subscribe", "userId": "u-42"})
    await ws.receive(communicator)  # subscribed

    await publish_alert(make_alert(id="a-other", userId="u-1"))
    await publish_alert(make_alert(id="a-wanted", userId="u-42"))

    message = await ws.receive(communicator)
    assert message["type"] == "alert"
    assert message["alert"]["id"] == "a-wanted"


async def test_type_filter_does_not_apply_to_alerts(connect: ws.Connect, user: User) -> None:
    communicator, _ = await ws.authenticated(connect, user)
    await communicator.send_json_to({"type": "subscribe", "types": ["deposit"]})
    await ws.receive(communicator)  # subscribed

    await publish_alert(make_alert(kind="frequency", eventIds=["x1", "x2"]))

    message = await ws.receive(communicator)
    assert message["type"] == "alert"
    assert message["alert"]["kind"] == "frequency"


async def test_malformed_alert_message_is_dropped_and_the_feed_goes_on(connect: ws.Connect, user: User) -> None:
    communicator, _ = await ws.authenticated(connect, user)

    await publish_raw(None)
    await publish_raw({"userId": "u-7"})  # sem id
    await publish_alert(make_alert(id="a-ok"))

    message = await ws.receive(communicator)
    assert message["alert"]["id"] == "a-ok"


async def test_alert_after_session_expiry_is_not_delivered_and_closes(
    connect: ws.Connect, user: User, session_cookie: tuple[bytes, bytes]
) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        communicator = await connect(session_cookie)
        await ws.receive(communicator)  # hello
        clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE + 1))

        await publish_alert(make_alert())

        error, close = await ws.closed_with(communicator)
    assert error["code"] == "credential_expired"
    assert close["code"] == 4401


async def test_resume_replays_events_but_not_alerts(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    watcher, hello = await ws.authenticated(connect, user)
    event_id = await ws.ingest(asgi_client, sign)
    await publish_alert(make_alert(eventIds=[event_id]))
    assert (await ws.receive(watcher))["type"] == "new_event"
    assert (await ws.receive(watcher))["type"] == "alert"

    returning, _ = await ws.authenticated(connect, user, cursor=hello["cursor"])

    replayed = await ws.receive(returning)
    resumed = await ws.receive(returning)
    assert replayed["type"] == "new_event"
    assert replayed["event"]["id"] == event_id
    assert resumed == {"type": "resumed", "cursor": hello["cursor"] + 1, "replayed": 1}


async def test_webhook_crossing_a_rule_sends_the_stored_alert_on_the_open_socket(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    rule = await AlertRule.objects.acreate(
        name="Saque acima de 5 mil",
        kind="threshold",
        severity="critical",
        event_type="withdraw",
        op=">",
        threshold=5000,
    )
    rule_id = rule.id
    try:
        communicator, _ = await ws.authenticated(connect, user)
        event_id = await ws.ingest(asgi_client, sign, userId="u-9", type="withdraw", value=9000.0)

        event = await ws.receive(communicator)
        message = await ws.receive(communicator)
        stored = await asgi_client.get(
            f"/api/alerts/{message['alert']['id']}", headers={"Authorization": f"Bearer {ws.access_token(user)}"}
        )
    finally:
        await rule.adelete()

    assert event["event"]["id"] == event_id
    assert message["type"] == "alert"
    assert message["alert"] == stored.json()
    assert message["alert"]["ruleId"] == rule_id
    assert message["alert"]["eventIds"] == [event_id]
    assert message["alert"]["state"] == "open"


async def test_alerts_count_against_the_mailbox_and_a_slow_socket_is_closed_1013(
    connect: ws.Connect, user: User
) -> None:
    with override_settings(WS_MAILBOX_SIZE=1):
        slow, _ = await ws.authenticated(connect, user)
        hub = get_hub()
        # Três alertas de uma vez, sem o envio do socket rodar no meio: a caixa (1) transborda.
        for n in range(3):
            hub.dispatch_alert({"type": "alert.new", "alert": make_alert(id=f"a-{n}")})
        error, close = await ws.closed_with(slow)
        evicted = slow not in hub.sockets

    assert error["code"] == "slow_consumer"
    assert close["code"] == 1013
    assert evicted
