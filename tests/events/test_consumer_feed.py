"""/ws/events/: cada evento gravado pelo webhook chega aos sockets, com filtro opcional."""

from __future__ import annotations

import pytest
from bson import ObjectId

from accounts.models import User
from events.domain import event_to_json
from events.store import EventStore
from tests.conftest import event_body
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect
session_cookie = ws.session_cookie


async def test_ingested_event_arrives_with_rest_shape_and_cursor(
    connect: ws.Connect, user: User, asgi_client, sign, store: EventStore
) -> None:
    communicator, _ = await ws.authenticated(connect, user)

    event_id = await ws.ingest(
        asgi_client, sign, userId="u-7", type="deposit", value=250.0, metadata={"asset": "PETR4"}
    )

    message = await ws.receive(communicator)
    doc = store.get_event(ObjectId(event_id))
    assert doc is not None
    assert message == {"type": "new_event", "event": event_to_json(doc), "cursor": doc["seq"]}
    assert set(message["event"]) == {"id", "userId", "type", "value", "timestamp", "metadata", "receivedAt"}
    assert message["event"]["userId"] == "u-7"
    assert message["event"]["metadata"] == {"asset": "PETR4"}


async def test_every_connected_socket_receives_the_event(
    connect: ws.Connect, user: User, session_cookie, asgi_client, sign
) -> None:
    by_jwt, _ = await ws.authenticated(connect, user)
    by_session = await connect(session_cookie)
    await ws.receive(by_session)  # hello

    event_id = await ws.ingest(asgi_client, sign)

    assert (await ws.receive(by_jwt))["event"]["id"] == event_id
    assert (await ws.receive(by_session))["event"]["id"] == event_id


async def test_cursors_increase_with_each_event(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    communicator, hello = await ws.authenticated(connect, user)

    for _ in range(3):
        await ws.ingest(asgi_client, sign)

    cursors = [(await ws.receive(communicator))["cursor"] for _ in range(3)]
    assert cursors == [hello["cursor"] + 1, hello["cursor"] + 2, hello["cursor"] + 3]


async def test_webhook_replay_is_not_broadcast_again(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    communicator, _ = await ws.authenticated(connect, user)
    body = event_body(timestamp="2026-01-01T00:00:00Z")
    first = await asgi_client.post("/api/webhook/event", content=body, headers=sign(body, msg_id="msg_dup"))
    again = await asgi_client.post("/api/webhook/event", content=body, headers=sign(body, msg_id="msg_dup"))
    later_id = await ws.ingest(asgi_client, sign, type="login")

    received = [await ws.receive(communicator), await ws.receive(communicator)]

    assert again.json()["duplicate"] is True
    assert [m["event"]["id"] for m in received] == [first.json()["id"], later_id]


async def test_subscribe_by_type_filters_server_side(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    communicator, _ = await ws.authenticated(connect, user)
    await communicator.send_json_to({"type": "subscribe", "types": ["deposit", "withdrawal"]})
    ack = await ws.receive(communicator)

    await ws.ingest(asgi_client, sign, type="purchase")
    deposit_id = await ws.ingest(asgi_client, sign, type="deposit")
    withdrawal_id = await ws.ingest(asgi_client, sign, type="withdrawal")

    assert ack == {"type": "subscribed", "types": ["deposit", "withdrawal"], "userId": None}
    assert (await ws.receive(communicator))["event"]["id"] == deposit_id
    assert (await ws.receive(communicator))["event"]["id"] == withdrawal_id


async def test_subscribe_by_user_filters_server_side(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    communicator, _ = await ws.authenticated(connect, user)
    await communicator.send_json_to({"type": "subscribe", "userId": "u-42"})
    await ws.receive(communicator)

    await ws.ingest(asgi_client, sign, userId="u-1")
    wanted = await ws.ingest(asgi_client, sign, userId="u-42")

    message = await ws.receive(communicator)
    assert message["event"]["id"] == wanted
    assert message["event"]["userId"] == "u-42"


async def test_new_subscribe_replaces_the_filter(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    communicator, _ = await ws.authenticated(connect, user)
    await communicator.send_json_to({"type": "subscribe", "types": ["deposit"]})
    await ws.receive(communicator)
    await communicator.send_json_to({"type": "subscribe"})
    ack = await ws.receive(communicator)

    purchase_id = await ws.ingest(asgi_client, sign, type="purchase")

    assert ack == {"type": "subscribed", "types": [], "userId": None}
    assert (await ws.receive(communicator))["event"]["id"] == purchase_id


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"type": "subscribe", "types": "deposit"}, "types"),
        ({"type": "subscribe", "types": [1]}, "types.0"),
        ({"type": "subscribe", "types": [""]}, "types.0"),
        ({"type": "subscribe", "types": ["x" * 65]}, "types.0"),
        ({"type": "subscribe", "types": [f"t{i}" for i in range(21)]}, "types"),
        ({"type": "subscribe", "userId": 42}, "userId"),
        ({"type": "subscribe", "userId": "u" * 129}, "userId"),
        ({"type": "subscribe", "cursor": -1}, "cursor"),
        ({"type": "subscribe", "extra": True}, "extra"),
        ({"type": "resume", "cursor": "10"}, "cursor"),
        ({"type": "resume"}, "cursor"),
        ({"type": "shout"}, "type"),
        ({"types": ["deposit"]}, "type"),
    ],
)
async def test_invalid_message_is_answered_with_field_error_and_socket_stays(
    connect: ws.Connect, user: User, message, field
) -> None:
    communicator, _ = await ws.authenticated(connect, user)

    await communicator.send_json_to(message)
    error = await ws.receive(communicator)
    await communicator.send_json_to({"type": "ping"})

    assert error["type"] == "error"
    assert error["code"] == "invalid_message"
    assert field in error["fields"]
    assert await ws.receive(communicator) == {"type": "pong"}


async def test_oversized_or_non_json_frames_are_rejected(connect: ws.Connect, user: User) -> None:
    communicator, _ = await ws.authenticated(connect, user)

    await communicator.send_to(text_data="x" * 10_000)
    oversized = await ws.receive(communicator)
    await communicator.send_to(bytes_data=b"\x00\x01")
    binary = await ws.receive(communicator)
    await communicator.send_to(text_data="[not json")
    garbled = await ws.receive(communicator)

    assert [oversized["code"], binary["code"], garbled["code"]] == ["invalid_message"] * 3


async def test_send_to_a_socket_the_client_already_closed_stops_quietly() -> None:
    from events.feed.auth import Principal
    from events.feed.consumer import EventFeedConsumer

    async def gone(message):
        raise ConnectionResetError("cliente foi embora")  # o que o servidor ASGI levanta (OSError)

    consumer = EventFeedConsumer()
    consumer.base_send = gone
    consumer.principal = Principal("jwt", 1, "ana", None)

    await consumer._deliver('{"type": "new_event", "event": {"id": "e1"}, "cursor": 1}')

    assert consumer.closed is True
