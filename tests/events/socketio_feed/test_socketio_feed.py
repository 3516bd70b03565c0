"""/socket.io/: ``new_event`` para todos os clientes autenticados, nos dois namespaces e transportes."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from channels.layers import get_channel_layer
from django.test import override_settings
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Origin

from accounts.models import User
from events.feed.hub import get_hub
from events.feed.publish import EVENTS_GROUP
from tests.events.socketio_feed.conftest import ORIGIN, Connect, FeedClient, Ingest, Record, Token

pytestmark = pytest.mark.django_db(transaction=True)


async def _authenticated(connect: Connect, user: User, token: Token, **options: Any) -> FeedClient:
    client = await connect(auth={"token": token(user)}, **options)
    for namespace in options.get("namespaces", ("/",)):
        await client.expect("hello", namespace)
    return client


async def test_new_event_carries_the_event_exactly_as_the_rest_detail_returns_it(
    connect: Connect, user: User, token: Token, ingest: Ingest, asgi_client: httpx.AsyncClient
) -> None:
    client = await _authenticated(connect, user, token)

    event_id = await ingest(userId="u-7", type="deposit", value=12.25, metadata={"canal": "pix", "nota": "ção"})
    event, cursor = await client.expect("new_event")

    detail = await asgi_client.get(f"/api/events/{event_id}", headers={"Authorization": f"Bearer {token(user)}"})
    assert detail.status_code == HTTPStatus.OK
    assert event == detail.json()
    assert cursor == 1


async def test_every_client_in_both_namespaces_receives_each_event_once_in_order(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    first = await _authenticated(connect, user, token, namespaces=("/", "/dashboard"))
    second = await _authenticated(connect, user, token, namespaces=("/dashboard",))

    ids = [await ingest(value=float(n)) for n in range(3)]
    received = {
        (name, namespace): [await client.expect("new_event", namespace) for _ in ids]
        for name, client, namespace in [
            ("first", first, "/"),
            ("first", first, "/dashboard"),
            ("second", second, "/dashboard"),
        ]
    }

    for deliveries in received.values():
        assert [event["id"] for event, _ in deliveries] == ids
        assert [cursor for _, cursor in deliveries] == [1, 2, 3]


async def test_one_serialization_of_the_event_feeds_websocket_and_socketio_clients(
    connect: Connect, user: User, token: Token, ingest: Ingest, live_url: str, monkeypatch
) -> None:
    sio = await _authenticated(connect, user, token, namespaces=("/", "/dashboard"))
    ws_url = live_url.replace("http://", "ws://") + "/ws/events/"
    async with ws_connect(ws_url, origin=Origin(ORIGIN)) as websocket:
        await websocket.send(json.dumps({"type": "auth", "token": token(user)}))
        json.loads(await websocket.recv())
        serialized: list[str] = []
        real_dumps = json.dumps

        def counting_dumps(obj: Any, **kwargs: Any) -> str:
            text = real_dumps(obj, **kwargs)
            if isinstance(obj, dict) and "receivedAt" in obj:
                serialized.append(text)
            return text

        # O json.dumps que o hub chama (o módulo json é um só: conta só os do evento público).
        monkeypatch.setattr(json, "dumps", counting_dumps)
        event_id = await ingest()
        ws_message = json.loads(await websocket.recv())
        root, _ = await sio.expect("new_event", "/")
        dashboard, _ = await sio.expect("new_event", "/dashboard")

    layer = get_channel_layer()
    assert list(layer.groups[EVENTS_GROUP]) == [get_hub().channel_name]
    assert len(serialized) == 1
    assert ws_message["event"]["id"] == event_id
    assert root == dashboard == ws_message["event"] == json.loads(serialized[0])


async def test_subscribe_filters_by_type_and_user_server_side_and_acks_the_filter(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    client = await _authenticated(connect, user, token)

    ack = await client.call("subscribe", {"types": ["deposit", "deposit"], "userId": "u-9"})
    subscribed = await client.expect("subscribed")
    await ingest(type="deposit", userId="u-1")
    await ingest(type="login", userId="u-9")
    wanted = await ingest(type="deposit", userId="u-9")
    event, _ = await client.expect("new_event")

    assert ack == subscribed == {"types": ["deposit"], "userId": "u-9"}
    assert event["id"] == wanted


async def test_invalid_subscribe_is_answered_with_field_errors_and_the_client_stays(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    client = await _authenticated(connect, user, token)

    ack = await client.call("subscribe", {"types": "deposit"})
    error = await client.expect("error")
    not_an_object = await client.call("subscribe", ["deposit"])
    await client.expect("error")
    event_id = await ingest()

    assert ack == error
    assert error["code"] == "invalid_message"
    assert "types" in error["fields"]
    assert not_an_object["code"] == "invalid_message"
    assert (await client.expect("new_event"))[0]["id"] == event_id


async def test_long_polling_transport_is_served_when_enabled(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    client = await _authenticated(connect, user, token, transports=("polling",))

    event_id = await ingest()
    event, cursor = await client.expect("new_event")

    assert client.sio.transport() == "polling"
    assert event["id"] == event_id
    assert cursor == 1


async def test_production_default_serves_only_websocket_and_refuses_a_polling_handshake(
    asgi_client: httpx.AsyncClient,
) -> None:
    # A aplicação de verdade, com SOCKETIO_TRANSPORTS padrão fora do DEBUG (só websocket).
    response = await asgi_client.get("/socket.io/", params={"EIO": "4", "transport": "polling"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "transport" in response.text.lower()


async def test_slow_client_loses_its_transport_and_resumes_from_its_cursor_without_gaps(
    connect: Connect, user: User, token: Token, ingest: Ingest, record: Record
) -> None:
    with override_settings(WS_MAILBOX_SIZE=1):
        slow = await _authenticated(connect, user, token)
        await ingest()
        _, cursor = await slow.expect("new_event")
        stored = record(3)
        hub = get_hub()
        # Três eventos de uma vez, sem o envio do cliente rodar no meio: a caixa (1) transborda.
        for event, seq in stored:
            hub.dispatch({"type": "event.new", "event": event, "cursor": seq})
        error = await slow.expect("error")
        await slow.expect("disconnect")

        again = await connect(auth={"token": token(user), "cursor": cursor})
        await again.expect("hello")
        replayed = [await again.expect("new_event") for _ in stored]
        done = await again.expect("resumed")

    assert error["code"] == "slow_consumer"
    assert [(event["id"], seq) for event, seq in replayed] == [(event["id"], seq) for event, seq in stored]
    assert done == {"cursor": cursor + 3, "replayed": 3}


async def test_channel_layer_failure_closes_the_transport_and_handshakes_are_refused_during_the_backoff(
    connect: Connect, user: User, token: Token, monkeypatch
) -> None:
    client = await _authenticated(connect, user, token)
    layer = get_channel_layer()

    async def failing_receive(channel: str) -> dict[str, Any]:
        raise ConnectionError("redis caiu")

    monkeypatch.setattr(layer, "receive", failing_receive)
    # A leitura em curso do hub ainda usa o receive antigo: uma mensagem a acorda.
    await layer.group_send(EVENTS_GROUP, {"type": "event.new", "event": {"no-id": True}})
    error = await client.expect("error")
    await client.expect("disconnect")
    during_backoff = await connect(auth={"token": token(user)}, refused=True)

    assert error["code"] == "feed_unavailable"
    assert during_backoff.refusals["/"]["message"] == "feed_unavailable"


async def test_a_client_that_floods_messages_is_told_and_disconnected(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    flooding = await _authenticated(connect, user, token)
    calm = await _authenticated(connect, user, token)

    with override_settings(WS_MESSAGE_RATE_LIMIT="2/minute"):
        for _ in range(2):
            await flooding.call("subscribe", {"types": ["deposit"]})
            await flooding.expect("subscribed")
        await flooding.sio.emit("subscribe", {"types": ["login"]})
        error = await flooding.expect("error")
        disconnect = await flooding.expect("disconnect")
    event_id = await ingest(type="deposit")

    assert error["code"] == "rate_limited"
    assert disconnect == flooding.sio.reason.SERVER_DISCONNECT
    assert (await calm.expect("new_event"))[0]["id"] == event_id
