"""Latência de fan-out do feed: ingestão (POST do webhook) → ``new_event`` em N sockets.

Sobe um servidor real (ver ``bench/servers.py``), abre N WebSockets autenticados
por JWT (primeira mensagem) e posta eventos assinados a uma taxa fixa. Cada evento
leva seu índice em ``metadata.bench``; a latência de cada entrega é o instante da
recepção menos o instante logo antes do POST (mesmo relógio: tudo neste processo).

Com ``--protocol socketio`` os N clientes falam Socket.IO (``/socket.io/``, transporte
WebSocket, JWT no ``auth`` do handshake) e recebem ``new_event`` ``(evento, cursor)``. O
cliente de medição fala o protocolo Engine.IO v4/Socket.IO v5 à mão sobre ``websockets``
(abrir, CONNECT com ``auth``, responder aos pings, decodificar ``42[...]``): o mesmo custo de
cliente do WebSocket próprio, para medir o servidor e não o cliente. O ``socket.io-client``
real e o ``AsyncClient`` do python-socketio são exercitados nos testes.

Uso::

    .venv/bin/python -m bench.fanout                              # 100 sockets, 20 ev/s, 30 s, uvicorn
    .venv/bin/python -m bench.fanout --server uvicorn-2+redis     # 2 workers, camada Redis
    .venv/bin/python -m bench.fanout --server uvicorn-2+redis --protocol socketio --rate 100
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import statistics
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from bench.servers import CONFIGS, SECRET_KEY, RunningServer, running_server, server_cpu_seconds, signed_delivery


def access_token(user_id: str, lifetime: int = 3600) -> str:
    """JWT de acesso no formato do simplejwt (mesma chave do servidor de bench)."""
    now = int(time.time())
    payload = {"token_type": "access", "exp": now + lifetime, "iat": now, "jti": uuid.uuid4().hex, "user_id": user_id}
    return jwt.encode(payload, SECRET_KEY, algorithm="HS256")


def server_rss_mb(server: RunningServer) -> float:
    """RSS somado de todos os processos do servidor (mestre + workers)."""
    out = subprocess.run(
        ["ps", "-o", "rss=", "-g", str(server.process.pid)], capture_output=True, text=True, check=False
    ).stdout
    return sum(int(x) for x in out.split()) / 1024


@dataclass
class Stats:
    sent_at: dict[int, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    received: int = 0
    errors: list[str] = field(default_factory=list)


async def listen(sock: ClientConnection, stats: Stats) -> None:
    async for raw in sock:
        now = time.perf_counter()
        message = json.loads(raw)
        if message["type"] == "new_event":
            index = message["event"]["metadata"]["bench"]
            stats.latencies.append(now - stats.sent_at[index])
            stats.received += 1
        elif message["type"] == "error":
            stats.errors.append(message["code"])


async def open_socket(server: RunningServer, token: str) -> ClientConnection:
    ws_url = server.base_url.replace("http://", "ws://") + "/ws/events/"
    sock = await connect(ws_url, origin=Origin(server.base_url), max_queue=None)
    await sock.send(json.dumps({"type": "auth", "token": token}))
    hello = json.loads(await sock.recv())
    if hello["type"] != "hello":
        raise RuntimeError(f"autenticação falhou: {hello}")
    return sock


# --- Socket.IO (Engine.IO v4 sobre WebSocket) ----------------------------------------
# Pacotes Engine.IO: "0" abrir, "2" ping, "3" pong, "4" mensagem; dentro da mensagem, o
# Socket.IO: "0" CONNECT, "2" EVENT, "4" CONNECT_ERROR.


async def socketio_listen(sock: ClientConnection, stats: Stats) -> None:
    async for raw in sock:
        now = time.perf_counter()
        if raw == "2":
            await sock.send("3")
        elif isinstance(raw, str) and raw.startswith("42["):
            name, *args = json.loads(raw[2:])
            if name == "new_event":
                index = args[0]["metadata"]["bench"]
                stats.latencies.append(now - stats.sent_at[index])
                stats.received += 1
            elif name == "error":
                stats.errors.append(args[0]["code"])


async def open_socketio(server: RunningServer, token: str) -> ClientConnection:
    ws_url = server.base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    sock = await connect(ws_url, max_queue=None)
    opened = await sock.recv()
    if not isinstance(opened, str) or not opened.startswith("0"):
        raise RuntimeError(f"handshake do Engine.IO falhou: {opened!r}")
    await sock.send("40" + json.dumps({"token": token}))
    accepted = await sock.recv()
    if not isinstance(accepted, str) or not accepted.startswith("40"):
        raise RuntimeError(f"autenticação falhou: {accepted!r}")
    hello = await sock.recv()
    if not isinstance(hello, str) or not hello.startswith('42["hello"'):
        raise RuntimeError(f"hello esperado: {hello!r}")
    return sock


PROTOCOLS = {"ws": (open_socket, listen), "socketio": (open_socketio, socketio_listen)}


async def run(
    server: RunningServer, user_id: str, *, sockets: int, rate: float, seconds: float, protocol: str = "ws"
) -> dict[str, Any]:
    token = access_token(user_id)
    opener, listener = PROTOCOLS[protocol]
    rss_idle = server_rss_mb(server)
    socks = [await opener(server, token) for _ in range(sockets)]
    rss_open = server_rss_mb(server)
    stats = Stats()
    listeners = [asyncio.create_task(listener(sock, stats)) for sock in socks]
    total = int(rate * seconds)
    created = 0
    cpu_before = server_cpu_seconds(server.process.pid)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        start = time.perf_counter()
        for index in range(total):
            # Agenda fixa: o atraso de um POST não empurra os seguintes.
            await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
            body = json.dumps(
                {"userId": f"u-{index % 50}", "type": "purchase", "value": 1.0, "metadata": {"bench": index}}
            )
            headers = signed_delivery(body)
            stats.sent_at[index] = time.perf_counter()
            response = await http.post("/api/webhook/event", content=body, headers=headers)
            created += response.status_code == 201
    expected = created * sockets
    grace = time.perf_counter() + 5
    while stats.received < expected and time.perf_counter() < grace:
        await asyncio.sleep(0.05)
    rss_end = server_rss_mb(server)
    cpu_seconds = server_cpu_seconds(server.process.pid) - cpu_before
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    await asyncio.gather(*(sock.close() for sock in socks), return_exceptions=True)

    ordered = sorted(stats.latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] * 1000 if ordered else float("nan")

    return {
        "protocol": protocol,
        "sockets": sockets,
        "events_created": created,
        "deliveries_expected": expected,
        "deliveries_received": stats.received,
        "delivered_fraction": stats.received / expected if expected else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "max_ms": ordered[-1] * 1000 if ordered else float("nan"),
        "mean_ms": statistics.fmean(ordered) * 1000 if ordered else float("nan"),
        "rss_idle_mb": rss_idle,
        "rss_sockets_open_mb": rss_open,
        "rss_end_mb": rss_end,
        "server_cpu_percent": 100 * cpu_seconds / seconds,
        "server_cpu_us_per_delivery": cpu_seconds * 1e6 / stats.received if stats.received else float("nan"),
        "errors": len(stats.errors),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default="uvicorn-1", choices=sorted(CONFIGS))
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--rate", type=float, default=20.0, help="eventos por segundo")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--protocol", default="ws", choices=sorted(PROTOCOLS), help="ws: /ws/events/; socketio")
    parser.add_argument(
        "--ws-deflate", choices=["on", "off"], help="força o permessage-deflate do uvicorn (padrão: o da configuração)"
    )
    args = parser.parse_args()
    config = CONFIGS[args.server]
    if args.ws_deflate is not None:
        config = dataclasses.replace(config, ws_deflate=args.ws_deflate == "on")
    with running_server(config, username="bench") as (server, user_id):
        assert user_id is not None
        result = asyncio.run(
            run(server, user_id, sockets=args.sockets, rate=args.rate, seconds=args.seconds, protocol=args.protocol)
        )
    print(
        f"# fan-out ({args.protocol}): servidor {args.server} (deflate {'on' if config.ws_deflate else 'off'}), "
        f"{args.sockets} sockets, {args.rate:g} ev/s por {args.seconds:g} s"
    )
    for key, value in result.items():
        print(f"{key:>22}: {value:.4g}" if isinstance(value, float) else f"{key:>22}: {value}")


if __name__ == "__main__":
    main()
