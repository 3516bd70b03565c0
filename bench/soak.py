"""Soak: carga mista por muito tempo contra um servidor de verdade, e a conta no final.

Sobe o servidor de produção e, durante ``--minutes``, carga mista. Configurações
(``--setup``):

* ``prod`` (padrão) — uvicorn com ``--workers 2``, camada de canais no Redis (prefixo
  próprio), PostgreSQL como banco do Django (um banco novo, apagado no fim) e o
  armazenamento de eventos **pelo pymongo** (``MongoStore``, o adaptador de produção)
  num ``devtools.mongowire`` em processo à parte — o protocolo do MongoDB sobre o
  mongomock: os dois workers veem o mesmo banco, então a reconciliação pela API é exata.
  Não há MongoDB de verdade aqui; o mongowire não mede o desempenho de um ``mongod``;
* ``single`` — a rodada antiga: 1 processo, mongomock no processo, camada em memória,
  SQLite.

Durante a carga:

* remetentes postam webhooks assinados (Standard Webhooks) a ``--rate`` ev/s, com uma
  fração de reenvios (mesmo ``webhook-id`` e corpo: espera-se 200 ``duplicate``) e de
  entregas com assinatura errada (espera-se 401); um remetente só considera entregue o
  que recebeu 2xx e reenvia, como um remetente real, o que recebeu 503/erro de rede;
* leitores pedem a listagem (página 1 e páginas por cursor) e o resumo;
* ``--sockets`` clientes WebSocket (``/ws/events/``) e ``--socketio`` clientes Socket.IO
  (``/socket.io/``, transporte WebSocket) autenticados por JWT recebem o feed ao vivo —
  cada um tem de receber cada evento criado exatamente uma vez (os dois workers publicam
  pelo Redis);
* a memória (RSS) de cada worker é amostrada a cada ``--sample`` segundos.

No fim, a reconciliação pela própria API: toda entrega confirmada (2xx) está gravada
exatamente uma vez (lista completa por cursor; ``metadata.soak`` leva o ``webhook-id``),
nada além delas foi gravado, e o total do resumo (calculado dos rollups) bate com a
lista. Zero 5xx é exigido (contado no cliente e no log de acesso do servidor).

Uso::

    .venv/bin/python -m bench.soak                      # 10 min, 20 ev/s, 20 WS + 10 Socket.IO, prod
    .venv/bin/python -m bench.soak --minutes 1 --rate 10 --sockets 5
    .venv/bin/python -m bench.soak --setup single       # 1 processo, mongomock no processo

Limites de taxa da API e do webhook ficam desligados: toda a carga sai de 127.0.0.1
com um só usuário, e o objetivo aqui é estabilidade, não contenção de abuso.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from bench.alerts_cost import create_rules
from bench.servers import REDIS_URL, clean_redis, stop_process_group

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
OUT = ROOT / "bench" / "out"
# Segredos só deste benchmark (o segredo de webhook é o dos testes), nunca de produção.
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105
SECRET_KEY = "soak-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
USERNAME, PASSWORD = "soak", "soak-senha-comprida-9f8e7d6c"
TYPES = ["login", "purchase", "deposit", "withdrawal", "logout"]
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(workdir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WEBHOOK_RATE_LIMIT": "",
        "API_RATE_LIMITS_ENABLED": "false",
        # Os tokens precisam durar o soak inteiro (o padrão de produção é 10 min).
        "JWT_ACCESS_MINUTES": "120",
        "MONGO_URI": "mongomock://localhost/soak",
        # O bench mede o armazenamento em memória (não há MongoDB aqui): permitido de propósito.
        "MONGO_ALLOW_IN_MEMORY": "true",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "REDIS_URL": "",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


def start_mongowire(workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``devtools.mongowire`` em processo à parte; devolve o processo e a ``MONGO_URI``."""
    log = (workdir / "mongowire.log").open("wb")
    process = subprocess.Popen(
        [PYTHON, "-m", "devtools.mongowire", "--port", "0", "--replica-set", "rs0", "--log-level", "WARNING"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,
    )
    assert process.stdout is not None
    uri = process.stdout.readline().decode().strip()
    if not uri.startswith("mongodb://"):
        stop_process_group(process)
        sys.exit(f"mongowire não subiu: {uri!r}")
    base, _, query = uri.partition("?")
    return process, f"{base.rstrip('/')}/soak?{query}" if query else f"{base.rstrip('/')}/soak"


def postgres_database(name: str, *, create: bool) -> str:
    """Cria (ou apaga) um banco próprio do soak no PostgreSQL; devolve a URL dele."""
    import psycopg

    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}"


def prepare_database(env: dict[str, str]) -> None:
    script = (
        "import django; django.setup(); from django.core.management import call_command;"
        "call_command('migrate', verbosity=0);"
        "from django.contrib.auth import get_user_model;"
        f"get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r})"
    )
    subprocess.run([PYTHON, "-c", script], env=env, cwd=ROOT, check=True)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def group_pids(pgid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in out.split()]


def worker_pids(pgid: int) -> list[int]:
    """Os processos que atendem (o mestre do uvicorn com 1 worker; senão, os filhos dele)."""
    pids = group_pids(pgid)
    children = []
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pgid and rss_mb(pid) > 40:  # ppid; o rastreador de recursos é pequeno
                children.append(pid)
    return sorted(children) or [pgid]


def cpu_seconds(pgid: int) -> float:
    ticks = 0
    for pid in group_pids(pgid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


@dataclass
class Delivery:
    msg_id: str
    body: str


@dataclass
class Stats:
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)
    transport_errors: Counter[str] = field(default_factory=Counter)
    five_xx: list[str] = field(default_factory=list)
    # webhook-id → id do evento, para toda entrega confirmada (2xx)
    acknowledged: dict[str, str] = field(default_factory=dict)
    created: int = 0
    duplicates: int = 0
    duplicate_id_mismatch: int = 0
    bad_signature_rejected: int = 0
    sender_retries: int = 0
    ws_received: list[int] = field(default_factory=list)
    ws_closed_unexpectedly: int = 0
    rss: list[tuple[float, float, int]] = field(default_factory=list)  # (segundos, MB, eventos confirmados)
    rss_tail: list[tuple[float, float, int]] = field(default_factory=list)  # fase só de leituras
    # RSS de cada worker (pid → amostras) e do mongowire (onde os dados moram na rodada prod)
    rss_workers: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    rss_store: list[tuple[float, float]] = field(default_factory=list)
    sio_received: list[int] = field(default_factory=list)
    sio_closed_unexpectedly: int = 0
    # ids recebidos por socket (WS e Socket.IO): cada evento criado exatamente uma vez
    feed_ids: list[Counter[str]] = field(default_factory=list)
    # Motivos de queda/erro vistos pelos clientes do feed (eles reconectam com o cursor).
    feed_closes: Counter[str] = field(default_factory=Counter)
    # ids de alerta recebidos por socket (só ao vivo: a retomada não reenvia alertas)
    feed_alerts: list[Counter[str]] = field(default_factory=list)

    def record(self, name: str, status: int, started: float) -> None:
        self.statuses.setdefault(name, Counter())[status] += 1
        self.latencies_ms.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        if status >= 500:
            self.five_xx.append(f"{name} {status}")


def sign(delivery: Delivery) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "webhook-id": delivery.msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(WEBHOOK_SECRET).sign(delivery.msg_id, now, delivery.body),
        "content-type": "application/json",
    }


async def sender(client: httpx.AsyncClient, stats: Stats, stop: float, interval: float, rng: random.Random) -> None:
    sent: list[Delivery] = []
    while time.monotonic() < stop:
        tick = time.monotonic()
        roll = rng.random()
        if roll < 0.05 and sent:
            await deliver(client, stats, rng.choice(sent), replay=True)
        elif roll < 0.07:
            await bad_signature(client, stats)
        else:
            msg_id = f"soak_{uuid.uuid4().hex}"
            body = {
                "userId": f"u-{rng.randrange(200)}",
                "type": rng.choice(TYPES),
                "value": round(rng.uniform(0, 5000), 2),
                "metadata": {"soak": msg_id},
            }
            delivery = Delivery(msg_id, json.dumps(body))
            if await deliver(client, stats, delivery, replay=False):
                sent.append(delivery)
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - tick)))


async def deliver(client: httpx.AsyncClient, stats: Stats, delivery: Delivery, *, replay: bool) -> bool:
    """Entrega até receber 2xx (como um remetente real); devolve se foi confirmada."""
    for attempt in range(6):
        started = time.perf_counter()
        try:
            response = await client.post("/api/webhook/event", content=delivery.body, headers=sign(delivery))
        except httpx.HTTPError as exc:
            stats.transport_errors[f"webhook {type(exc).__name__}"] += 1
            stats.sender_retries += 1
            await asyncio.sleep(0.5 * 2**attempt)
            continue
        stats.record("webhook", response.status_code, started)
        if response.status_code in (200, 201):
            event_id = response.json()["id"]
            known = stats.acknowledged.setdefault(delivery.msg_id, event_id)
            if response.status_code == 201:
                stats.created += 1
            else:
                stats.duplicates += 1
            if known != event_id:
                stats.duplicate_id_mismatch += 1
            if replay and response.status_code != 200:
                stats.duplicate_id_mismatch += 1  # um reenvio confirmado tem de ser "duplicate"
            return True
        if response.status_code == 503 or response.status_code >= 500:
            stats.sender_retries += 1
            await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        return False
    return False


async def bad_signature(client: httpx.AsyncClient, stats: Stats) -> None:
    delivery = Delivery(f"soak_bad_{uuid.uuid4().hex}", json.dumps({"userId": "u-x", "type": "login", "value": 1}))
    headers = sign(delivery) | {"webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}
    started = time.perf_counter()
    try:
        response = await client.post("/api/webhook/event", content=delivery.body, headers=headers)
    except httpx.HTTPError as exc:
        stats.transport_errors[f"webhook-bad {type(exc).__name__}"] += 1
        return
    stats.record("webhook-bad-signature", response.status_code, started)
    if response.status_code == 401:
        stats.bad_signature_rejected += 1


async def reader(client: httpx.AsyncClient, stats: Stats, stop: float, interval: float, rng: random.Random) -> None:
    while time.monotonic() < stop:
        tick = time.monotonic()
        roll = rng.random()
        if roll < 0.5:
            name, url, params = "list", "/api/events", {"limit": "50"}
        elif roll < 0.7:
            name, url, params = "list-filtered", "/api/events", {"limit": "50", "type": rng.choice(TYPES)}
        else:
            name, url, params = "summary", "/api/events/summary", {"range": rng.choice(["15m", "24h"])}
        started = time.perf_counter()
        try:
            response = await client.get(url, params=params)
            stats.record(name, response.status_code, started)
            cursor = response.json().get("nextCursor") if name.startswith("list") and response.is_success else None
            if cursor and rng.random() < 0.3:
                started = time.perf_counter()
                page = await client.get(url, params={"cursor": cursor, "limit": "50"})
                stats.record("list-cursor", page.status_code, started)
        except httpx.HTTPError as exc:
            stats.transport_errors[f"{name} {type(exc).__name__}"] += 1
        await asyncio.sleep(max(0.0, interval - (time.monotonic() - tick)))


async def ws_client(ws_url: str, origin: str, token: str, stats: Stats, index: int, stop_event: asyncio.Event) -> None:
    """Cliente do ``/ws/events/`` que, como o do painel, reconecta e retoma do último cursor se cair."""
    received = 0
    cursor: int | None = None
    while not stop_event.is_set():
        try:
            async with connect(ws_url, origin=Origin(origin), open_timeout=30, max_queue=None) as websocket:
                auth: dict[str, Any] = {"type": "auth", "token": token}
                if cursor is not None:
                    auth["cursor"] = cursor
                await websocket.send(json.dumps(auth))
                while not stop_event.is_set():
                    try:
                        raw = await asyncio.wait_for(websocket.recv(), timeout=1.0)
                    except TimeoutError:
                        continue
                    message = json.loads(raw)
                    kind = message.get("type")
                    if kind == "new_event":
                        received += 1
                        stats.feed_ids[index][message["event"]["id"]] += 1
                        cursor = message["cursor"] if cursor is None else max(cursor, message["cursor"])
                    elif kind == "alert":
                        stats.feed_alerts[index][message["alert"]["id"]] += 1
                    elif kind == "hello" and cursor is None:
                        cursor = message.get("cursor")
                    elif kind in ("error", "resync_required"):
                        stats.feed_closes[f"ws {message.get('code') or kind}"] += 1
        except ConnectionClosed as exc:
            stats.ws_closed_unexpectedly += 1
            stats.feed_closes[f"ws close {exc.rcvd.code if exc.rcvd else 'sem quadro'}"] += 1
            await asyncio.sleep(1.0)
        except (OSError, TimeoutError) as exc:
            stats.feed_closes[f"ws {type(exc).__name__}"] += 1
            await asyncio.sleep(1.0)
    stats.ws_received[index] = received


async def sio_client(base_url: str, token: str, stats: Stats, index: int, slot: int, stop_event: asyncio.Event) -> None:
    """Cliente Socket.IO (Engine.IO v4 sobre WebSocket), como o ``bench.fanout``; reconecta com o cursor."""
    url = base_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    received = 0
    cursor: int | None = None
    while not stop_event.is_set():
        try:
            async with connect(url, open_timeout=30, max_queue=None) as websocket:
                opened = await websocket.recv()
                if not isinstance(opened, str) or not opened.startswith("0"):
                    raise RuntimeError(f"handshake do Engine.IO falhou: {opened!r}")
                auth: dict[str, Any] = {"token": token}
                if cursor is not None:
                    auth["cursor"] = cursor
                await websocket.send("40" + json.dumps(auth))
                while not stop_event.is_set():
                    try:
                        raw = await asyncio.wait_for(websocket.recv(), timeout=1.0)
                    except TimeoutError:
                        continue
                    if raw == "2":
                        await websocket.send("3")
                    elif isinstance(raw, str) and raw.startswith('42["new_event"'):
                        _name, event, event_cursor = json.loads(raw[2:])
                        received += 1
                        stats.feed_ids[slot][event["id"]] += 1
                        cursor = event_cursor if cursor is None else max(cursor, event_cursor)
                    elif isinstance(raw, str) and raw.startswith('42["alert"'):
                        stats.feed_alerts[slot][json.loads(raw[2:])[1]["id"]] += 1
                    elif isinstance(raw, str) and raw.startswith('42["hello"') and cursor is None:
                        cursor = json.loads(raw[2:])[1].get("cursor")
                    elif isinstance(raw, str) and raw.startswith(('42["error"', '42["resync_required"', "44")):
                        stats.feed_closes[f"socketio {raw[:60]}"] += 1
        except ConnectionClosed as exc:
            stats.sio_closed_unexpectedly += 1
            stats.feed_closes[f"socketio close {exc.rcvd.code if exc.rcvd else 'sem quadro'}"] += 1
            await asyncio.sleep(1.0)
        except (OSError, TimeoutError, RuntimeError) as exc:
            stats.feed_closes[f"socketio {type(exc).__name__}"] += 1
            await asyncio.sleep(1.0)
    stats.sio_received[index] = received


def _sample(pgid: int, stats: Stats, started: float, store_pid: int | None, samples: list[Any]) -> None:
    now = round(time.monotonic() - started, 1)
    per_worker = {pid: rss_mb(pid) for pid in worker_pids(pgid)}
    for pid, mb in per_worker.items():
        stats.rss_workers.setdefault(pid, []).append((now, round(mb, 1)))
    if store_pid is not None:
        stats.rss_store.append((now, round(rss_mb(store_pid), 1)))
    # A série principal é o worker mais pesado (o alvo é por worker).
    samples.append((now, round(max(per_worker.values()), 1), len(stats.acknowledged)))


async def rss_sampler(
    pgid: int, stats: Stats, stop: float, every: float, started: float, *, store_pid: int | None, tail: bool = False
) -> None:
    samples = stats.rss_tail if tail else stats.rss
    while time.monotonic() < stop:
        _sample(pgid, stats, started, store_pid, samples)
        await asyncio.sleep(every)
    _sample(pgid, stats, started, store_pid, samples)


async def reconcile(client: httpx.AsyncClient, stats: Stats) -> dict[str, Any]:
    """Lista tudo por cursor e confere com as entregas confirmadas."""
    listed: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "500", "sort": "timestamp"}
    while True:
        response = await client.get("/api/events", params=params, timeout=120)
        response.raise_for_status()
        page = response.json()
        listed.extend(page["results"])
        if not page["nextCursor"]:
            break
        params = {"cursor": page["nextCursor"], "limit": "500"}
    ids = Counter(event["id"] for event in listed)
    by_msg = Counter((event.get("metadata") or {}).get("soak") for event in listed)
    acknowledged = stats.acknowledged
    missing = [msg for msg, event_id in acknowledged.items() if ids.get(event_id, 0) == 0]
    repeated_ids = [event_id for event_id, n in ids.items() if n > 1]
    repeated_msgs = [msg for msg, n in by_msg.items() if n > 1]
    unexpected = [event["id"] for event in listed if (event.get("metadata") or {}).get("soak") not in acknowledged]
    # Parâmetro nunca usado durante a carga: o resumo é calculado agora, não vem do cache.
    summary = (await client.get("/api/events/summary", params={"range": "1d", "top": "7"}, timeout=120)).json()
    return {
        "listed": len(listed),
        "acknowledged": len(acknowledged),
        "missing": len(missing),
        "repeated_ids": len(repeated_ids),
        "repeated_webhook_ids": len(repeated_msgs),
        "unexpected": len(unexpected),
        "summary_total": summary["totals"]["count"],
        "ok": not missing
        and not repeated_ids
        and not repeated_msgs
        and not unexpected
        and len(listed) == len(acknowledged) == summary["totals"]["count"],
    }


async def reconcile_alerts(client: httpx.AsyncClient, stats: Stats) -> dict[str, Any]:
    """Alertas: cada um uma vez na API, sobre eventos confirmados; cada socket sem repetição e sem estranhos.

    Um socket que caiu e reconectou pode ter perdido alertas (a retomada não os reenvia): os
    recebidos são contados, não exigidos.
    """
    listed: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "200"}
    while True:
        response = await client.get("/api/alerts", params=params, timeout=120)
        response.raise_for_status()
        page = response.json()
        listed.extend(page["results"])
        if not page["nextCursor"]:
            break
        params = {"cursor": page["nextCursor"], "limit": "200"}
    ids = Counter(alert["id"] for alert in listed)
    created_ids = set(stats.acknowledged.values())
    foreign_events = sum(1 for alert in listed for event_id in alert["eventIds"] if event_id not in created_ids)
    api_ids = set(ids)
    per_socket = [len(received) for received in stats.feed_alerts]
    result = {
        "listed": len(listed),
        "by_kind": dict(Counter(alert["kind"] for alert in listed)),
        "repeated_ids": sum(1 for n in ids.values() if n > 1),
        "foreign_event_ids": foreign_events,
        "socket_received_min": min(per_socket, default=0),
        "socket_received_max": max(per_socket, default=0),
        "socket_repeated_max": max((sum(1 for n in got.values() if n > 1) for got in stats.feed_alerts), default=0),
        "socket_unknown_max": max((len(set(got) - api_ids) for got in stats.feed_alerts), default=0),
    }
    result["ok"] = not (
        result["repeated_ids"]
        or result["foreign_event_ids"]
        or result["socket_repeated_max"]
        or result["socket_unknown_max"]
    )
    return result


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def rss_trend(samples: list[tuple[float, float, int]], warmup: float) -> dict[str, float | None]:
    steady = [s for s in samples if s[0] >= warmup] or samples
    times = [s[0] / 60 for s in steady]
    mbs = [s[1] for s in steady]
    events = [s[2] / 1000 for s in steady]
    # None (e não NaN, que não é JSON) quando a tendência não se aplica: ex. sem eventos novos.
    per_minute = round(statistics.linear_regression(times, mbs).slope, 3) if len(steady) > 1 else None
    per_kevent = round(statistics.linear_regression(events, mbs).slope, 3) if len(set(events)) > 1 else None
    return {
        "first_mb": samples[0][1],
        "after_warmup_mb": steady[0][1],
        "last_mb": samples[-1][1],
        "max_mb": max(s[1] for s in samples),
        "slope_mb_per_min": per_minute,
        "slope_mb_per_1k_events": per_kevent,
    }


def server_log_other(log: Path, limit: int = 200) -> list[str]:
    """As linhas do log do servidor que não são de acesso (avisos, erros), as últimas ``limit``."""
    other = []
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            if json.loads(line).get("logger") == "trader_monitor.access":
                continue
        other.append(line[:2000])
    return other[-limit:]


def access_log_statuses(log: Path) -> dict[int, int]:
    """Status das linhas do log de acesso (JSON) do servidor: a contagem do lado de lá."""
    statuses: Counter[int] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if record.get("logger") == "trader_monitor.access" and isinstance(record.get("status"), int):
                statuses[record["status"]] += 1
    return dict(sorted(statuses.items()))


STORE_COST_SCRIPT = """
import json, os, sys
import django
django.setup()
from pathlib import Path
from events.domain import IdempotencyKey, parse_payload
from events.services import event_ingest
from events.store import get_store

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

n = int(sys.argv[1])
store = get_store()
def ingest(i):
    kind = ["login", "purchase", "deposit", "withdrawal", "logout"][i % 5]
    body = json.dumps({"userId": f"u-{i % 200}", "type": kind, "value": round(i * 1.37 % 5000, 2),
                       "metadata": {"soak": f"soak_{i:032x}"}})
    payload, data = parse_payload(body.encode())
    event_ingest(payload=payload, data=data, key=IdempotencyKey("webhook-id", f"soak_{i:032x}"))
for i in range(500):
    ingest(i)
store.flush_rollups()
before = rss()
for i in range(500, 500 + n):
    ingest(i)
    if i % 100 == 0:
        store.flush_rollups()
store.flush_rollups()
print(json.dumps({"events": n, "mb": rss() - before}))
"""


def store_cost_mb_per_1k(env: dict[str, str], events: int) -> float:
    """Controle: RSS que o armazenamento em memória (mongomock) ganha por 1.000 eventos, sem HTTP."""
    done = subprocess.run(
        [PYTHON, "-c", STORE_COST_SCRIPT, str(events)], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    measured = json.loads(done.stdout.strip().splitlines()[-1])
    return round(measured["mb"] / (measured["events"] / 1000), 3)


async def run(args: argparse.Namespace, base_url: str, pid: int, store_pid: int | None) -> dict[str, Any]:
    stats = Stats(ws_received=[0] * args.sockets, sio_received=[0] * args.socketio)
    stats.feed_ids = [Counter() for _ in range(args.sockets + args.socketio)]
    stats.feed_alerts = [Counter() for _ in range(args.sockets + args.socketio)]
    rng = random.Random(args.seed)
    limits = httpx.Limits(max_connections=args.senders + args.readers + 4)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        login = await client.post("/api/auth/login", json={"username": USERNAME, "password": PASSWORD})
        login.raise_for_status()
        token = login.json()["access"]
        client.headers["Authorization"] = f"Bearer {token}"
        ws_url = base_url.replace("http://", "ws://") + "/ws/events/"
        stop_event = asyncio.Event()
        sockets = [
            asyncio.create_task(ws_client(ws_url, base_url, token, stats, index, stop_event))
            for index in range(args.sockets)
        ]
        sockets += [
            asyncio.create_task(sio_client(base_url, token, stats, index, args.sockets + index, stop_event))
            for index in range(args.socketio)
        ]
        await asyncio.sleep(2)  # sockets autenticados antes da carga
        started = time.monotonic()
        stop = started + args.minutes * 60
        cpu_before = cpu_seconds(pid)
        load = [
            *(
                sender(client, stats, stop, args.senders / args.rate, random.Random(rng.random()))
                for _ in range(args.senders)
            ),
            *(
                reader(client, stats, stop, args.readers / args.read_rate, random.Random(rng.random()))
                for _ in range(args.readers)
            ),
            rss_sampler(pid, stats, stop, args.sample, started, store_pid=store_pid),
        ]
        await asyncio.gather(*load)
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(pid) - cpu_before
        if args.tail_minutes > 0:
            # Só leituras e sockets abertos, sem dados novos: memória que ainda sobe aqui não
            # é dado guardado (seria vazamento por requisição).
            tail_started = time.monotonic()
            tail_stop = tail_started + args.tail_minutes * 60
            await asyncio.gather(
                *(
                    reader(client, stats, tail_stop, args.readers / args.read_rate, random.Random(rng.random()))
                    for _ in range(args.readers)
                ),
                rss_sampler(pid, stats, tail_stop, args.sample, started, store_pid=store_pid, tail=True),
            )
        await asyncio.sleep(2)  # últimos new_event a caminho
        stop_event.set()
        await asyncio.gather(*sockets, return_exceptions=True)
        reconciliation = await reconcile(client, stats)
        alerts = await reconcile_alerts(client, stats)
    created_ids = set(stats.acknowledged.values())
    # Entrega ao vivo: cada socket recebeu cada evento criado exatamente uma vez (e nada além).
    feed = {
        "sockets": len(stats.feed_ids),
        "missing_max": max((len(created_ids - set(ids)) for ids in stats.feed_ids), default=0),
        "repeated_max": max((sum(1 for n in ids.values() if n > 1) for ids in stats.feed_ids), default=0),
        "unexpected_max": max((len(set(ids) - created_ids) for ids in stats.feed_ids), default=0),
    }
    # Os reenvios confirmados como duplicate não geram evento novo: os criados são os ids distintos.
    feed["ok"] = not feed["missing_max"] and not feed["repeated_max"] and not feed["unexpected_max"]
    return {
        "elapsed_s": round(elapsed, 1),
        "server_cpu_s": round(cpu, 1),
        "statuses": {name: dict(sorted(counter.items())) for name, counter in stats.statuses.items()},
        "latency_ms": {
            name: {"p50": round(percentile(values, 0.5), 1), "p99": round(percentile(values, 0.99), 1)}
            for name, values in stats.latencies_ms.items()
        },
        "five_xx_client": len(stats.five_xx),
        "transport_errors": dict(stats.transport_errors),
        "created": stats.created,
        "duplicates_answered": stats.duplicates,
        "duplicate_id_mismatch": stats.duplicate_id_mismatch,
        "bad_signature_rejected": stats.bad_signature_rejected,
        "sender_retries": stats.sender_retries,
        "ws_received": {"min": min(stats.ws_received), "max": max(stats.ws_received), "created": stats.created},
        "ws_closed_unexpectedly": stats.ws_closed_unexpectedly,
        "socketio_received": {"min": min(stats.sio_received), "max": max(stats.sio_received)}
        if stats.sio_received
        else None,
        "socketio_closed_unexpectedly": stats.sio_closed_unexpectedly,
        "feed_closes": dict(stats.feed_closes),
        "feed_exactly_once": feed,
        "rss_workers": {
            str(pid): rss_trend([(t, mb, 0) for t, mb in samples], warmup=args.warmup)
            for pid, samples in stats.rss_workers.items()
        },
        "rss_workers_samples": {str(pid): samples for pid, samples in stats.rss_workers.items()},
        "rss_store": rss_trend([(t, mb, 0) for t, mb in stats.rss_store], warmup=args.warmup)
        if stats.rss_store
        else None,
        "rss_samples": stats.rss,
        "rss": rss_trend(stats.rss, warmup=args.warmup),
        "rss_tail_samples": stats.rss_tail,
        "rss_tail": rss_trend(stats.rss_tail, warmup=0) if stats.rss_tail else None,
        "reconciliation": reconciliation,
        "alerts": alerts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0, help="entregas de webhook por segundo (total)")
    parser.add_argument("--read-rate", type=float, default=4.0, help="leituras da API por segundo (total)")
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--setup", choices=("prod", "single"), default="prod")
    parser.add_argument("--workers", type=int, default=None, help="workers do uvicorn (padrão: 2 em prod, 1 em single)")
    parser.add_argument("--sockets", type=int, default=20, help="clientes WebSocket (/ws/events/)")
    parser.add_argument("--socketio", type=int, default=10, help="clientes Socket.IO (/socket.io/)")
    parser.add_argument("--sample", type=float, default=15.0, help="intervalo de amostragem do RSS (s)")
    parser.add_argument("--warmup", type=float, default=60.0, help="segundos fora da tendência do RSS")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--alert-rules", type=int, default=20, help="regras de alerta ativas (0: sem alertas)")
    parser.add_argument(
        "--tail-minutes", type=float, default=0.0, help="depois da carga mista, só leituras e sockets (memória)"
    )
    parser.add_argument(
        "--no-control", dest="control", action="store_false", help="pula o controle do custo do armazenamento"
    )
    args = parser.parse_args()
    if args.workers is None:
        args.workers = 2 if args.setup == "prod" else 1

    workdir = Path(tempfile.mkdtemp(prefix="tm-soak-"))
    env = server_env(workdir)
    prod = args.setup == "prod"
    store_process: subprocess.Popen[bytes] | None = None
    prefix = f"tm-soak-{uuid.uuid4().hex[:10]}"
    database = f"tm_soak_{uuid.uuid4().hex[:10]}"
    if prod:
        store_process, mongo_uri = start_mongowire(workdir)
        env |= {
            "MONGO_URI": mongo_uri,
            "MONGO_ALLOW_IN_MEMORY": "false",
            # O mongowire é Python sobre o mongomock (cada listagem varre a coleção): o prazo de
            # produção (700 ms) mediria a lentidão dele, não a do servidor. Não é um mongod.
            "MONGO_TIMEOUT_MS": "15000",
            "REDIS_URL": REDIS_URL,
            "CHANNEL_LAYER_PREFIX": prefix,
            "DATABASE_URL": postgres_database(database, create=True),
        }
    port = free_port()
    log_path = workdir / "server.log"
    command = [PYTHON, "-m", "uvicorn", "trader_monitor.asgi:application", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log", "--lifespan", "off", "--ws-per-message-deflate", "false"]
    if args.workers > 1:
        command += ["--workers", str(args.workers)]
    try:
        prepare_database(env)
        if args.alert_rules:
            # As 20 regras do bench de alertas (as quatro espécies), avaliadas a cada evento.
            create_rules(env, args.alert_rules)
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log, start_new_session=True)
            base_url = f"http://127.0.0.1:{port}"
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if process.poll() is not None:
                        sys.exit(f"servidor caiu:\n{log_path.read_text()[-3000:]}")
                    with contextlib.suppress(httpx.TransportError):
                        if httpx.get(f"{base_url}/api/health", timeout=1).status_code == 200:
                            break
                    time.sleep(0.2)
                time.sleep(3)  # todos os workers no ar
                print(
                    f"# soak ({args.setup}): {args.minutes} min, {args.rate} ev/s, {args.read_rate} leituras/s, "
                    f"{args.sockets} WebSockets + {args.socketio} Socket.IO"
                )
                print(f"# servidor: {' '.join(command[1:])} (pid {process.pid}); CPUs {os.cpu_count()}")
                print(f"# armazenamento: {env['MONGO_URI']}; banco Django: {env['DATABASE_URL'].split('@')[-1]}")
                print(f"# carga da máquina no início: {os.getloadavg()}", flush=True)
                result = asyncio.run(run(args, base_url, process.pid, store_process.pid if store_process else None))
                server_statuses = access_log_statuses(log_path)
                result["server_log_other"] = server_log_other(log_path)
                result["server_access_log_statuses"] = server_statuses
                result["five_xx_server_log"] = sum(n for status, n in server_statuses.items() if status >= 500)
                result["loadavg_end"] = os.getloadavg()
                result["args"] = vars(args)
                result["setup"] = {
                    "workers": args.workers,
                    "channel_layer": "redis" if prod else "memória",
                    "django_db": "postgresql" if prod else "sqlite",
                    "event_store": "MongoStore (pymongo) → devtools.mongowire" if prod else "mongomock no processo",
                    "alerts": "não (as regras de alerta não estão nesta branch)",
                }
            finally:
                stop_process_group(process)
    finally:
        if store_process is not None:
            stop_process_group(store_process)
        if prod:
            clean_redis(prefix)
            postgres_database(database, create=False)
    if args.control and not prod:
        # Mesmo número de eventos, direto no armazenamento: quanto da subida do RSS é dado guardado.
        result["control_store_mb_per_1k_events"] = store_cost_mb_per_1k(env, max(1000, result["created"]))
    shutil.rmtree(workdir, ignore_errors=True)

    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"soak-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    hidden = {"rss_samples", "rss_tail_samples", "rss_workers_samples", "server_log_other"}
    summary = {key: value for key, value in result.items() if key not in hidden}
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    print("# RSS (s, MB, entregas confirmadas):", " ".join(f"{t:.0f}:{mb}:{n}" for t, mb, n in result["rss_samples"]))
    if result["rss_tail_samples"]:
        print("# RSS só leituras:", " ".join(f"{t:.0f}:{mb}" for t, mb, _n in result["rss_tail_samples"]))
    print(f"# resultado completo: {target.relative_to(ROOT)}")
    ok = (
        result["reconciliation"]["ok"]
        and result["feed_exactly_once"]["ok"]
        and result["alerts"]["ok"]
        and not result["five_xx_client"]
        and not result["five_xx_server_log"]
    )
    print("# RECONCILIAÇÃO OK, zero 5xx" if ok else "# FALHOU: veja reconciliation / alerts / five_xx")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
