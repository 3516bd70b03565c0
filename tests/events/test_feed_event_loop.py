"""O laço de eventos nunca espera o armazenamento: retomadas longas não param o resto do processo.

Vinte sockets pedem, ao mesmo tempo, a retomada do histórico inteiro, e a leitura de
cada retomada fica presa (numa ``threading.Event``) até o teste soltá-la. Com as
retomadas em voo, ``/api/health`` responde, um evento é ingerido pelo webhook e um
outro socket o recebe ao vivo; só então as retomadas são soltas e chegam completas e
em ordem. A prova é de ordem e de progresso, não de tempo: se a leitura rodasse no
laço (como era no modo em memória), nada disso aconteceria antes de soltá-las. Os
tempos ficam no bench (``bench/run.py``).
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from bson import ObjectId
from django.test import override_settings

from accounts.models import User
from events.feed import consumer
from events.feed.protocol import feed_replay
from events.store import EventStore, run_store
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect

HISTORY = 300
REPLAYING_SOCKETS = 20
# Espera máxima por algo que já deveria ter acontecido (não é medida de tempo).
PROGRESS_WAIT = 30.0


def _history(store: EventStore) -> None:
    now = datetime.now(UTC)
    store.insert_events_bulk(
        [
            {
                "_id": ObjectId(),
                "userId": f"u{index % 7}",
                "type": "purchase",
                "value": float(index),
                "timestamp": now - timedelta(seconds=index),
                "receivedAt": now,
                "bodyHash": f"h{index}",
                "ingestId": f"i{index}",
                "schemaVersion": 1,
            }
            for index in range(HISTORY)
        ]
    )


async def test_health_and_live_deliveries_progress_while_twenty_sockets_replay_their_history(
    connect: ws.Connect, user: User, asgi_client: httpx.AsyncClient, sign: Any, store: EventStore, monkeypatch: Any
) -> None:
    _history(store)
    release = threading.Event()
    started = threading.Semaphore(0)
    state = {"in_flight": 0, "finished": 0}

    def held_replay(**kwargs: Any) -> Any:
        started.release()
        release.wait(PROGRESS_WAIT)
        return feed_replay(**kwargs)

    async def holding_run_store(fn: Any, *args: Any, **kwargs: Any) -> Any:
        if fn is not feed_replay:
            return await run_store(fn, *args, **kwargs)
        state["in_flight"] += 1
        try:
            return await run_store(held_replay, *args, **kwargs)
        finally:
            state["in_flight"] -= 1
            state["finished"] += 1

    monkeypatch.setattr(consumer, "run_store", holding_run_store)
    watcher, _ = await ws.authenticated(connect, user)
    replaying = [await connect() for _ in range(REPLAYING_SOCKETS)]

    with override_settings(WS_REPLAY_LIMIT=HISTORY + 10, WS_RESUME_SCAN_LIMIT=10 * HISTORY):
        for sock in replaying:
            await sock.send_json_to({"type": "auth", "token": ws.access_token(user), "cursor": 0})
        # Espera (fora do laço) até a primeira leitura estar presa na thread.
        assert await asyncio.to_thread(started.acquire, True, PROGRESS_WAIT)

        health = await asyncio.wait_for(asgi_client.get("/api/health"), PROGRESS_WAIT)
        health_in_flight = state["in_flight"]
        live_id = await asyncio.wait_for(ws.ingest(asgi_client, sign, userId="watched"), PROGRESS_WAIT)
        live = await ws.receive(watcher)
        live_in_flight, finished_before_release = state["in_flight"], state["finished"]

        release.set()
        replays = []
        for sock in replaying:
            # hello, o histórico, o fim da retomada e, só depois, o evento ao vivo (ingerido
            # durante a espera: já entregue pelo hub, a retomada não o repete).
            replays.append([await ws.receive(sock) for _ in range(HISTORY + 3)])

    assert health.status_code == 200
    assert health_in_flight > 0
    assert live["event"]["id"] == live_id
    assert live_in_flight > 0
    assert finished_before_release == 0
    assert state["finished"] == REPLAYING_SOCKETS
    for messages in replays:
        assert messages[0]["type"] == "hello"
        assert [m["cursor"] for m in messages[1:-2]] == list(range(1, HISTORY + 1))
        assert messages[-2] == {"type": "resumed", "cursor": HISTORY + 1, "replayed": HISTORY}
        assert (messages[-1]["type"], messages[-1]["event"]["id"]) == ("new_event", live_id)


async def test_replays_never_take_every_store_thread(
    connect: ws.Connect, user: User, asgi_client: httpx.AsyncClient, sign: Any, store: EventStore, monkeypatch: Any
) -> None:
    release = threading.Event()
    started = threading.Semaphore(0)
    holding = {"now": 0, "most": 0}
    lock = threading.Lock()

    def held_replay(**kwargs: Any) -> Any:
        with lock:
            holding["now"] += 1
            holding["most"] = max(holding["most"], holding["now"])
        started.release()
        release.wait(PROGRESS_WAIT)
        with lock:
            holding["now"] -= 1
        return feed_replay(**kwargs)

    async def holding_run_store(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await run_store(held_replay if fn is feed_replay else fn, *args, **kwargs)

    monkeypatch.setattr(consumer, "run_store", holding_run_store)
    replaying = [await connect() for _ in range(REPLAYING_SOCKETS)]
    with override_settings(WS_REPLAY_CONCURRENCY=4):
        for sock in replaying:
            await sock.send_json_to({"type": "auth", "token": ws.access_token(user), "cursor": 0})
        for _ in range(4):
            assert await asyncio.to_thread(started.acquire, True, PROGRESS_WAIT)
        # Quatro leituras presas: a ingestão ainda acha thread livre no pool.
        created = await asyncio.wait_for(ws.ingest(asgi_client, sign), PROGRESS_WAIT)
        most_while_held = holding["most"]
        release.set()
        for sock in replaying:
            assert (await ws.receive(sock))["type"] == "hello"

    assert created
    assert most_while_held <= 4
