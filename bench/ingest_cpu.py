"""Custo de CPU da ingestão sem HTTP: ``process_delivery`` em processo, por entrega.

Mede o núcleo do webhook (assinatura, validação, ``_id`` de idempotência, gravação,
rollups em memória) sem servidor nem rede — o número mais estável numa máquina
compartilhada, usado para o antes/depois de cada mudança de desempenho. Também mede
a gravação dos rollups acumulados (``flush_rollups``) e a divide pelas entregas.

Uso::

    .venv/bin/python -m bench.ingest_cpu --events 5000 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "WEBHOOK_RATE_LIMIT": "",
        "MONGO_URI": "mongomock://localhost/bench_ingest_cpu",
        # O bench mede o armazenamento em memória (não há MongoDB aqui): permitido de propósito.
        "MONGO_ALLOW_IN_MEMORY": "true",
        "DATABASE_URL": "sqlite://:memory:",
        "REDIS_URL": "",
        "ROLLUP_FLUSH_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
)

import django

django.setup()

from django.test import RequestFactory  # noqa: E402

from bench.servers import write_requests  # noqa: E402
from events.store import get_store  # noqa: E402
from events.webhook import Delivery, process_delivery  # noqa: E402


def deliveries(count: int) -> list[Delivery]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.tsv"
        write_requests(path, count)
        out = []
        for line in path.read_text().splitlines():
            msg_id, ts, signature, body = line.split("\t", 3)
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": ts,
                "webhook-signature": signature,
            }
            request = RequestFactory().post("/api/webhook/event", body, content_type="application/json")
            out.append(Delivery(headers, body.encode(), "127.0.0.1", len(body), request))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    store = get_store()
    ingest: list[float] = []
    flush: list[float] = []
    for _ in range(args.runs):
        store.drop_all()
        batch = deliveries(args.events)
        started = time.process_time()
        for delivery in batch:
            response = process_delivery(delivery)
            assert response.status == 201, response.body
        ingest.append((time.process_time() - started) * 1e6 / args.events)
        started = time.process_time()
        store.flush_rollups()
        flush.append((time.process_time() - started) * 1e6 / args.events)
    print(
        f"process_delivery: {statistics.median(ingest):.1f} µs CPU/entrega "
        f"(rodadas: {', '.join(f'{v:.1f}' for v in ingest)}); "
        f"flush_rollups no fim: {statistics.median(flush):.1f} µs/entrega"
    )


if __name__ == "__main__":
    main()
