"""/socket.io/: ``auth: {token, cursor}`` retoma sem lacunas nem repetições, antes de qualquer evento ao vivo."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from django.test import override_settings

from accounts.models import User
from events.feed import socketio as feed_socketio
from events.feed.hub import get_hub
from events.feed.protocol import feed_replay
from events.store import EventStore, StoreUnavailable, get_store, run_store
from tests.events.socketio_feed.conftest import Connect, Ingest, Record, Token

pytestmark = pytest.mark.django_db(transaction=True)


async def test_cursor_in_the_handshake_replays_the_missed_events_in_order_then_streams_live(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    await ingest(value=1)
    cursor = get_store().last_seq()
    missed = [await ingest(value=v) for v in (2, 3, 4)]

    client = await connect(auth={"token": token(user), "cursor": cursor})
    hello = await client.expect("hello")
    replayed = [await client.expect("new_event") for _ in missed]
    done = await client.expect("resumed")
    live_id = await ingest(value=5)
    live, live_cursor = await client.expect("new_event")

    assert hello["cursor"] == cursor + 3
    assert [event["id"] for event, _ in replayed] == missed
    assert [seq for _, seq in replayed] == [cursor + 1, cursor + 2, cursor + 3]
    assert [event["value"] for event, _ in replayed] == [2, 3, 4]
    assert done == {"cursor": cursor + 3, "replayed": 3}
    assert (live["id"], live_cursor) == (live_id, cursor + 4)


async def test_live_events_that_arrive_during_the_replay_wait_until_it_is_sent(
    connect: Connect, user: User, token: Token, ingest: Ingest, record: Record, monkeypatch
) -> None:
    await ingest()
    cursor = get_store().last_seq()
    missed = record(2)
    (live_event, live_seq), *_ = record(1)

    async def replay_with_a_live_event_in_the_middle(fn: Any, *args: Any, **kwargs: Any) -> Any:
        result = await run_store(fn, *args, **kwargs)
        if fn is feed_replay:
            # Um evento ao vivo chega enquanto a retomada ainda não foi enviada; a tarefa
            # de envio do cliente tem todas as chances de rodar antes da retomada seguir.
            get_hub().dispatch({"type": "event.new", "event": live_event, "cursor": live_seq})
            for _ in range(50):
                await asyncio.sleep(0)
        return result

    monkeypatch.setattr(feed_socketio, "run_store", replay_with_a_live_event_in_the_middle)
    client = await connect(auth={"token": token(user), "cursor": cursor})
    await client.expect("hello")
    messages = [await client.next() for _ in range(4)]

    assert [(name, data[1] if name == "new_event" else data["cursor"]) for name, data in messages] == [
        ("new_event", missed[0][1]),
        ("new_event", missed[1][1]),
        ("resumed", live_seq),
        ("new_event", live_seq),
    ]
    assert messages[3][1][0]["id"] == live_event["id"]


async def test_subscribe_with_cursor_resumes_through_the_filter(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    await ingest(type="login")
    cursor = get_store().last_seq()
    await ingest(type="login")
    wanted = await ingest(type="deposit")

    client = await connect(auth={"token": token(user)})
    await client.expect("hello")
    ack = await client.call("subscribe", {"types": ["deposit"], "cursor": cursor})
    await client.expect("subscribed")
    replayed, seq = await client.expect("new_event")
    done = await client.expect("resumed")

    assert ack == {"types": ["deposit"], "userId": None}
    assert (replayed["id"], seq) == (wanted, cursor + 2)
    assert done == {"cursor": cursor + 2, "replayed": 1}


async def test_resume_event_replays_on_demand_and_acks_with_the_outcome(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    client = await connect(auth={"token": token(user)})
    await client.expect("hello")
    missed = [await ingest() for _ in range(2)]
    live = [await client.expect("new_event") for _ in missed]

    ack = await client.call("resume", {"cursor": 0})
    done = await client.expect("resumed")

    assert [event["id"] for event, _ in live] == missed
    # Já entregues ao vivo a este cliente: nada é reenviado.
    assert ack == done == {"cursor": 2, "replayed": 0}


async def test_too_many_missed_events_asks_for_resync_then_streams_live(
    connect: Connect, user: User, token: Token, ingest: Ingest
) -> None:
    for _ in range(3):
        await ingest()

    with override_settings(WS_REPLAY_LIMIT=2):
        client = await connect(auth={"token": token(user), "cursor": 0})
        await client.expect("hello")
        resync = await client.expect("resync_required")
    live_id = await ingest()
    live, _ = await client.expect("new_event")

    assert resync["reason"] == "too_many_missed"
    assert resync["cursor"] == 3
    assert resync["detail"]
    assert live["id"] == live_id


async def test_cursor_ahead_of_the_feed_asks_for_resync(connect: Connect, user: User, token: Token, ingest) -> None:
    await ingest()

    client = await connect(auth={"token": token(user), "cursor": 99})
    await client.expect("hello")
    resync = await client.expect("resync_required")

    assert (resync["reason"], resync["cursor"]) == ("cursor_ahead", 1)


async def test_store_outage_during_the_handshake_replay_is_reported_and_live_continues(
    connect: Connect, user: User, token: Token, ingest: Ingest, store: EventStore, monkeypatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("fora do ar")

    monkeypatch.setattr(store, "events_after_seq", down)
    client = await connect(auth={"token": token(user), "cursor": 0})
    await client.expect("hello")
    error = await client.expect("error")
    monkeypatch.undo()
    live_id = await ingest()

    assert error["code"] == "store_unavailable"
    assert (await client.expect("new_event"))[0]["id"] == live_id
