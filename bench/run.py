"""``make bench``: todas as medidas da issue 9 numa rodada, com as linhas de base da mesma rodada.

Sobe os servidores sozinho (portas livres, configuração fixa — ver ``bench/servers.py``),
mede e escreve ``bench/RESULTS.md``:

* B1 — app ASGI nu (``bench/bare_app.py``) no uvicorn, 1 processo e 2 workers;
* B2 — a mesma ingestão numa ``APIView`` síncrona do DRF no daphne (``bench/naive_app.py``);
* S1 — ingestão assinada (``POST /api/webhook/event``): vazão máxima com ``wrk`` (script
  Lua sobre entregas distintas pré-assinadas) e p50/p99 a taxas fixas com um gerador em
  malha aberta (``bench/openloop.py``); 1 processo e a configuração de produção
  (uvicorn ``--workers 2`` + Redis com prefixo próprio);
* S2/S3 — listagem e resumo sobre 10k/100k/1M eventos, dentro de um processo
  (``bench/datasets.py``);
* S4 — fan-out do feed: latência ingestão→recepção e fração entregue para 1/10/100
  sockets a 10 e 100 eventos/s (``bench/fanout.py``), e 10/100 clientes Socket.IO a
  100 eventos/s (``--protocol socketio``);
* linhas de alvo medidas por outros módulos (``EXTRA_TARGETS``; ex.: ``bench.alerts_cost``
  — "pendente" enquanto o módulo não existe) e o custo do pymongo por inserção sem
  servidor (``bench/pymongo_cost.py``);
* memória (RSS) de cada servidor ocioso e depois da carga.

Uso::

    make bench                                   # tudo (~10–12 min nesta máquina)
    .venv/bin/python -m bench.run --quick        # fumaça rápida (~3 min), não grava RESULTS.md
    .venv/bin/python -m bench.run --only s1 s4   # só algumas seções
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.fanout import run as fanout_run
from bench.fanout import server_rss_mb
from bench.openloop import OpenLoopResult, requests_from_tsv, run_open_loop
from bench.servers import (
    LUA,
    PYTHON,
    REDIS_URL,
    ROOT,
    RunningServer,
    ServerConfig,
    WrkResult,
    run_wrk,
    running_server,
    server_cpu_seconds,
    write_requests,
)
from bench.stats import fmt, markdown_table, median, ratio

ROUTE = "/api/webhook/event"
BARE_APP = "bench.bare_app:application"
NAIVE_APP = "bench.naive_app:application"

B1_1 = ServerConfig("B1 uvicorn 1 proc.", redis=False, workers=1, app=BARE_APP)
B1_2 = ServerConfig("B1 uvicorn 2 workers", redis=False, workers=2, app=BARE_APP)
B2 = ServerConfig("daphne (B2: DRF síncrona)", redis=False, workers=1, app=NAIVE_APP)
S1_1 = ServerConfig("S1 uvicorn 1 proc.", redis=False, workers=1)
S1_PROD = ServerConfig("S1 uvicorn 2 workers + Redis", redis=True, workers=2)

SECTIONS = ("s1", "s4", "extra", "store", "data")

TARGETS = {
    "s1_b1": 0.15,
    "s1p_b1p": 0.12,
    "s1_b2": 7.0,
    "open_p99_ms": 10.0,
    "s2": 1.5,
    "s3": 2.0,
    "s3_hit_ms": 1.0,
    "s4_p99_ms": 50.0,
    "rss_idle_worker_mb": 150.0,
}
# Malha aberta: taxas como fração da vazão máxima em malha fechada (wrk) da mesma
# configuração, nesta mesma rodada; o alvo de p99 vale para OPEN_TARGET_FRACTION.
OPEN_TARGET_FRACTION = 0.5


@dataclass(frozen=True)
class ExtraTarget:
    """Uma linha de alvo medida por outro módulo do ``bench/`` (``run(**kwargs) -> dict``).

    Módulo ausente (ainda não integrado) = linha "pendente". Para acrescentar uma linha,
    uma entrada em ``EXTRA_TARGETS``.
    """

    label: str
    module: str
    target: float
    at_most: bool
    # Do dicionário devolvido por ``run``: o valor comparado com o alvo e o texto "o que limita".
    value: Callable[[dict[str, Any]], float]
    limits: Callable[[dict[str, Any]], str]
    kwargs: Callable[[Plan], dict[str, Any]] = lambda plan: {}
    fmt_value: Callable[[float], str] = lambda v: f"{100 * v:.1f}%"
    fmt_target: str = ""


def _alerts_limits(row: dict[str, Any]) -> str:
    return (
        f"vazão do S1 (1 processo) com {row.get('rules', '?')} regras {row['rps_with']:.0f} × sem regras "
        f"{row['rps_without']:.0f} req/s; CPU por pedido {row['cpu_ms_with']:.3f} × {row['cpu_ms_without']:.3f} ms "
        f"({100 * row['cpu_cost']:+.1f}%) — avaliação das regras por evento, na thread do armazenamento"
    )


EXTRA_TARGETS: tuple[ExtraTarget, ...] = (
    ExtraTarget(
        "custo da avaliação de alertas (queda de vazão do S1)",
        "bench.alerts_cost",
        0.15,
        at_most=True,
        value=lambda row: float(row["throughput_cost"]),
        limits=_alerts_limits,
        kwargs=lambda plan: {"runs": plan.wrk_runs, "seconds": plan.wrk_seconds},
        fmt_target="≤ 15%",
    ),
)


@dataclass(frozen=True)
class Plan:
    """Durações e tamanhos (a rodada completa cabe em < 15 min; ``--quick`` é só fumaça)."""

    wrk_runs: int = 3
    wrk_seconds: int = 5
    wrk_connections: int = 32
    # Frações da vazão máxima (wrk) da mesma configuração; sem wrk, taxas fixas.
    open_fractions: tuple[float, ...] = (0.25, OPEN_TARGET_FRACTION, 0.75)
    open_rates: tuple[float, ...] = (250.0, 500.0, 1000.0)
    open_seconds: float = 8.0
    fanout_sockets: tuple[int, ...] = (1, 10, 100)
    fanout_rates: tuple[float, ...] = (10.0, 100.0)
    fanout_seconds: float = 10.0
    # Socket.IO (/socket.io/, transporte WebSocket): só à taxa mais alta.
    fanout_socketio_sockets: tuple[int, ...] = (10, 100)
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    list_repeat: int = 3


QUICK = Plan(
    wrk_runs=1,
    wrk_seconds=3,
    open_fractions=(OPEN_TARGET_FRACTION,),
    open_rates=(250.0,),
    open_seconds=3.0,
    fanout_sockets=(1, 100),
    fanout_rates=(100.0,),
    fanout_seconds=4.0,
    fanout_socketio_sockets=(100,),
    sizes=(10_000, 30_000),
)


@dataclass
class Section:
    name: str
    load_start: tuple[float, float, float]
    load_end: tuple[float, float, float] = (math.nan, math.nan, math.nan)
    seconds: float = 0.0


@dataclass
class WrkSeries:
    config: str
    runs: list[WrkResult]
    rss_idle_mb: float
    rss_after_mb: float

    @property
    def rps(self) -> float:
        return median(r.rps for r in self.runs)

    @property
    def p50(self) -> float:
        return median(r.p50_ms for r in self.runs)

    @property
    def p99(self) -> float:
        return median(r.p99_ms for r in self.runs)

    @property
    def cpu(self) -> float:
        return median(r.cpu_ms_per_request for r in self.runs)

    @property
    def statuses(self) -> dict[str, int]:
        merged: dict[str, int] = {}
        for run in self.runs:
            for code, count in run.statuses.items():
                merged[code] = merged.get(code, 0) + count
        return merged


@dataclass
class Results:
    started: datetime
    plan: Plan
    sections: list[Section] = field(default_factory=list)
    wrk: dict[str, WrkSeries] = field(default_factory=dict)
    # (configuração, fração da vazão máxima ou NaN, resultado)
    open_loop: list[tuple[str, float, OpenLoopResult]] = field(default_factory=list)
    open_rss: dict[str, tuple[float, float]] = field(default_factory=dict)
    # RSS de cada worker, ocioso (servidor recém-aquecido, antes da malha aberta)
    worker_rss: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    store_cost: dict[str, Any] | None = None
    fanout: list[dict[str, Any]] = field(default_factory=list)
    fanout_server: str = ""
    data: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)


@contextlib.contextmanager
def section(results: Results, name: str) -> Iterator[None]:
    current = Section(name, os.getloadavg())
    print(f"\n== {name} (carga {current.load_start[0]:.2f})", flush=True)
    started = time.perf_counter()
    try:
        yield
    finally:
        current.load_end = os.getloadavg()
        current.seconds = time.perf_counter() - started
        results.sections.append(current)
        print(f"   {current.seconds:.0f} s (carga ao final {current.load_end[0]:.2f})", flush=True)


# --- S1 / B1 / B2 -----------------------------------------------------------------


def wrk_series(config: ServerConfig, plan: Plan, tmp: Path) -> tuple[WrkSeries, RunningServer | None]:
    """Vazão máxima (wrk, malha fechada): aquecimento de 2 s e ``wrk_runs`` rodadas; mediana."""
    lua = tmp / "webhook.lua"
    lua.write_text(LUA)
    requests_file = tmp / "requests.tsv"
    # Entregas distintas, assinadas agora (valem 5 min): o bastante para ~5k req/s.
    write_requests(requests_file, 5_000 * (plan.wrk_seconds * plan.wrk_runs + 4))
    runs: list[WrkResult] = []
    with running_server(config) as (server, _):
        rss_idle = server_rss_mb(server)
        offset = 0
        common = {"threads": 1, "connections": plan.wrk_connections}
        warm = run_wrk(server.base_url, requests_file, lua, duration=2, offset=offset, **common)
        offset += sum(warm.statuses.values()) + plan.wrk_connections * 4
        for _ in range(plan.wrk_runs):
            cpu_before = server_cpu_seconds(server.process.pid)
            result = run_wrk(server.base_url, requests_file, lua, duration=plan.wrk_seconds, offset=offset, **common)
            served = sum(result.statuses.values())
            result.cpu_ms_per_request = (server_cpu_seconds(server.process.pid) - cpu_before) * 1000 / max(1, served)
            offset += served + plan.wrk_connections * 4
            runs.append(result)
            print(
                f"   {config.name}: {result.rps:.0f} req/s, p99 {result.p99_ms:.1f} ms, {result.statuses}", flush=True
            )
        rss_after = server_rss_mb(server)
    return WrkSeries(config.name, runs, rss_idle, rss_after), None


def worker_rss_mb(server: RunningServer) -> list[float]:
    """RSS de cada processo que atende: o mestre com 1 worker; senão, cada filho dele (sem os auxiliares)."""
    out = subprocess.run(
        ["ps", "-o", "pid=,ppid=,rss=", "-g", str(server.process.pid)], capture_output=True, text=True, check=False
    ).stdout
    rows = [tuple(int(x) for x in line.split()) for line in out.splitlines() if line.strip()]
    children = [rss / 1024 for pid, ppid, rss in rows if ppid == server.process.pid and rss > 40 * 1024]
    if children:
        return sorted(children)
    return [rss / 1024 for pid, _ppid, rss in rows if pid == server.process.pid]


def open_loop_series(config: ServerConfig, plan: Plan, tmp: Path, results: Results) -> None:
    """p50/p99 a taxas fixas (malha aberta), num servidor novo da mesma configuração.

    As taxas são frações da vazão máxima (wrk) da mesma configuração nesta rodada.
    """
    series = results.wrk.get(config.name)
    if series is not None and series.rps > 0:
        schedule = [(fraction, float(round(fraction * series.rps))) for fraction in plan.open_fractions]
    else:
        schedule = [(math.nan, rate) for rate in plan.open_rates]
    requests_file = tmp / "open.tsv"
    total = int(sum(rate for _, rate in schedule) * plan.open_seconds) + 200
    write_requests(requests_file, total)
    with running_server(config) as (server, _):
        requests = requests_from_tsv(requests_file, urlsplit(server.base_url).netloc, ROUTE)
        # Aquecimento curto fora da conta (imports preguiçosos, conexões).
        asyncio.run(run_open_loop(server.base_url, requests[:100], rate=100, seconds=1))
        rss_idle = server_rss_mb(server)
        results.worker_rss[config.name] = worker_rss_mb(server)
        used = 100
        for fraction, rate in schedule:
            count = int(rate * plan.open_seconds)
            batch = requests[used : used + count]
            used += count
            result = asyncio.run(run_open_loop(server.base_url, batch, rate=rate, seconds=plan.open_seconds))
            results.open_loop.append((config.name, fraction, result))
            print(
                f"   {config.name} @ {rate:g}/s ({fraction:.0%} do máx.): p50 {result.pct(50):.1f} ms, "
                f"p99 {result.pct(99):.1f} ms, {dict(result.statuses)} erros {dict(result.errors)} "
                f"(carga {os.getloadavg()[0]:.2f})",
                flush=True,
            )
        results.open_rss[config.name] = (rss_idle, server_rss_mb(server))


def run_s1(results: Results, plan: Plan) -> None:
    with tempfile.TemporaryDirectory(prefix="tm-bench-run-") as raw_tmp:
        tmp = Path(raw_tmp)
        with section(results, "S1/B1/B2 — 1 processo"):
            for config in (B1_1, S1_1, B2):
                results.wrk[config.name], _ = wrk_series(config, plan, tmp)
            open_loop_series(S1_1, plan, tmp, results)
        with section(results, "S1/B1 — produção (2 workers + Redis)"):
            for config in (B1_2, S1_PROD):
                results.wrk[config.name], _ = wrk_series(config, plan, tmp)
            open_loop_series(S1_PROD, plan, tmp, results)


# --- S4 ----------------------------------------------------------------------------


def run_s4(results: Results, plan: Plan) -> None:
    config = S1_PROD
    results.fanout_server = config.name
    with section(results, "S4 — fan-out do feed"), running_server(config, username="bench") as (server, user_id):
        assert user_id is not None
        cases = [("ws", rate, sockets) for rate in plan.fanout_rates for sockets in plan.fanout_sockets]
        cases += [("socketio", max(plan.fanout_rates), sockets) for sockets in plan.fanout_socketio_sockets]
        for protocol, rate, sockets in cases:
            client_cpu = time.process_time()
            row = asyncio.run(
                fanout_run(server, user_id, sockets=sockets, rate=rate, seconds=plan.fanout_seconds, protocol=protocol)
            )
            row["rate"] = rate
            row["client_cpu_percent"] = 100 * (time.process_time() - client_cpu) / plan.fanout_seconds
            results.fanout.append(row)
            print(
                f"   {protocol} {sockets} sockets @ {rate:g} ev/s: p50 {row['p50_ms']:.1f} ms, "
                f"p99 {row['p99_ms']:.1f} ms, entregue {row['delivered_fraction']:.4f}",
                flush=True,
            )


# --- alvos medidos por outros módulos; custo do pymongo ------------------------------


def run_extra(results: Results, plan: Plan) -> None:
    for extra in EXTRA_TARGETS:
        if importlib.util.find_spec(extra.module) is None:
            print(f"   {extra.module}: ausente — linha pendente", flush=True)
            results.extra[extra.module] = None
            continue
        with section(results, extra.label):
            module = importlib.import_module(extra.module)
            results.extra[extra.module] = module.run(**extra.kwargs(plan))


def run_store(results: Results, plan: Plan) -> None:
    from bench.pymongo_cost import run as pymongo_cost

    with section(results, "pymongo — custo por inserção sem servidor"):
        results.store_cost = pymongo_cost(events=500 if plan is QUICK else 2000)


# --- S2 / S3 -----------------------------------------------------------------------


def run_data(results: Results, plan: Plan) -> None:
    with section(results, "S2/S3 — listagem e resumo (em processo)"), tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "data.json"
        cmd = [
            PYTHON,
            "-m",
            "bench.datasets",
            "--sizes",
            ",".join(str(size) for size in plan.sizes),
            "--list-repeat",
            str(plan.list_repeat),
            "--json",
            str(out),
        ]
        subprocess.run(cmd, cwd=ROOT, check=True)
        results.data = json.loads(out.read_text())


# --- relatório ---------------------------------------------------------------------


def package_versions() -> str:
    names = [
        "Django",
        "djangorestframework",
        "channels",
        "channels-redis",
        "daphne",
        "uvicorn",
        "uvloop",
        "httptools",
        "pymongo",
        "mongomock",
        "pydantic",
        "standardwebhooks",
        "tenacity",
        "websockets",
    ]
    return ", ".join(f"{name} {importlib.metadata.version(name)}" for name in names)


def machine_info() -> dict[str, str]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    redis_version = "?"
    with contextlib.suppress(Exception):
        import redis

        redis_version = str(redis.Redis.from_url(REDIS_URL).info("server")["redis_version"])
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "wrk": (wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else "?",
        "redis": redis_version,
        "git": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


def verdict(value: float, target: float, *, at_most: bool) -> str:
    if math.isnan(value):
        return "não medido"
    ok = value <= target if at_most else value >= target
    return "**sim**" if ok else "**não**"


def loads(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def limits(
    results: Results,
    s1: WrkSeries | None,
    b1: WrkSeries | None,
    b2: WrkSeries | None,
    s1p: WrkSeries | None,
    b1p: WrkSeries | None,
    listing: dict[str, Any] | None,
    summaries: list[dict[str, Any]],
) -> list[str]:
    """Texto fixo (o que o perfil mostrou) com os números desta rodada."""
    out: list[str] = []
    if s1 and b1:
        out.append(
            f"- **S1 ÷ B1** — CPU por pedido: S1 {fmt(s1.cpu, 3)} ms × B1 {fmt(b1.cpu, 3)} ms. O B1 só lê o corpo e "
            "faz `json.loads`; o S1 ainda confere a assinatura (HMAC), valida com pydantic, grava no mongomock "
            "(`insert_one` copia e codifica o documento em BSON, em Python), acumula os rollups, difunde "
            "(`group_send`), conta métricas e escreve o log de acesso em JSON. Medido à parte (29/11, mesmo servidor, "
            "`LOG_LEVEL=WARNING` × `INFO`, 2 rodadas alternadas): a linha de log de acesso em JSON custa ~55–60 µs "
            "por pedido (~17% do S1); `process_delivery` sozinho (assinatura, validação, gravação, rollups) custa "
            "~97 µs (`python -m bench.ingest_cpu`). Com 2 núcleos e o `wrk` na mesma máquina, o B1 também disputa "
            "CPU com o gerador — a razão de vazão oscila mais que a de CPU, e muda com o processador (0,128 numa "
            "rodada anterior em Intel Xeon; a razão de CPU acompanha)."
        )
    if s1 and b2:
        out.append(
            f"- **S1 ÷ B2** — o B2 gasta {fmt(b2.cpu, 2)} ms de CPU por pedido: é a mesma ingestão atrás da pilha "
            "inteira de middleware do Django numa view síncrona. Cada pedido cria uma thread (contexto "
            "`ThreadSensitiveContext` do handler ASGI do Django), e a pilha mistura middleware síncrono e "
            "assíncrono (o `corsheaders` é assíncrono entre dois síncronos), o que custa trocas de thread "
            "sync↔async por pedido, além do `async_to_sync` do `group_send`."
        )
    if s1p and b1p:
        out.append(
            f"- **S1 produção ÷ B1 2 workers** — {fmt(s1p.cpu, 3)} ms de CPU por pedido (somando os workers): "
            "com `REDIS_URL` o processamento vai para uma thread (o limite por IP e um MongoDB de verdade fazem E/S "
            "bloqueante) e a difusão passa pelo Redis. Cada `group_send` do `channels_redis.core` custa duas idas ao "
            "Redis (~200 µs de CPU no redis-py assíncrono); desde a issue 19 ele sai em micro-lotes "
            "(`events/feed/publish.py`: um por lote de ≤ 2 ms ou 100 eventos), então o custo por evento cai com a "
            "taxa (`python -m bench.group_send_cost --batched`). Os 2 workers, o Redis e o `wrk` dividem 2 núcleos."
        )
    if listing:
        out.append(
            "- **S2** — no mongomock toda consulta varre a coleção: a página 1 e o cursor profundo custam uma "
            "varredura (o cursor descarta 90% dos documentos antes de ordenar, por isso sai mais barato), o offset "
            "profundo ordena ~90% da coleção. A razão aqui mede a varredura em Python, não o índice "
            "`(timestamp, _id)` de um MongoDB real, onde o cursor é O(log n + limit) e o offset O(skip)."
        )
    if len(summaries) >= 2:
        out.append(
            "- **S3** — o resumo lê só os rollups da janela (tipo×hora e usuário×dia para 30 dias): o custo "
            "cresce com as células da janela (≤ 6×720 + 500×30), não com o número de eventos. Com 10k eventos "
            "metade das células usuário×dia ainda está vazia; a partir de ~100k todas existem e o tempo para "
            "de crescer. O que sobra é o `$group`/`$sort` do mongomock em Python (comparações BSON)."
        )
    websocket_rows = [row for row in results.fanout if row["protocol"] == "ws"]
    socketio_rows = [row for row in results.fanout if row["protocol"] == "socketio"]
    if websocket_rows:
        worst = max(websocket_rows, key=lambda row: (row["sockets"] * row["rate"], row["sockets"]))
        out.append(
            "- **S4** — cada worker tem um único canal no grupo do feed (hub por processo, `events/hub.py`): um "
            "evento vira uma mensagem por worker na camada de canais e um `json.dumps`; por socket sobram o "
            "filtro, o dedupe por id, a fila de saída e o envio do quadro WebSocket (sem permessage-deflate). "
            f"No ponto mais carregado ({worst['sockets']} sockets × {worst['rate']:g} ev/s) o servidor gastou "
            f"{fmt(worst['server_cpu_us_per_delivery'], 0)} µs de CPU por entrega "
            f"({fmt(worst['server_cpu_percent'], 0)}% de um núcleo, somando os workers, com a ingestão junto) e o "
            "cliente de medição — um único processo Python que abre os sockets, posta os eventos e decodifica "
            f"cada quadro — {fmt(worst['client_cpu_percent'], 0)}%; os dois, o Redis e a carga alheia dividem "
            "os 2 núcleos."
        )
    if socketio_rows and websocket_rows:
        sio = max(socketio_rows, key=lambda row: row["sockets"])
        same_load = [row for row in websocket_rows if (row["sockets"], row["rate"]) == (sio["sockets"], sio["rate"])]
        ws = same_load[0] if same_load else None
        versus = f" (WebSocket próprio na mesma rodada: {fmt(ws['server_cpu_us_per_delivery'], 0)} µs)" if ws else ""
        out.append(
            "- **S4 Socket.IO** — o mesmo hub alimenta os clientes Socket.IO (`events/feed/socketio.py`): o "
            "pacote EVENT sai do mesmo `json.dumps` do evento (`events/feed/frames.py`) e uma tarefa por processo "
            "passa as caixas de saída para a fila do Engine.IO. O que sobra a mais por entrega é do python-engineio: "
            "a tarefa de escrita de cada conexão acorda por mensagem (com um `wait_for`) antes do envio ASGI. "
            f"Com {sio['sockets']} clientes × {sio['rate']:g} ev/s: {fmt(sio['server_cpu_us_per_delivery'], 0)} µs "
            f"de CPU do servidor por entrega{versus}."
        )
    return out


def store_section(results: Results, s1: WrkSeries | None) -> list[str]:
    """O que os números do mongomock incluem e excluem, e o custo do lado do pymongo por inserção."""
    out = [
        "## Armazenamento: o que os números incluem e excluem",
        "",
        "Não há MongoDB nesta máquina. S1, S2, S3 e S4 usam o armazenamento em memória (mongomock **no processo "
        "do servidor**): **incluem** a validação, a montagem do documento, a cópia e a codificação BSON que o "
        "mongomock faz em Python, os rollups e a difusão; **excluem** a ida e volta pela rede até o `mongod`, o "
        "trabalho do servidor (índices, journal, write concern) e o próprio cliente pymongo (sessão, escrita "
        "repetível, OP_MSG, socket). Além disso, no mongomock os documentos guardados ficam no heap do servidor "
        "e entram na conta do coletor de lixo; num MongoDB ficariam no `mongod`.",
        "",
    ]
    cost = results.store_cost
    if cost is None:
        out += ["(Custo do pymongo não medido nesta rodada: `python -m bench.run --only store`.)", ""]
        return out
    b, c = cost["bson"], cost["client"]
    out += [
        f"Custo do lado do pymongo por inserção, medido sem MongoDB (`python -m bench.pymongo_cost`, "
        f"{cost['events']} eventos; carga {loads(tuple(cost['load'][0]))} → {loads(tuple(cost['load'][1]))}):",
        "",
        markdown_table(
            ["medida", "µs de CPU", "como"],
            [
                [
                    f"`bson.encode` do documento típico ({b['doc_bytes']} B)",
                    fmt(b["encode_doc_us"], 1),
                    "API pública do `bson`",
                ],
                [
                    "`bson.encode` do comando `insert` (lsid, txnNumber, $db, o documento)",
                    fmt(b["encode_insert_command_us"], 1),
                    "o corpo do OP_MSG",
                ],
                ["`bson.decode` da resposta típica", fmt(b["decode_reply_us"], 1), "`{n, electionId, opTime, ok}`"],
                [
                    "`insert_one` do pymongo, só o CPU do cliente",
                    fmt(c["raw_insert_cpu_us"], 0),
                    "`MongoClient` de verdade contra o `devtools.mongowire` em outro processo (conjunto de "
                    "réplicas: sessão implícita + escrita repetível)",
                ],
                [
                    "`event_ingest` no `MongoStore`, só o CPU do cliente",
                    fmt(c["ingest_cpu_us"], 0),
                    "o adaptador de produção: `reserve_seq` (`find_one_and_update`) + `insert_one` + marcação dos "
                    "rollups; o gravador de rollups fica de fora",
                ],
            ],
        ),
        "",
    ]
    if s1 is not None:
        out.append(
            f"Estimativa do caminho de produção: o S1 de 1 processo gastou {fmt(s1.cpu * 1000, 0)} µs de CPU por "
            f"pedido com o mongomock; no `MongoStore` o cliente pymongo gasta ~{fmt(c['ingest_cpu_us'], 0)} µs por "
            "ingestão (duas idas ao servidor), no lugar do `insert_one` do mongomock — o CPU do `mongod` e a "
            "latência de rede vêm por cima. A vazão do S1 com um MongoDB real será menor que a medida aqui."
        )
        out.append("")
    return out


def fanout_limits(row: dict[str, Any] | None) -> str:
    if row is None:
        return "não medido"
    return (
        f"CPU do servidor {fmt(row['server_cpu_us_per_delivery'], 0)} µs/entrega "
        f"({fmt(row['server_cpu_percent'], 0)}% de um núcleo) + cliente de medição "
        f"{fmt(row.get('client_cpu_percent', nan), 0)}% nos mesmos 2 núcleos"
    )


nan = math.nan


def render(results: Results, info: dict[str, str], command: str, total_seconds: float) -> str:
    plan = results.plan
    lines: list[str] = []
    add = lines.append
    add("# Resultados do benchmark (`make bench`)")
    add("")
    add(
        "Gerado por `bench/run.py` numa única rodada — **não edite à mão**. As linhas de base (B1, B2) "
        "foram medidas nesta mesma rodada, na mesma máquina; os números absolutos oscilam com a carga "
        "alheia (máquina compartilhada), as razões são o que acompanhamos."
    )
    add("")
    add("## Máquina e rodada")
    add("")
    add(f"- Data: {results.started.isoformat(timespec='seconds')} · duração total: {total_seconds / 60:.1f} min")
    add(f"- CPU: {info['cpu']} · {info['cores']} núcleos · memória {info['memory']} · {info['os']}")
    add(f"- Carga (loadavg 1/5/15 min) no início: {loads(results.sections[0].load_start) if results.sections else '?'}")
    add(f"- Python {info['python']}; {info['packages']}")
    add(f"- {info['wrk']}; Redis {info['redis']}; commit `{info['git']}`")
    add(
        "- Armazenamento: **mongomock** (em memória, no processo do servidor) — não há MongoDB nesta máquina "
        '(ver "Armazenamento: o que os números incluem e excluem").'
    )
    add(f"- Comando: `{command}`")
    add("")

    add("### Carga da máquina por seção")
    add("")
    rows = [[s.name, loads(s.load_start), loads(s.load_end), f"{s.seconds:.0f} s"] for s in results.sections]
    add(markdown_table(["seção", "loadavg no início", "loadavg ao final", "duração"], rows))
    add("")

    # --- alvos
    wrk = results.wrk
    b1 = wrk.get(B1_1.name)
    s1 = wrk.get(S1_1.name)
    b2 = wrk.get(B2.name)
    b1p = wrk.get(B1_2.name)
    s1p = wrk.get(S1_PROD.name)
    nan = math.nan
    s1_b1 = ratio(s1.rps, b1.rps) if s1 and b1 else nan
    s1_b2 = ratio(s1.rps, b2.rps) if s1 and b2 else nan
    s1p_b1p = ratio(s1p.rps, b1p.rps) if s1p and b1p else nan
    s1p_b2 = ratio(s1p.rps, b2.rps) if s1p and b2 else nan
    cpu_b1 = ratio(b1.cpu, s1.cpu) if s1 and b1 else nan
    cpu_b2 = ratio(b2.cpu, s1.cpu) if s1 and b2 else nan
    data = results.data or {}
    listing = data.get("list")
    s2 = ratio(listing["deep_cursor"]["median_ms"], listing["page1"]["median_ms"]) if listing else nan
    summaries = data.get("summary", [])
    s3 = (
        ratio(summaries[-1]["selector_cold"]["median_ms"], summaries[0]["selector_cold"]["median_ms"])
        if summaries
        else nan
    )
    hit = max((row["selector_hit"]["median_ms"] for row in summaries), default=nan)
    api_hit = max((row["api_hit"]["median_ms"] for row in summaries), default=nan)
    worst = [
        row
        for row in results.fanout
        if row["protocol"] == "ws"
        and row["sockets"] == max(plan.fanout_sockets)
        and row["rate"] == max(plan.fanout_rates)
    ]
    s4_p99 = worst[0]["p99_ms"] if worst else nan
    s4_delivered = worst[0]["delivered_fraction"] if worst else nan
    sio_worst = [
        row
        for row in results.fanout
        if row["protocol"] == "socketio" and row["sockets"] == max(plan.fanout_socketio_sockets, default=0)
    ]
    sio_p99 = sio_worst[0]["p99_ms"] if sio_worst else nan
    sio_delivered = sio_worst[0]["delivered_fraction"] if sio_worst else nan

    def open_p99(name: str) -> tuple[float, OpenLoopResult | None]:
        rows = [r for n, f, r in results.open_loop if n == name and f == OPEN_TARGET_FRACTION]
        return (rows[0].pct(99), rows[0]) if rows else (nan, None)

    open1_p99, open1 = open_p99(S1_1.name)
    openp_p99, openp = open_p99(S1_PROD.name)
    worker_rss = [mb for name in (S1_1.name, S1_PROD.name) for mb in results.worker_rss.get(name, [])]
    rss_worst = max(worker_rss, default=nan)

    def open_limits(result: OpenLoopResult | None, name: str) -> str:
        if result is None:
            return "não medido"
        return (
            f"{result.rate:g} req/s ({OPEN_TARGET_FRACTION:.0%} do máx. do wrk desta rodada), p50 "
            f"{fmt(result.pct(50), 2)} ms, máx {fmt(result.pct(100), 1)} ms, atraso máx. do gerador "
            f"{result.max_dispatch_lag_ms:.0f} ms — cauda = fila de CPU (2 núcleos com o gerador, "
            f"{'o Redis, ' if 'Redis' in name else ''}a carga alheia) e as pausas do GC que sobram"
        )

    add("## Alvos")
    add("")
    add(
        'Todas as linhas desta rodada. **atingido** compara com o alvo da issue; "o que limita" diz, com os '
        "números da rodada, onde está o custo ou a espera."
    )
    add("")
    first_size = summaries[0]["events"] if summaries else 0
    last_size = summaries[-1]["events"] if summaries else 0
    target_rows = [
        [
            "S1 1 processo ÷ B1",
            fmt(s1_b1, 3),
            f"≥ {TARGETS['s1_b1']}",
            verdict(s1_b1, TARGETS["s1_b1"], at_most=False),
            f"CPU por pedido: S1 {fmt(s1.cpu if s1 else nan, 3)} ms × B1 {fmt(b1.cpu if b1 else nan, 3)} ms "
            f"(razão de CPU {fmt(cpu_b1, 3)}); o B1 disputa os 2 núcleos com o wrk",
        ],
        [
            "S1 produção (2 workers + Redis) ÷ B1 2 workers",
            fmt(s1p_b1p, 3),
            f"≥ {TARGETS['s1p_b1p']}",
            verdict(s1p_b1p, TARGETS["s1p_b1p"], at_most=False),
            f"CPU por pedido {fmt(s1p.cpu if s1p else nan, 3)} ms (somando os workers) × "
            f"{fmt(b1p.cpu if b1p else nan, 3)} ms: thread do armazenamento + `group_send` no Redis (em "
            "micro-lotes) + Redis e wrk nos mesmos 2 núcleos",
        ],
        [
            f"malha aberta p99, 1 processo ({OPEN_TARGET_FRACTION:.0%} da vazão máx.)",
            f"{fmt(open1_p99, 1)} ms",
            f"≤ {TARGETS['open_p99_ms']:g} ms",
            verdict(open1_p99, TARGETS["open_p99_ms"], at_most=True),
            open_limits(open1, S1_1.name),
        ],
        [
            f"malha aberta p99, 2 workers + Redis ({OPEN_TARGET_FRACTION:.0%} da vazão máx.)",
            f"{fmt(openp_p99, 1)} ms",
            f"≤ {TARGETS['open_p99_ms']:g} ms",
            verdict(openp_p99, TARGETS["open_p99_ms"], at_most=True),
            open_limits(openp, S1_PROD.name),
        ],
        [
            f"S4 WebSocket p99 ({max(plan.fanout_sockets)} sockets × {max(plan.fanout_rates):g} ev/s)",
            f"{fmt(s4_p99, 1)} ms",
            f"≤ {TARGETS['s4_p99_ms']:g} ms",
            verdict(s4_p99, TARGETS["s4_p99_ms"], at_most=True),
            f"entregue {fmt(100 * s4_delivered, 2)}%; {fanout_limits(worst[0] if worst else None)}",
        ],
        [
            f"S4 Socket.IO p99 ({max(plan.fanout_socketio_sockets, default=0)} clientes × "
            f"{max(plan.fanout_rates):g} ev/s)",
            f"{fmt(sio_p99, 1)} ms",
            f"≤ {TARGETS['s4_p99_ms']:g} ms",
            verdict(sio_p99, TARGETS["s4_p99_ms"], at_most=True),
            f"entregue {fmt(100 * sio_delivered, 2)}%; {fanout_limits(sio_worst[0] if sio_worst else None)}",
        ],
    ]
    for extra in EXTRA_TARGETS:
        measured = results.extra.get(extra.module)
        if measured is None:
            why = "módulo ausente nesta branch" if extra.module in results.extra else "seção não rodada"
            target_rows.append([extra.label, "pendente", extra.fmt_target, "pendente", f"`{extra.module}`: {why}"])
            continue
        value = extra.value(measured)
        target_rows.append(
            [
                extra.label,
                extra.fmt_value(value),
                extra.fmt_target,
                verdict(value, extra.target, at_most=extra.at_most),
                extra.limits(measured),
            ]
        )
    target_rows += [
        [
            "RSS ocioso por worker (pior worker, 1 processo e produção)",
            f"{fmt(rss_worst, 0)} MB",
            f"≤ {TARGETS['rss_idle_worker_mb']:g} MB",
            verdict(rss_worst, TARGETS["rss_idle_worker_mb"], at_most=True),
            "; ".join(f"{name}: {' / '.join(f'{mb:.0f}' for mb in mbs)} MB" for name, mbs in results.worker_rss.items())
            + " — Django + DRF + Channels + Socket.IO + pymongo/mongomock; o venv do bench tem as dependências "
            "de desenvolvimento (o aiohttp, que o python-engineio importa se existir)",
        ],
        [
            "S1 ÷ B2 (1 processo)",
            fmt(s1_b2, 2),
            f"≥ {TARGETS['s1_b2']}",
            verdict(s1_b2, TARGETS["s1_b2"], at_most=False),
            f"CPU: B2 gasta {fmt(cpu_b2, 2)}× o CPU por pedido do S1 (pilha síncrona do Django)",
        ],
        [
            "S1 produção ÷ B2",
            fmt(s1p_b2, 2),
            f"≥ {TARGETS['s1_b2']}",
            verdict(s1p_b2, TARGETS["s1_b2"], at_most=False),
            "B2 é 1 processo daphne",
        ],
        [
            f"S2 cursor profundo ÷ página 1 ({listing['events'] if listing else '?'} eventos)",
            fmt(s2, 2),
            f"≤ {TARGETS['s2']}",
            verdict(s2, TARGETS["s2"], at_most=True),
            "em processo, varredura do mongomock",
        ],
        [
            f"S3 resumo frio t({last_size}) ÷ t({first_size})",
            fmt(s3, 2),
            f"≤ {TARGETS['s3']}",
            verdict(s3, TARGETS["s3"], at_most=True),
            "janela de 30 dias, dos rollups; `$group` do mongomock em Python",
        ],
        [
            "S3 acerto de cache — seletor (`summary_cached`), pior tamanho",
            f"{fmt(hit, 3)} ms",
            f"≤ {TARGETS['s3_hit_ms']} ms",
            verdict(hit, TARGETS["s3_hit_ms"], at_most=True),
            "busca no cache + cópia do dict",
        ],
        [
            "S3 acerto de cache — view inteira em processo, pior tamanho",
            f"{fmt(api_hit, 2)} ms",
            f"≤ {TARGETS['s3_hit_ms']} ms",
            verdict(api_hit, TARGETS["s3_hit_ms"], at_most=True),
            "middleware + DRF + JSON, e o cliente de testes",
        ],
    ]
    add(markdown_table(["métrica", "medido", "alvo", "atingido", "o que limita"], target_rows))
    add("")
    add("### O que limita cada razão")
    add("")
    lines.extend(limits(results, s1, b1, b2, s1p, b1p, listing, summaries))
    add("")
    lines.extend(store_section(results, s1))

    if results.wrk:
        add("## S1 — ingestão: vazão máxima (wrk, malha fechada)")
        add("")
        add(
            f"`wrk -t1 -c{plan.wrk_connections} -d{plan.wrk_seconds}s --latency -s webhook.lua`, "
            f"{plan.wrk_runs} rodadas após 2 s de aquecimento; mediana. Cada pedido é uma entrega distinta "
            "e assinada (Standard Webhooks) — uma inserção nova (201). CPU = CPU do servidor "
            "(todos os processos) ÷ pedidos atendidos: estável mesmo com a máquina carregada."
        )
        add("")
        rows = []
        for series in results.wrk.values():
            rows.append(
                [
                    series.config,
                    fmt(series.rps, 0),
                    fmt(series.p50, 2),
                    fmt(series.p99, 2),
                    fmt(series.cpu, 3),
                    " / ".join(f"{r.rps:.0f}" for r in series.runs),
                    json.dumps(series.statuses),
                    f"{series.rss_idle_mb:.0f} → {series.rss_after_mb:.0f}",
                ]
            )
        header = ["configuração", "req/s", "p50 ms", "p99 ms", "CPU ms/req", "rodadas req/s", "status", "RSS MB"]
        add(markdown_table(header, rows))
        add("")
        add(
            "Razões de vazão: "
            f"S1 ÷ B1 = {fmt(s1_b1, 3)}, S1 ÷ B2 = {fmt(s1_b2, 2)} (1 processo); "
            f"S1 prod ÷ B1 2 workers = {fmt(s1p_b1p, 3)}, S1 prod ÷ B2 = {fmt(s1p_b2, 2)}."
        )
        add("")

    if results.open_loop:
        add("## S1 — ingestão: latência a taxa fixa (malha aberta)")
        add("")
        add(
            f"`bench/openloop.py`: agenda fixa por {plan.open_seconds:g} s a cada taxa; as taxas são frações da "
            "vazão máxima do wrk (malha fechada) da mesma configuração nesta rodada; a latência conta do "
            "instante em que o pedido era devido (sem *coordinated omission*). Conexões keep-alive abertas "
            "sob demanda (até 256). Servidor novo para a série (aquecido com 100 pedidos)."
        )
        add("")
        rows = []
        for name, fraction, result in results.open_loop:
            rows.append(
                [
                    name,
                    f"{result.rate:g}" + ("" if math.isnan(fraction) else f" ({fraction:.0%} do máx.)"),
                    fmt(result.achieved_rate, 0),
                    fmt(result.pct(50), 2),
                    fmt(result.pct(99), 2),
                    fmt(result.pct(100), 1),
                    json.dumps({str(k): v for k, v in result.statuses.items()}),
                    str(sum(result.errors.values())),
                    str(result.connections),
                ]
            )
        header = [
            "configuração",
            "taxa pedida/s",
            "obtida/s",
            "p50 ms",
            "p99 ms",
            "máx ms",
            "status",
            "erros",
            "conexões",
        ]
        add(markdown_table(header, rows))
        add("")
        for name, (idle, after) in results.open_rss.items():
            add(f"- RSS do servidor {name}: {idle:.0f} MB ocioso → {after:.0f} MB depois da carga.")
        add("")

    if data:
        add("## S2 — listagem: página 1 × cursor profundo × offset profundo")
        add("")
        if listing:
            add(
                f"`GET /api/events?limit={listing['limit']}` pela view real em processo (`APIClient` do DRF), "
                f"{listing['events']} eventos, profundidade {listing['depth']} (90%); "
                f"{listing['page1']['n']} medição(ões) por caso."
            )
            add("")
            rows = [
                ["página 1 (offset, com total)", fmt(listing["page1"]["median_ms"], 1), "1.00"],
                [
                    f"cursor na profundidade {listing['depth']}",
                    fmt(listing["deep_cursor"]["median_ms"], 1),
                    fmt(s2, 2),
                ],
                [
                    f"página {listing['depth'] // listing['limit'] + 1} (offset, com total)",
                    fmt(listing["deep_offset"]["median_ms"], 1),
                    fmt(ratio(listing["deep_offset"]["median_ms"], listing["page1"]["median_ms"]), 2),
                ],
            ]
            add(markdown_table(["caso", "ms", "÷ página 1"], rows))
            add("")
        add("## S3 — resumo de 30 dias: frio e com cache")
        add("")
        add(
            "Eventos espalhados pelos mesmos 30 dias (500 usuários, 6 tipos); o histórico cresce por etapas "
            "no mesmo processo (carga em lote + `rebuild_rollups`, como o `seed`). Frio = `summary_compute` "
            "(lê só os rollups), mediana de 5; cache = acerto de `summary_cached`, mediana de 200; "
            "API = `GET /api/events/summary?range=30d` pela view real em processo."
        )
        add("")
        rows = []
        for load, row in zip(data.get("load", []), summaries, strict=False):
            rows.append(
                [
                    str(row["events"]),
                    fmt(row["selector_cold"]["median_ms"], 1),
                    fmt(ratio(row["selector_cold"]["median_ms"], summaries[0]["selector_cold"]["median_ms"]), 2),
                    fmt(row["selector_hit"]["median_ms"], 3),
                    fmt(row["api_cold"]["median_ms"], 1),
                    fmt(row["api_hit"]["median_ms"], 2),
                    f"{load['insert_s']:.1f} + {load['rebuild_s']:.1f}",
                    f"{load['rss_mb']:.0f}",
                ]
            )
        header = [
            "eventos",
            "frio ms",
            "÷ menor",
            "cache ms",
            "API frio ms",
            "API cache ms",
            "carga + rollups s",
            "RSS MB",
        ]
        add(markdown_table(header, rows))
        add("")

    if results.fanout:
        add("## S4 — fan-out do feed")
        add("")
        add(
            f"Servidor: {results.fanout_server}. N WebSockets autenticados por JWT; eventos assinados "
            f"postados a taxa fixa por {plan.fanout_seconds:g} s; latência = recepção no socket − instante "
            "antes do POST (mesmo relógio). Cliente (sockets + POSTs) num único processo Python nesta "
            "mesma máquina — o CPU dele aparece na tabela, porque também pesa na latência. Protocolo `ws` = "
            "`/ws/events/`; `socketio` = `/socket.io/` (transporte WebSocket, JWT no `auth` do handshake, "
            "`new_event` com o evento e o cursor)."
        )
        add("")
        rows = []
        for row in results.fanout:
            rows.append(
                [
                    row["protocol"],
                    str(row["sockets"]),
                    f"{row['rate']:g}",
                    f"{row['deliveries_received']}/{row['deliveries_expected']}",
                    fmt(100 * row["delivered_fraction"], 2),
                    fmt(row["p50_ms"], 1),
                    fmt(row["p99_ms"], 1),
                    fmt(row["max_ms"], 1),
                    fmt(row["server_cpu_us_per_delivery"], 0),
                    fmt(row["server_cpu_percent"], 0),
                    fmt(row["client_cpu_percent"], 0),
                    f"{row['rss_idle_mb']:.0f} → {row['rss_end_mb']:.0f}",
                ]
            )
        header = [
            "protocolo",
            "sockets",
            "ev/s",
            "entregas",
            "% entregue",
            "p50 ms",
            "p99 ms",
            "máx ms",
            "CPU servidor µs/entrega",
            "CPU servidor %",
            "CPU cliente %",
            "RSS MB",
        ]
        add(markdown_table(header, rows))
        add("")

    if results.notes:
        add("## Observações desta rodada")
        add("")
        lines.extend(f"- {note}" for note in results.notes)
        add("")
    add("## Comandos")
    add("")
    add("```")
    add(command)
    add("# equivalentes, seção a seção:")
    add("python -m bench.run --only s1      # B1, B2, S1 (wrk + malha aberta), 1 processo e produção")
    add("python -m bench.run --only s4      # fan-out (WebSocket próprio e Socket.IO)")
    add("python -m bench.fanout --server uvicorn-2+redis --protocol socketio --rate 100   # um caso avulso")
    add("python -m bench.run --only extra   # linhas de outros módulos (EXTRA_TARGETS: bench.alerts_cost)")
    add("python -m bench.run --only store   # custo do pymongo sem servidor (python -m bench.pymongo_cost)")
    add("python -m bench.run --only data    # S2/S3 (chama python -m bench.datasets)")
    add("python -m bench.servers --only uvicorn-1 --runs 1   # só vazão, configurações avulsas")
    add("```")
    add("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fumaça rápida; não grava bench/RESULTS.md")
    parser.add_argument("--only", nargs="*", choices=SECTIONS, help="seções a rodar (padrão: todas)")
    parser.add_argument("--out", type=Path, help="arquivo de saída (padrão: bench/RESULTS.md)")
    parser.add_argument("--sizes", help="tamanhos do S2/S3 separados por vírgula (padrão: 10000,100000,1000000)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk não encontrado (apt-get install wrk)")
    plan = QUICK if args.quick else Plan()
    if args.sizes:
        plan = replace(plan, sizes=tuple(int(size) for size in args.sizes.split(",")))
    only = set(args.only or SECTIONS)
    out = args.out or (
        Path(tempfile.gettempdir()) / "RESULTS.quick.md" if args.quick else ROOT / "bench" / "RESULTS.md"
    )
    command = "make bench" if len(sys.argv) == 1 else "python -m bench.run " + " ".join(sys.argv[1:])
    results = Results(started=datetime.now(UTC), plan=plan)
    info = machine_info()
    started = time.perf_counter()
    if "s1" in only:
        run_s1(results, plan)
    if "s4" in only:
        run_s4(results, plan)
    if "extra" in only:
        run_extra(results, plan)
    if "store" in only:
        run_store(results, plan)
    if "data" in only:
        run_data(results, plan)
    total = time.perf_counter() - started
    out.write_text(render(results, info, command, total))
    print(f"\n{out} escrito em {total / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
