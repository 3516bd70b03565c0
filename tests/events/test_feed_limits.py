"""/ws/events/ sob abuso: limite de mensagens por socket, uma retomada por vez, custo limitado.

Antes: nenhum limite por socket, e a retomada não tinha limite de custo (um filtro que
quase nada aceita varria o histórico inteiro pelo índice de ``seq``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.test import override_settings

from accounts.models import User
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect


async def test_a_socket_that_floods_messages_is_closed_with_1008_and_others_keep_working(
    connect: ws.Connect, user: User, asgi_client: httpx.AsyncClient, sign: Any
) -> None:
    with override_settings(WS_MESSAGE_RATE_LIMIT="5/minute"):
        flooder, _ = await ws.authenticated(connect, user)  # a mensagem "auth" conta: 1 de 5
        calm, _ = await ws.authenticated(connect, user)
        for _ in range(5):
            await flooder.send_json_to({"type": "ping"})
        pongs = [await ws.receive(flooder) for _ in range(4)]
        error, close = await ws.closed_with(flooder)
        await calm.send_json_to({"type": "ping"})
        calm_pong = await ws.receive(calm)
        event_id = await ws.ingest(asgi_client, sign)
        live = await ws.receive(calm)
        health = await asgi_client.get("/api/health")

    assert [message["type"] for message in pongs] == ["pong"] * 4
    assert error["code"] == "rate_limited"
    assert close["code"] == 1008
    assert calm_pong == {"type": "pong"}
    assert live["event"]["id"] == event_id
    assert health.status_code == 200


async def test_replays_on_one_socket_run_one_at_a_time_in_the_order_asked(
    connect: ws.Connect, user: User, asgi_client: httpx.AsyncClient, sign: Any
) -> None:
    ids = [await ws.ingest(asgi_client, sign, value=float(n)) for n in range(3)]
    sock, _ = await ws.authenticated(connect, user)

    for cursor in (0, 1, 2):
        await sock.send_json_to({"type": "resume", "cursor": cursor})
    messages = [await ws.receive(sock) for _ in range(6)]

    # A 1ª retomada reenvia os três; as seguintes não repetem o que o socket já recebeu, e
    # cada "resumed" chega inteiro antes de a retomada seguinte começar.
    assert [(m["type"], m["cursor"], m.get("event", {}).get("id")) for m in messages] == [
        ("new_event", 1, ids[0]),
        ("new_event", 2, ids[1]),
        ("new_event", 3, ids[2]),
        ("resumed", 3, None),
        ("resumed", 3, None),
        ("resumed", 3, None),
    ]
    assert [m.get("replayed") for m in messages[3:]] == [3, 0, 0]
