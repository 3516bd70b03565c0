"""Hub do feed por processo (``events/hub.py``): uma inscrição no grupo, JSON uma vez, caixa limitada."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.test import override_settings
from redis.exceptions import ConnectionError as RedisConnectionError

from accounts.models import User
from events.domain import EventPayload
from events.feed import protocol as realtime
from events.feed.hub import get_hub
from events.feed.publish import EVENTS_GROUP, event_broadcast
from events.services import event_ingest
from events.store import get_store, run_store
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect


def _stored_events(count: int) -> list[tuple[dict[str, Any], int]]:
    """Grava eventos SEM difundir (o teste decide quando o hub os vê)."""
    stored = []
    for index in range(count):
        data = {"userId": "u-1", "type": "purchase", "value": float(index)}
        result = event_ingest(payload=EventPayload.model_validate(data), data=data, key=None)
        stored.append((result.event, result.cursor))
    return stored


async def test_one_group_member_per_process_and_one_serialization_for_all_sockets(
    connect: ws.Connect, user: User, asgi_client, sign, monkeypatch
) -> None:
    sockets = [(await ws.authenticated(connect, user))[0] for _ in range(3)]
    serialized: list[str] = []
    real_dumps = json.dumps

    def counting_dumps(obj: Any, **kwargs: Any) -> str:
        text = real_dumps(obj, **kwargs)
        if isinstance(obj, dict) and "receivedAt" in obj:
            serialized.append(text)
        return text

    # O json.dumps que o hub chama (o módulo json é um só: conta só os do evento público).
    monkeypatch.setattr(json, "dumps", counting_dumps)

    event_id = await ws.ingest(asgi_client, sign)
    frames = [await sock.receive_from(timeout=ws.WAIT) for sock in sockets]

    layer = get_channel_layer()
    assert list(layer.groups[EVENTS_GROUP]) == [get_hub().channel_name]
    assert len(serialized) == 1
    assert len(set(frames)) == 1
    assert json.loads(frames[0])["event"] == json.loads(serialized[0])
    assert json.loads(frames[0])["event"]["id"] == event_id


async def test_filters_and_dedupe_are_per_socket(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    everything, _ = await ws.authenticated(connect, user)
    deposits, _ = await ws.authenticated(connect, user)
    await deposits.send_json_to({"type": "subscribe", "types": ["deposit"]})
    await ws.receive(deposits)  # subscribed

    purchase_id = await ws.ingest(asgi_client, sign, type="purchase")
    purchase = await ws.receive(everything)
    # A mesma entrega de novo (outro processo, retomada): nenhum socket a recebe duas vezes.
    await event_broadcast(event=purchase["event"], cursor=purchase["cursor"])
    deposit_id = await ws.ingest(asgi_client, sign, type="deposit")

    assert purchase["event"]["id"] == purchase_id
    assert (await ws.receive(everything))["event"]["id"] == deposit_id
    # A ordem prova o resto: nada (cópia repetida, evento fora do filtro) chegou antes do depósito.
    assert (await ws.receive(deposits))["event"]["id"] == deposit_id


async def test_slow_client_is_closed_1013_and_resumes_from_its_cursor_without_gaps(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    with override_settings(WS_MAILBOX_SIZE=1):
        slow, _ = await ws.authenticated(connect, user)
        await ws.ingest(asgi_client, sign)
        cursor = (await ws.receive(slow))["cursor"]
        hub = get_hub()
        stored = _stored_events(3)
        # Três eventos de uma vez, sem o envio do socket rodar no meio: a caixa (1) transborda.
        for event, seq in stored:
            hub.dispatch({"type": "event.new", "event": event, "cursor": seq})
        error, close = await ws.closed_with(slow)
        evicted = slow not in hub.sockets

        again, _ = await ws.authenticated(connect, user, cursor=cursor)
        replayed = [await ws.receive(again) for _ in range(3)]
        done = await ws.receive(again)

    assert error["type"] == "error"
    assert error["code"] == "slow_consumer"
    assert close["code"] == 1013
    assert evicted
    assert [m["event"]["id"] for m in replayed] == [event["id"] for event, _ in stored]
    assert [m["cursor"] for m in replayed] == [cursor + 1, cursor + 2, cursor + 3]
    assert done == {"type": "resumed", "cursor": cursor + 3, "replayed": 3}


async def test_disconnect_unregisters_and_the_last_socket_stops_the_hub(connect: ws.Connect, user: User) -> None:
    first, _ = await ws.authenticated(connect, user)
    second, _ = await ws.authenticated(connect, user)
    hub = get_hub()
    layer = get_channel_layer()
    running_with_two = (len(hub.sockets), hub.running, len(layer.groups[EVENTS_GROUP]))

    await first.disconnect()
    with_one = (len(hub.sockets), hub.running)
    await second.disconnect()

    assert running_with_two == (2, True, 1)
    assert with_one == (1, True)
    assert hub.sockets == {}
    assert hub.running is False
    assert not layer.groups.get(EVENTS_GROUP)


async def test_layer_failure_closes_sockets_1013_and_the_hub_rejoins_after_the_backoff(
    connect: ws.Connect, user: User, asgi_client, sign, monkeypatch
) -> None:
    layer = get_channel_layer()
    real_receive = layer.receive

    async def failing_receive(channel: str) -> dict[str, Any]:
        message = await real_receive(channel)
        if message["event"]["id"] == "boom":
            raise RedisConnectionError("Redis caiu")
        return message

    monkeypatch.setattr(layer, "receive", failing_receive)
    live, _ = await ws.authenticated(connect, user)
    hub = get_hub()

    await event_broadcast(event={"id": "boom", "type": "login"}, cursor=1)
    error, close = await ws.closed_with(live)
    stopped = (hub.running, dict(hub.sockets))
    # Logo depois da falha, o hub não martela a camada: novos sockets ouvem para voltar depois.
    during_backoff = await connect()
    await during_backoff.send_json_to({"type": "auth", "token": ws.access_token(user)})
    refused, refused_close = await ws.closed_with(during_backoff)
    hub._retry_at = 0.0  # a espera passou
    again, _ = await ws.authenticated(connect, user)
    event_id = await ws.ingest(asgi_client, sign)

    assert error["code"] == "feed_unavailable"
    assert close == {"type": "websocket.close", "code": 1013, "reason": "feed_unavailable"}
    assert stopped == (False, {})
    assert refused["code"] == "feed_unavailable"
    assert refused_close["code"] == 1013
    assert (await ws.receive(again))["event"]["id"] == event_id
    assert hub.running is True


async def test_each_delivery_checks_the_credential_expiry_before_sending() -> None:
    from events.feed.auth import Principal
    from events.feed.consumer import EventFeedConsumer

    sent: list[dict[str, Any]] = []

    async def capture(message: dict[str, Any]) -> None:
        sent.append(message)

    consumer = EventFeedConsumer()
    consumer.base_send = capture
    consumer.principal = Principal("jwt", 1, "ana", expires_at=1.0)
    consumer.deadline = 1.0  # já passou; o vigia ainda não acordou

    await consumer._deliver('{"type": "new_event", "event": {"id": "e1"}, "cursor": 1}')

    assert [m["type"] for m in sent] == ["websocket.send", "websocket.close"]
    assert json.loads(sent[0]["text"])["code"] == "credential_expired"
    assert sent[1]["code"] == 4401
    assert consumer.closed is True


async def test_unexpected_send_error_closes_the_socket_instead_of_leaving_it_mute() -> None:
    from events.feed.auth import Principal
    from events.feed.consumer import EventFeedConsumer

    closes: list[dict[str, Any]] = []

    async def broken(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            raise RuntimeError("estado inesperado do servidor ASGI")
        closes.append(message)

    consumer = EventFeedConsumer()
    consumer.base_send = broken
    consumer.principal = Principal("jwt", 1, "ana", None)
    consumer.mailbox.put_nowait('{"type": "new_event", "event": {"id": "e1"}, "cursor": 1}')

    await consumer._send_live()

    assert closes == [{"type": "websocket.close", "code": 1011}]
    assert consumer.closed is True


async def test_a_malformed_group_message_is_dropped_without_closing_the_feed(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    live, _ = await ws.authenticated(connect, user)

    await get_channel_layer().group_send(EVENTS_GROUP, {"type": "event.new", "event": {"no-id": True}})
    event_id = await ws.ingest(asgi_client, sign)

    assert (await ws.receive(live))["event"]["id"] == event_id
    assert get_hub().running is True


async def test_live_events_that_arrive_during_the_replay_wait_until_it_is_sent(
    connect: ws.Connect, user: User, asgi_client, sign, monkeypatch
) -> None:
    await ws.ingest(asgi_client, sign)
    cursor = get_store().last_seq()
    missed = _stored_events(2)
    (live_event, live_seq), *_ = _stored_events(1)

    async def replay_with_a_live_event_in_the_middle(fn: Any, *args: Any, **kwargs: Any) -> Any:
        result = await run_store(fn, *args, **kwargs)
        if fn is realtime.feed_replay:
            # Um evento ao vivo chega enquanto a retomada ainda não foi enviada; a tarefa
            # de envio do socket tem todas as chances de rodar antes da retomada seguir.
            get_hub().dispatch({"type": "event.new", "event": live_event, "cursor": live_seq})
            for _ in range(50):
                await asyncio.sleep(0)
        return result

    monkeypatch.setattr("events.feed.consumer.run_store", replay_with_a_live_event_in_the_middle)
    sock, _ = await ws.authenticated(connect, user, cursor=cursor)
    messages = [await ws.receive(sock) for _ in range(4)]

    assert [(m["type"], m.get("cursor")) for m in messages] == [
        ("new_event", missed[0][1]),
        ("new_event", missed[1][1]),
        ("resumed", live_seq),
        ("new_event", live_seq),
    ]
    assert messages[2]["replayed"] == 2
    assert messages[3]["event"]["id"] == live_event["id"]
