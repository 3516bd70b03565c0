"""Servidor ASGI de produção escolhido por medição: vazão da ingestão com ``wrk``.

Cada configuração sobe um servidor real (daphne, uvicorn, uvicorn com 2 workers,
gunicorn + UvicornWorker) em modo de produção (``DJANGO_DEBUG=false``, webhook
ASSINADO) e recebe ``POST /api/webhook/event`` de ``wrk``. Os pedidos são
pré-assinados (Standard Webhooks, válidos por 5 min) com ``webhook-id`` distintos:
cada um é uma inserção nova (201), não uma repetição (200).

Uso::

    .venv/bin/python -m bench.servers                     # todas as configurações
    .venv/bin/python -m bench.servers --only uvicorn-1 --runs 1 --duration 5

O armazenamento é o mongomock (em memória) — não há MongoDB aqui; os números medem
o caminho HTTP/ASGI + validação + assinatura + inserção em memória + difusão.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
# Segredos só do benchmark (o mesmo segredo de webhook dos testes), nunca de produção.
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # noqa: S105
SECRET_KEY = "bench-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
APP = "trader_monitor.asgi:application"

LUA = r"""
-- Cada thread percorre os pedidos pré-assinados com passo = nº de threads.
local tcount = 0
local threads = {}
function setup(thread)
  thread:set("tid", tcount)
  tcount = tcount + 1
  table.insert(threads, thread)
end
function init(args)
  requests = {}
  for line in io.lines(os.getenv("WRK_REQUESTS")) do
    local id, ts, sig, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
    requests[#requests + 1] = wrk.format("POST", "/api/webhook/event", {
      ["Content-Type"] = "application/json",
      ["webhook-id"] = id, ["webhook-timestamp"] = ts, ["webhook-signature"] = sig,
    }, body)
  end
  step = tonumber(os.getenv("WRK_THREADS"))
  idx = tid + tonumber(os.getenv("WRK_OFFSET") or "0")
  statuses = {}
end
function request()
  local r = requests[(idx % #requests) + 1]
  idx = idx + step
  return r
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests_)
  local merged = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do merged[k] = (merged[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(merged) do parts[#parts + 1] = string.format('"%d": %d', k, v) end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\n")
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(workdir: Path, *, redis_prefix: str | None) -> dict[str, str]:
    """Ambiente de produção (DEBUG desligado, webhook assinado) com serviços embutidos."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": SECRET_KEY,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        # O limite por IP (6000/min) barraria o wrk, que vem todo de 127.0.0.1.
        "WEBHOOK_RATE_LIMIT": "",
        "MONGO_URI": "mongomock://localhost/bench",
        # O bench mede o armazenamento em memória (não há MongoDB aqui): permitido de propósito.
        "MONGO_ALLOW_IN_MEMORY": "true",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "REDIS_URL": "",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    if redis_prefix is not None:
        env["REDIS_URL"] = REDIS_URL
        env["CHANNEL_LAYER_PREFIX"] = redis_prefix
    return env


def prepare_database(env: dict[str, str], *, username: str | None = None) -> str | None:
    """Migra o SQLite do servidor; com ``username``, cria o usuário e devolve seu id."""
    script = "import django; django.setup(); from django.core.management import call_command;"
    script += "call_command('migrate', verbosity=0);"
    if username:
        script += (
            "from django.contrib.auth import get_user_model;"
            f"print(get_user_model().objects.create_user({username!r}, password='bench-9f8e7d6c').pk)"
        )
    done = subprocess.run([PYTHON, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1] if username else None


@dataclass(frozen=True)
class ServerConfig:
    name: str
    redis: bool
    workers: int
    # Módulo ASGI servido: o produto, ou as linhas de base do ``bench/run.py``.
    app: str = APP
    # permessage-deflate nos WebSockets do uvicorn: desligado como no Dockerfile (produção);
    # ``bench.fanout --ws-deflate on`` mede o padrão do uvicorn (ligado).
    ws_deflate: bool = False

    def command(self, port: int) -> list[str]:
        bind = ["--host", "127.0.0.1", "--port", str(port)]
        if self.name.startswith("daphne"):
            return [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "-v", "0", self.app]
        if self.name.startswith("gunicorn"):
            return [
                str(BIN / "gunicorn"),
                self.app,
                "-k",
                "uvicorn.workers.UvicornWorker",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ]
        cmd = [
            PYTHON,
            "-m",
            "uvicorn",
            self.app,
            *bind,
            "--no-access-log",
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ]
        if self.workers > 1:
            cmd += ["--workers", str(self.workers)]
        if not self.ws_deflate:
            cmd += ["--ws-per-message-deflate", "false"]
        return cmd


CONFIGS = {
    c.name: c
    for c in [
        ServerConfig("daphne", redis=False, workers=1),
        ServerConfig("uvicorn-1", redis=False, workers=1),
        ServerConfig("daphne+redis", redis=True, workers=1),
        ServerConfig("uvicorn-1+redis", redis=True, workers=1),
        ServerConfig("uvicorn-2+redis", redis=True, workers=2),
        ServerConfig("gunicorn-uvicorn-2+redis", redis=True, workers=2),
    ]
}


@dataclass
class RunningServer:
    process: subprocess.Popen[bytes]
    base_url: str
    prefix: str | None


@contextlib.contextmanager
def running_server(
    config: ServerConfig, *, username: str | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[tuple[RunningServer, str | None]]:
    """Sobe o servidor, espera o /api/health e garante o encerramento (e a limpeza do Redis)."""
    workdir = Path(tempfile.mkdtemp(prefix="tm-bench-"))
    prefix = f"tm-bench-{uuid.uuid4().hex[:10]}" if config.redis else None
    env = server_env(workdir, redis_prefix=prefix) | (extra_env or {})
    user_id = prepare_database(env, username=username)
    port = free_port()
    log = (workdir / "server.log").open("wb")
    process = subprocess.Popen(
        config.command(port),
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
        start_new_session=True,
    )
    server = RunningServer(process, f"http://127.0.0.1:{port}", prefix)
    try:
        wait_ready(server, workdir)
        yield server, user_id
    finally:
        stop_process_group(process)
        log.close()
        if prefix:
            clean_redis(prefix)
        shutil.rmtree(workdir, ignore_errors=True)


def stop_process_group(process: subprocess.Popen[bytes]) -> None:
    """Encerra o servidor e seus workers (SIGTERM; SIGKILL se não sair em 15 s)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_ready(server: RunningServer, workdir: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"servidor caiu:\n{(workdir / 'server.log').read_text()[-3000:]}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{server.base_url}/api/health", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("servidor não ficou pronto")


def clean_redis(prefix: str) -> None:
    """Apaga só as chaves deste prefixo (o Redis é compartilhado: nada de FLUSHALL)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


def signed_delivery(body: str, *, msg_id: str | None = None, now: datetime | None = None) -> dict[str, str]:
    from standardwebhooks.webhooks import Webhook

    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    now = now or datetime.now(UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(WEBHOOK_SECRET).sign(msg_id, now, body),
        "content-type": "application/json",
    }


def write_requests(path: Path, count: int) -> None:
    """``count`` entregas distintas e assinadas agora (valem 5 minutos)."""
    from standardwebhooks.webhooks import Webhook

    hook = Webhook(WEBHOOK_SECRET)
    now = datetime.now(UTC)
    ts = str(int(now.timestamp()))
    types = ["login", "purchase", "deposit", "withdrawal", "logout"]
    with path.open("w") as out:
        for i in range(count):
            body = json.dumps({"userId": f"u-{i % 500}", "type": types[i % 5], "value": round(i % 997 * 1.5, 2)})
            msg_id = f"msg_bench_{i}_{uuid.uuid4().hex[:8]}"
            out.write(f"{msg_id}\t{ts}\t{hook.sign(msg_id, now, body)}\t{body}\n")


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    cpu_ms_per_request: float = float("nan")


def server_cpu_seconds(pgid: int) -> float:
    """CPU (usuário + sistema) consumida por todos os processos do servidor.

    Numa máquina compartilhada a vazão oscila com a carga alheia; o custo de CPU
    por requisição é bem mais estável e serve para comparar os servidores.
    """
    pids = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True, check=False).stdout
    ticks = 0
    for pid in pids.split():
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    base_url: str, requests_file: Path, lua: Path, *, threads: int, connections: int, duration: int, offset: int
) -> WrkResult:
    env = {**os.environ, "WRK_REQUESTS": str(requests_file), "WRK_THREADS": str(threads), "WRK_OFFSET": str(offset)}
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(lua), base_url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    statuses = json.loads(re.search(r"STATUSES (\{.*\})", out).group(1))  # type: ignore[union-attr]
    return WrkResult(rps, p50, p99, statuses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(CONFIGS), help="configurações a medir")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--requests", type=int, default=150_000, help="entregas distintas pré-assinadas")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk não encontrado (apt-get install wrk)")

    names = args.only or list(CONFIGS)
    print(f"# carga da máquina no início: {os.getloadavg()}")
    print(
        f"# wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.runs} rodadas; CPUs: {os.cpu_count()}"
    )
    print(
        f"{'config':<26} {'req/s (mediana)':>16} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>10}  rodadas req/s; status"
    )
    with tempfile.TemporaryDirectory(prefix="tm-wrk-") as tmp:
        lua = Path(tmp) / "webhook.lua"
        lua.write_text(LUA)
        for name in names:
            config = CONFIGS[name]
            requests_file = Path(tmp) / "requests.tsv"
            # Assinados agora: valem 5 minutos, o bastante para as rodadas de uma configuração.
            write_requests(requests_file, args.requests)
            results: list[WrkResult] = []
            with running_server(config) as (server, _):
                offset = 0
                # Aquecimento curto (import preguiçoso, caches), fora da conta.
                warm = run_wrk(
                    server.base_url,
                    requests_file,
                    lua,
                    threads=args.threads,
                    connections=args.connections,
                    duration=2,
                    offset=offset,
                )
                offset += sum(warm.statuses.values()) + args.connections * 4
                for _ in range(args.runs):
                    cpu_before = server_cpu_seconds(server.process.pid)
                    result = run_wrk(
                        server.base_url,
                        requests_file,
                        lua,
                        threads=args.threads,
                        connections=args.connections,
                        duration=args.duration,
                        offset=offset,
                    )
                    served = sum(result.statuses.values())
                    result.cpu_ms_per_request = (server_cpu_seconds(server.process.pid) - cpu_before) * 1000 / served
                    offset += served + args.connections * 4
                    results.append(result)
            rps = statistics.median(r.rps for r in results)
            p50 = statistics.median(r.p50_ms for r in results)
            p99 = statistics.median(r.p99_ms for r in results)
            cpu = statistics.median(r.cpu_ms_per_request for r in results)
            statuses: dict[str, int] = {}
            for r in results:
                for code, n in r.statuses.items():
                    statuses[code] = statuses.get(code, 0) + n
            runs = "/".join(f"{r.rps:.0f}" for r in results)
            print(f"{name:<26} {rps:>16.0f} {p50:>8.2f} {p99:>8.2f} {cpu:>10.3f}  {runs}; {statuses}", flush=True)
    print(f"# carga da máquina ao final: {os.getloadavg()}")


if __name__ == "__main__":
    main()
