"""Custo dos alertas na ingestão: S1 (``wrk`` no webhook assinado) com 0 e com 20 regras habilitadas.

Mesmo servidor do S1 de 1 processo (uvicorn, mongomock, camada de canais em memória), mesmas
entregas pré-assinadas de ``bench.servers.write_requests`` (5 tipos, 500 usuários). As 20 regras
misturam os 4 tipos e casam com os tipos dessas entregas — disparam de verdade (alertas
gravados, difundidos), com o intervalo sem repetição padrão (300 s).

As rodadas alternam 0 e 20 regras (0, 20, 0, 20…), cada uma num servidor novo, e a
comparação é pela mediana: numa máquina compartilhada a carga alheia muda entre rodadas.
Além da vazão, o CPU do servidor por pedido (mais estável que a vazão) e, sem HTTP, o CPU de
``process_delivery`` por entrega no mesmo processo, alternando sem/com regras (o mais estável).

Uso::

    .venv/bin/python -m bench.alerts_cost                  # 3 pares de 5 s
    .venv/bin/python -m bench.alerts_cost --runs 1 --seconds 3
    .venv/bin/python -m bench.alerts_cost --storm           # quase todo evento dispara um alerta

Do ``bench/run.py``: ``from bench import alerts_cost; row = alerts_cost.run()``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.servers import (
    LUA,
    PYTHON,
    ROOT,
    ServerConfig,
    WrkResult,
    run_wrk,
    running_server,
    server_cpu_seconds,
    server_env,
    write_requests,
)
from bench.stats import median

S1 = ServerConfig("S1 uvicorn 1 proc.", redis=False, workers=1)
TARGET_COST = 0.15

# 5 de cada tipo, sobre os tipos de ``write_requests`` (login, purchase, deposit, withdrawal, logout;
# valores de 0 a 1.494). Cada usuário sintético só manda um tipo, então as sequências nunca fecham
# (o custo delas é o das leituras), e as regras disparam como regras de verdade: só na cauda
# (limites acima de ~1.480, o 1% maior; frequências de dezenas de eventos).
RULES: list[dict[str, Any]] = [
    *(
        {"kind": "threshold", "event_type": event_type, "op": ">", "threshold": threshold}
        for event_type, threshold in (
            ("purchase", 1480),
            ("deposit", 1485),
            ("withdrawal", 1488),
            ("login", 1490),
            ("logout", 1492),
        )
    ),
    *(
        {"kind": "frequency", "event_type": event_type, "count": count, "window_seconds": 60}
        for event_type, count in (("login", 30), ("purchase", 40), ("deposit", 30), ("withdrawal", 35), ("logout", 50))
    ),
    *(
        {"kind": "anomaly", "event_type": event_type, "z_score": 3.0, "min_samples": 10}
        for event_type in ("login", "purchase", "deposit", "withdrawal", "logout")
    ),
    *(
        {"kind": "sequence", "first_type": first, "second_type": second, "window_seconds": 600, "min_ratio": ratio}
        for first, second, ratio in (
            ("deposit", "withdrawal", 0.9),
            ("login", "purchase", None),
            ("purchase", "logout", None),
            ("deposit", "purchase", 0.5),
            ("login", "withdrawal", None),
        )
    ),
]
# Tempestade: os mesmos tipos com limites baixos — quase todo usuário dispara quase toda regra
# (o custo de criar, gravar e difundir cada alerta).
STORM: list[dict[str, Any]] = [
    {**rule, "threshold": 1000}
    if rule["kind"] == "threshold"
    else {**rule, "count": 3}
    if rule["kind"] == "frequency"
    else rule
    for rule in RULES
]


def create_rules(env: dict[str, str], count: int, *, storm: bool = False) -> None:
    """Migra o SQLite do servidor e cria ``count`` regras (as primeiras de ``RULES`` ou de ``STORM``)."""
    rules = [dict(rule, name=f"bench {index}") for index, rule in enumerate((STORM if storm else RULES)[:count])]
    script = (
        "import django, json, sys; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from events.alerts.models import AlertRule;"
        "[AlertRule.objects.create(**rule) for rule in json.loads(sys.argv[1])]"
    )
    subprocess.run([PYTHON, "-c", script, json.dumps(rules)], env=env, cwd=ROOT, check=True, capture_output=True)


def measure(rules: int, *, seconds: int, connections: int, tmp: Path, storm: bool = False) -> WrkResult:
    """Uma rodada de ``seconds`` s (após 2 s de aquecimento) num servidor novo com ``rules`` regras."""
    workdir = Path(tempfile.mkdtemp(prefix="tm-alerts-", dir=tmp))
    database = {"DATABASE_URL": f"sqlite:///{workdir / 'rules.sqlite3'}"}
    create_rules(server_env(workdir, redis_prefix=None) | database, rules, storm=storm)
    lua = tmp / "webhook.lua"
    lua.write_text(LUA)
    requests_file = workdir / "requests.tsv"
    write_requests(requests_file, 5_000 * (seconds + 3))
    with running_server(S1, extra_env=database) as (server, _):
        warm = run_wrk(server.base_url, requests_file, lua, threads=1, connections=connections, duration=2, offset=0)
        offset = sum(warm.statuses.values()) + connections * 4
        cpu_before = server_cpu_seconds(server.process.pid)
        result = run_wrk(
            server.base_url, requests_file, lua, threads=1, connections=connections, duration=seconds, offset=offset
        )
        served = sum(result.statuses.values())
        result.cpu_ms_per_request = (server_cpu_seconds(server.process.pid) - cpu_before) * 1000 / max(1, served)
    return result


IN_PROCESS = """
import json, statistics, sys, time
import django
django.setup()
from bench.ingest_cpu import deliveries
from events.alerts.cache import rule_cache
from events.alerts.models import AlertRule
from events.store import get_store
from events.webhook import process_delivery

events, rounds = int(sys.argv[1]), int(sys.argv[2])
store = get_store()
costs = {0: [], 1: []}
for _ in range(rounds):
    for enabled in (0, 1):
        AlertRule.objects.update(enabled=bool(enabled))
        rule_cache.invalidate()
        store.drop_all()
        batch = deliveries(events)
        started = time.process_time()
        for delivery in batch:
            process_delivery(delivery)
        costs[enabled].append((time.process_time() - started) * 1e6 / events)
print(json.dumps({"without": statistics.median(costs[0]), "with": statistics.median(costs[1])}))
"""


def in_process(rules: int, *, events: int = 3000, rounds: int = 5, storm: bool = False) -> dict[str, float]:
    """CPU de ``process_delivery`` por entrega (sem HTTP), sem e com as regras, alternando, no mesmo processo.

    A medida mais estável numa máquina compartilhada (como ``bench.ingest_cpu``).
    """
    with tempfile.TemporaryDirectory(prefix="tm-alerts-cpu-") as tmp:
        env = server_env(Path(tmp), redis_prefix=None) | {"ROLLUP_FLUSH_SECONDS": "0", "LOG_LEVEL": "WARNING"}
        create_rules(env, rules, storm=storm)
        done = subprocess.run(
            [PYTHON, "-c", IN_PROCESS, str(events), str(rounds)], env=env, cwd=ROOT, check=True, capture_output=True
        )
    result: dict[str, float] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result


def run(
    *, runs: int = 3, seconds: int = 5, connections: int = 32, rules: int = 20, storm: bool = False
) -> dict[str, Any]:
    """Mede e devolve a linha do relatório (vazões, CPU por pedido, custo relativo e carga da máquina).

    ``storm``: as regras da tempestade (quase todo evento dispara algum alerta) em vez das da cauda.
    """
    load_start = os.getloadavg()
    cpu = in_process(rules, storm=storm)
    print(f"   em processo: {cpu['without']:.1f} → {cpu['with']:.1f} µs CPU/entrega", flush=True)
    series: dict[int, list[WrkResult]] = {0: [], rules: []}
    with tempfile.TemporaryDirectory(prefix="tm-alerts-bench-") as tmp:
        for _ in range(runs):
            for count in (0, rules):
                result = measure(count, seconds=seconds, connections=connections, tmp=Path(tmp), storm=storm)
                series[count].append(result)
                print(
                    f"   {count:>2} regras: {result.rps:.0f} req/s, {result.cpu_ms_per_request:.3f} ms CPU/pedido, "
                    f"{result.statuses}",
                    flush=True,
                )
    rps_0, rps_n = median(r.rps for r in series[0]), median(r.rps for r in series[rules])
    cpu_0 = median(r.cpu_ms_per_request for r in series[0])
    cpu_n = median(r.cpu_ms_per_request for r in series[rules])
    cost = 1 - rps_n / rps_0
    return {
        "name": f"S1 com {rules} regras de alerta" + (" (tempestade)" if storm else ""),
        "rules": rules,
        "runs": runs,
        "seconds": seconds,
        "rps_without": rps_0,
        "rps_with": rps_n,
        "throughput_cost": cost,
        "cpu_ms_without": cpu_0,
        "cpu_ms_with": cpu_n,
        "cpu_cost": cpu_n / cpu_0 - 1,
        "in_process_us_without": cpu["without"],
        "in_process_us_with": cpu["with"],
        "in_process_cost": cpu["with"] / cpu["without"] - 1,
        "target": TARGET_COST,
        "ok": cost <= TARGET_COST,
        "statuses_with": _merge(r.statuses for r in series[rules]),
        "load_start": load_start,
        "load_end": os.getloadavg(),
    }


def _merge(statuses: Any) -> dict[str, int]:
    merged: dict[str, int] = {}
    for item in statuses:
        for code, count in item.items():
            merged[code] = merged.get(code, 0) + count
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rules", type=int, default=20, choices=range(1, len(RULES) + 1), metavar="N")
    parser.add_argument("--storm", action="store_true", help="Regras que disparam em quase todo evento.")
    args = parser.parse_args()
    row = run(runs=args.runs, seconds=args.seconds, connections=args.connections, rules=args.rules, storm=args.storm)
    print(json.dumps(row, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
