"""Difusão em micro-lotes (``events/feed/publish.py``) e o hub que os desembrulha."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.test import override_settings
from prometheus_client import REGISTRY

from accounts.models import User
from events.feed.hub import get_hub
from events.feed.publish import BATCH_TYPE, EVENTS_GROUP, event_broadcast, get_publisher, unpack
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect

# Só uma trava contra travar a suíte; nada aqui mede tempo.
GUARD = 5.0
# Janela que nenhum teste espera passar: o lote só sai pelo tamanho ou pelo flush.
NEVER = 3600.0


def _event(index: int) -> dict[str, Any]:
    return {"id": f"e{index}", "type": "login", "userId": "u-1", "value": float(index)}


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Cada mensagem que chega a ``group_send`` do grupo do feed (e segue para a camada)."""
    layer = get_channel_layer()
    real = layer.group_send
    calls: list[dict[str, Any]] = []

    async def recording(group: str, message: dict[str, Any]) -> None:
        if group == EVENTS_GROUP:
            calls.append(message)
        await real(group, message)

    monkeypatch.setattr(layer, "group_send", recording)
    return calls


def _failures() -> float:
    return REGISTRY.get_sample_value("trader_monitor_broadcast_failures_total") or 0.0


async def _publish_all(count: int) -> list[bool]:
    tasks = [asyncio.create_task(event_broadcast(event=_event(i), cursor=i + 1)) for i in range(count)]
    return list(await asyncio.wait_for(asyncio.gather(*tasks), GUARD))


@override_settings(FEED_BATCH_MAX=3, FEED_BATCH_SECONDS=NEVER)
async def test_a_full_batch_goes_out_at_once_as_one_group_send_in_arrival_order(sent: list[dict[str, Any]]) -> None:
    tasks = [asyncio.create_task(event_broadcast(event=_event(i), cursor=i + 1)) for i in range(7)]
    full = await asyncio.wait_for(asyncio.gather(*tasks[:6]), GUARD)
    last_waiting = not tasks[6].done()
    publisher = get_publisher()
    assert publisher is not None
    await asyncio.wait_for(publisher.flush(), GUARD)

    # 7 mensagens com teto 3: dois lotes cheios saem sozinhos; o 3º (1 mensagem) só pelo flush.
    assert full == [True] * 6
    assert last_waiting
    assert await tasks[6] is True
    assert [m["type"] for m in sent] == [BATCH_TYPE, BATCH_TYPE, "event.new"]
    assert [len(m["messages"]) for m in sent[:2]] == [3, 3]
    flat = [item for message in sent for item in unpack(message)]
    assert [item["cursor"] for item in flat] == list(range(1, 8))
    assert all(item["type"] == "event.new" for item in flat)


@override_settings(FEED_BATCH_MAX=100, FEED_BATCH_SECONDS=0.002)
async def test_a_batch_that_never_fills_goes_out_when_its_window_closes(sent: list[dict[str, Any]]) -> None:
    results = await _publish_all(5)
    alone = await asyncio.wait_for(event_broadcast(event=_event(9), cursor=10), GUARD)

    assert results == [True] * 5
    assert alone is True
    # Bem abaixo do teto (100): só o fim da janela fechou estes lotes.
    assert sent[0] == {
        "type": BATCH_TYPE,
        "messages": [{"type": "event.new", "event": _event(i), "cursor": i + 1} for i in range(5)],
    }
    # Lote de uma mensagem: o formato de sempre, sem envelope.
    assert sent[1] == {"type": "event.new", "event": _event(9), "cursor": 10}


@override_settings(FEED_BATCH_MAX=100, FEED_BATCH_SECONDS=NEVER)
async def test_flush_on_shutdown_sends_the_open_batch_and_wakes_every_publisher(sent: list[dict[str, Any]]) -> None:
    tasks = [asyncio.create_task(event_broadcast(event=_event(i), cursor=i + 1)) for i in range(4)]
    for _ in range(5):
        await asyncio.sleep(0)
    publisher = get_publisher()
    assert publisher is not None
    before = (publisher.pending(), len(sent), any(task.done() for task in tasks))

    await asyncio.wait_for(publisher.flush(), GUARD)

    assert before == (4, 0, False)
    assert publisher.pending() == 0
    assert [len(unpack(m)) for m in sent] == [4]
    assert [await task for task in tasks] == [True] * 4


@override_settings(FEED_BATCH_MAX=100, FEED_BATCH_SECONDS=NEVER)
async def test_a_publisher_that_gives_up_does_not_take_the_batch_with_it(sent: list[dict[str, Any]]) -> None:
    quitter = asyncio.create_task(event_broadcast(event=_event(0), cursor=1))
    stayer = asyncio.create_task(event_broadcast(event=_event(1), cursor=2))
    await asyncio.sleep(0)
    quitter.cancel()  # o cliente do webhook desconectou
    await asyncio.sleep(0)
    publisher = get_publisher()
    assert publisher is not None

    await asyncio.wait_for(publisher.flush(), GUARD)

    assert quitter.cancelled()
    assert await stayer is True
    assert [item["cursor"] for item in unpack(sent[0])] == [1, 2]


@override_settings(FEED_BATCH_MAX=100, FEED_BATCH_SECONDS=0.002)
async def test_a_failed_batch_is_counted_per_message_and_the_feed_recovers_by_cursor(
    connect: ws.Connect, user: User, asgi_client, sign, monkeypatch: pytest.MonkeyPatch
) -> None:
    live, hello = await ws.authenticated(connect, user)
    cursor = hello["cursor"]
    layer = get_channel_layer()
    real = layer.group_send

    async def redis_down(group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("Redis caiu")

    before = _failures()
    monkeypatch.setattr(layer, "group_send", redis_down)
    # Três entregas ao mesmo tempo: gravadas (201), mas o lote delas não sai.
    lost = await asyncio.wait_for(asyncio.gather(*(ws.ingest(asgi_client, sign) for _ in range(3))), GUARD)
    counted = _failures() - before
    monkeypatch.setattr(layer, "group_send", real)
    after_recovery = await ws.ingest(asgi_client, sign)
    next_live = await ws.receive(live)
    # O cliente percebe o salto de cursor e retoma do último que viu: nada se perde.
    again, _ = await ws.authenticated(connect, user, cursor=cursor)
    replayed = [await ws.receive(again) for _ in range(4)]
    done = await ws.receive(again)

    assert counted == 3
    assert next_live["event"]["id"] == after_recovery
    assert next_live["cursor"] == cursor + 4
    assert sorted(m["event"]["id"] for m in replayed[:3]) == sorted(lost)
    assert [m["cursor"] for m in replayed] == [cursor + 1, cursor + 2, cursor + 3, cursor + 4]
    assert done == {"type": "resumed", "cursor": cursor + 4, "replayed": 4}


async def test_the_hub_unpacks_a_batch_in_order_and_skips_what_it_does_not_know(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    live, _ = await ws.authenticated(connect, user)
    layer = get_channel_layer()
    batch = {
        "type": BATCH_TYPE,
        "messages": [
            {"type": "event.new", "event": _event(1), "cursor": 101},
            # Outro tipo de mensagem no mesmo lote (ex.: alertas): o repasse de eventos a ignora.
            {"type": "something.else", "payload": 1},
            {"type": "event.new", "event": {"no-id": True}},
            "não é um dict",
            {"type": "event.new", "event": _event(2), "cursor": 102},
        ],
    }

    await layer.group_send(EVENTS_GROUP, batch)
    await layer.group_send(EVENTS_GROUP, {"type": BATCH_TYPE, "messages": "fora do formato"})
    event_id = await ws.ingest(asgi_client, sign)
    received = [await ws.receive(live) for _ in range(3)]

    assert [(m["event"]["id"], m["cursor"]) for m in received[:2]] == [("e1", 101), ("e2", 102)]
    assert received[2]["event"]["id"] == event_id
    assert get_hub().running is True


def test_unpack_keeps_single_messages_as_they_are() -> None:
    single = {"type": "event.new", "event": _event(1), "cursor": 1}

    assert unpack(single) == [single]
    assert unpack({"type": BATCH_TYPE, "messages": [single, single]}) == [single, single]
    with pytest.raises(ValueError, match="messages"):
        unpack({"type": BATCH_TYPE})
