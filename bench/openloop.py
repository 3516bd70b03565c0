"""Gerador de carga em malha aberta (estilo wrk2) para latência a taxa fixa.

O ``wrk`` é de malha fechada: cada conexão só manda o próximo pedido depois da
resposta, então um servidor lento recebe menos carga e a latência medida esconde a
fila ("coordinated omission"). Aqui a agenda é fixa — o pedido ``i`` é devido em
``t0 + i/taxa`` — e a latência conta a partir do instante **devido**, não do envio:
se o servidor (ou o próprio cliente) atrasar, o atraso aparece no p99.

Cada pedido sai por uma conexão HTTP/1.1 keep-alive livre; sem conexão livre, abre
outra (até ``max_connections``; acima disso o pedido espera numa fila, e a espera
conta na latência). Os pedidos são bytes prontos (pré-assinados), para o cliente
gastar o mínimo de CPU.

Uso isolado (servidor já no ar)::

    .venv/bin/python -m bench.openloop --url http://127.0.0.1:8000 --rate 500 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.stats import percentile, schedule

_CONNECT_TIMEOUT = 5.0
_RESPONSE_TIMEOUT = 30.0


def build_request(host: str, path: str, headers: dict[str, str], body: str) -> bytes:
    """Pedido HTTP/1.1 bruto (keep-alive) com corpo JSON."""
    raw = body.encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(raw)}"]
    lines += [f"{name}: {value}" for name, value in headers.items() if name.lower() != "content-length"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + raw


def requests_from_tsv(path: Path, host: str, route: str) -> list[bytes]:
    """Converte o arquivo de entregas pré-assinadas do ``bench.servers`` em pedidos brutos."""
    out = []
    for line in path.read_text().splitlines():
        msg_id, ts, signature, body = line.split("\t", 3)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": ts,
            "webhook-signature": signature,
        }
        out.append(build_request(host, route, headers, body))
    return out


def parse_status_and_length(head: bytes) -> tuple[int, int]:
    """Status e Content-Length de um cabeçalho de resposta HTTP/1.1 (sem o corpo)."""
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return status, length


@dataclass
class OpenLoopResult:
    rate: float
    seconds: float
    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    max_dispatch_lag_ms: float = 0.0
    elapsed: float = 0.0

    @property
    def achieved_rate(self) -> float:
        return len(self.latencies_ms) / self.elapsed if self.elapsed else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


class _Pool:
    """Conexões keep-alive livres; abre novas sob demanda até o teto.

    Uma conexão parada há mais de ``max_idle`` segundos é descartada: o servidor a
    fecha (uvicorn: 5 s de keep-alive) e o próximo pedido por ela falharia — um erro
    do gerador, não do servidor.
    """

    def __init__(self, host: str, port: int, limit: int, max_idle: float = 3.0) -> None:
        self.host = host
        self.port = port
        self.limit = limit
        self.max_idle = max_idle
        self.opened = 0
        self.idle: asyncio.LifoQueue[_Conn] = asyncio.LifoQueue()
        self.all: list[asyncio.StreamWriter] = []

    async def get(self) -> _Conn:
        while not self.idle.empty():
            conn = self.idle.get_nowait()
            if time.monotonic() - conn.last_used <= self.max_idle:
                return conn
            conn.writer.close()
            self.opened -= 1
        if self.opened < self.limit:
            self.opened += 1
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), _CONNECT_TIMEOUT)
            except BaseException:
                self.opened -= 1
                raise
            self.all.append(writer)
            return _Conn(reader, writer, time.monotonic())
        return await self.idle.get()

    def put(self, conn: _Conn) -> None:
        conn.last_used = time.monotonic()
        self.idle.put_nowait(conn)

    def discard(self) -> None:
        self.opened -= 1

    async def close(self) -> None:
        for writer in self.all:
            writer.close()
        for writer in self.all:
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@dataclass
class _Conn:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    last_used: float


async def _one(pool: _Pool, payload: bytes, due: float, result: OpenLoopResult) -> None:
    try:
        conn = await pool.get()
    except (OSError, TimeoutError) as exc:
        result.errors[type(exc).__name__] += 1
        return
    reader, writer = conn.reader, conn.writer
    try:
        writer.write(payload)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _RESPONSE_TIMEOUT)
        status, length = parse_status_and_length(head)
        if length:
            await reader.readexactly(length)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
        result.errors[type(exc).__name__] += 1
        writer.close()
        pool.discard()
        return
    result.latencies_ms.append((time.perf_counter() - due) * 1000)
    result.statuses[status] += 1
    pool.put(conn)


async def run_open_loop(
    base_url: str, requests: list[bytes], *, rate: float, seconds: float, max_connections: int = 256
) -> OpenLoopResult:
    """Dispara ``rate × seconds`` pedidos na agenda fixa e mede a latência desde o instante devido."""
    parts = urlsplit(base_url)
    assert parts.hostname is not None
    assert parts.port is not None
    offsets = schedule(rate, seconds)
    if len(offsets) > len(requests):
        raise ValueError(f"faltam pedidos distintos: {len(requests)} < {len(offsets)}")
    pool = _Pool(parts.hostname, parts.port, max_connections)
    result = OpenLoopResult(rate=rate, seconds=seconds)
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.05
    for index, offset in enumerate(offsets):
        due = start + offset
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            result.max_dispatch_lag_ms = max(result.max_dispatch_lag_ms, -delay * 1000)
        tasks.append(asyncio.create_task(_one(pool, requests[index], due, result)))
        result.sent += 1
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - start
    result.connections = pool.opened
    await pool.close()
    return result


def main() -> None:
    from bench.servers import write_requests

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.tsv"
        write_requests(path, int(args.rate * args.seconds))
        requests = requests_from_tsv(path, urlsplit(args.url).netloc, "/api/webhook/event")
    result = asyncio.run(run_open_loop(args.url, requests, rate=args.rate, seconds=args.seconds))
    print(
        f"taxa pedida {args.rate:g}/s, obtida {result.achieved_rate:.0f}/s; "
        f"p50 {result.pct(50):.2f} ms, p99 {result.pct(99):.2f} ms, máx {result.pct(100):.2f} ms; "
        f"status {dict(result.statuses)}, erros {dict(result.errors)}, conexões {result.connections}, "
        f"atraso máx. do despacho {result.max_dispatch_lag_ms:.1f} ms"
    )


if __name__ == "__main__":
    main()
