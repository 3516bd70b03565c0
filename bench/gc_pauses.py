"""Pausas do coletor de lixo durante a ingestão, por política (``GC_POLICY``, issue 19).

Cada política roda num processo novo: carrega a aplicação ASGI (o que aplica a
política, como no servidor), ingere ``--events`` entregas assinadas por
``process_delivery`` e mede cada coleta pelo ``gc.callbacks`` em **tempo de CPU da
thread** (``time.thread_time``) — o mesmo número com a máquina ociosa ou carregada; o
tempo de parede de cada pausa só cresce com a carga alheia. Armazenamento mongomock:
os eventos guardados ficam no processo e entram na conta do coletor (com MongoDB eles
ficam no ``mongod`` — aqui a geração 2 cresce mais do que cresceria em produção).

Uso::

    .venv/bin/python -m bench.gc_pauses --events 30000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

POLICIES = ("default", "freeze", "freeze-survivors")


def child(events: int) -> dict[str, Any]:
    import gc
    import tempfile
    from pathlib import Path

    from django.test import RequestFactory

    import bench.ingest_cpu  # noqa: F401  # ambiente de produção do bench (mongomock, webhook assinado)
    import trader_monitor.asgi  # noqa: F401  # aplica GC_POLICY, como no servidor
    from bench.servers import write_requests
    from events.webhook import Delivery, process_delivery

    # Só as linhas (bytes) ficam prontas; a entrega de cada pedido nasce e morre na vez
    # dela, como no servidor (senão as 30 mil entregas prontas entrariam na geração 2).
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.tsv"
        write_requests(path, events)
        lines = path.read_text().splitlines()
    factory = RequestFactory()

    def delivery(line: str) -> Delivery:
        msg_id, ts, signature, body = line.split("\t", 3)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": ts,
            "webhook-signature": signature,
        }
        request = factory.post("/api/webhook/event", body, content_type="application/json")
        return Delivery(headers, body.encode(), "127.0.0.1", len(body), request)

    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def callback(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            pauses[info["generation"]].append((time.thread_time() - started[0]) * 1000)

    gc.callbacks.insert(0, callback)
    cpu = time.process_time()
    for line in lines:
        assert process_delivery(delivery(line)).status == 201
    cpu_ms = (time.process_time() - cpu) * 1000
    gc.callbacks.remove(callback)
    every = sorted(p for gen in pauses.values() for p in gen)
    return {
        "policy": os.environ["GC_POLICY"],
        "events": events,
        "collections": {gen: len(values) for gen, values in pauses.items()},
        "gen2_max_ms": max(pauses[2], default=0.0),
        "gen2_total_ms": sum(pauses[2]),
        "max_pause_ms": every[-1] if every else 0.0,
        "pauses_over_5ms": sum(1 for p in every if p > 5),
        "gc_cpu_us_per_event": sum(every) * 1000 / events,
        "cpu_us_per_event": cpu_ms * 1000 / events,
        "frozen": gc.get_freeze_count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=30000)
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.events)))
        return
    for policy in args.policies.split(","):
        env = {**os.environ, "GC_POLICY": policy, "LOG_LEVEL": "WARNING"}
        cmd = [sys.executable, "-m", "bench.gc_pauses", "--child", "--events", str(args.events)]
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        print(
            f"{policy:<17} gen2: {row['collections']['2']:>3} coletas, máx {row['gen2_max_ms']:6.1f} ms, "
            f"total {row['gen2_total_ms']:7.1f} ms · pausa máx {row['max_pause_ms']:6.1f} ms, "
            f"{row['pauses_over_5ms']:>3} > 5 ms · GC {row['gc_cpu_us_per_event']:5.1f} µs/evento "
            f"de {row['cpu_us_per_event']:6.1f} · congelados {row['frozen']} · carga {os.getloadavg()[0]:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
