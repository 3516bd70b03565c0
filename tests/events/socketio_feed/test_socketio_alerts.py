"""/socket.io/: alertas (``alert.new`` na camada de canais) viram o evento ``alert`` nos dois namespaces."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from tests.events.socketio_feed.conftest import Connect, FeedClient, Ingest, Token
from tests.events.test_consumer_alerts import make_alert, publish_alert

pytestmark = pytest.mark.django_db(transaction=True)


async def _authenticated(connect: Connect, user: User, token: Token, **options: Any) -> FeedClient:
    client = await connect(auth={"token": token(user)}, **options)
    for namespace in options.get("namespaces", ("/",)):
        await client.expect("hello", namespace)
    return client


@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_alert_is_emitted_in_both_namespaces(connect: Connect, user: User, token: Token, transport: str) -> None:
    client = await _authenticated(connect, user, token, namespaces=("/", "/dashboard"), transports=(transport,))
    alert = make_alert()

    await publish_alert(alert)

    assert await client.expect("alert", "/") == alert
    assert await client.expect("alert", "/dashboard") == alert


async def test_session_cookie_client_receives_alerts(connect: Connect, session_cookie: str) -> None:
    client = await connect(namespaces=("/dashboard",), headers={"Cookie": session_cookie})
    await client.expect("hello", "/dashboard")

    await publish_alert(make_alert(id="a-session"))

    assert (await client.expect("alert", "/dashboard"))["id"] == "a-session"


async def test_refused_handshake_gets_nothing_and_alerts_keep_flowing_to_the_others(
    connect: Connect, user: User, token: Token
) -> None:
    stranger = await connect(refused=True)
    member = await _authenticated(connect, user, token)

    await publish_alert(make_alert(id="a-1"))

    assert (await member.expect("alert"))["id"] == "a-1"
    assert stranger.refusals["/"]["message"] == "unauthenticated"
    assert stranger.inbox["/"].empty()


async def test_user_filter_applies_to_alerts_and_types_do_not(connect: Connect, user: User, token: Token) -> None:
    client = await _authenticated(connect, user, token, namespaces=("/dashboard",))
    answer = await client.call("subscribe", {"userId": "u-42", "types": ["deposit"]}, namespace="/dashboard")
    await client.expect("subscribed", "/dashboard")

    await publish_alert(make_alert(id="a-other", userId="u-1"))
    await publish_alert(make_alert(id="a-wanted", userId="u-42", kind="sequence"))

    assert answer == {"types": ["deposit"], "userId": "u-42"}
    assert (await client.expect("alert", "/dashboard"))["id"] == "a-wanted"


async def test_events_and_alerts_arrive_in_order(connect: Connect, user: User, token: Token, ingest: Ingest) -> None:
    client = await _authenticated(connect, user, token)

    event_id = await ingest(userId="u-7")
    await publish_alert(make_alert(eventIds=[event_id]))
    later_id = await ingest(userId="u-7")

    first_event, cursor = await client.expect("new_event")
    alert = await client.expect("alert")
    second_event, _ = await client.expect("new_event")
    assert (first_event["id"], cursor) == (event_id, 1)
    assert alert["eventIds"] == [event_id]
    assert second_event["id"] == later_id
