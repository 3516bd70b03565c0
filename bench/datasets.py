"""S2 (listagem) e S3 (resumo) sobre históricos grandes, medidos dentro de um processo.

Por que dentro de um processo: o armazenamento aqui é o mongomock (não há MongoDB),
que vive na memória do processo; carregar 1M de eventos por HTTP levaria mais que o
orçamento inteiro do ``make bench``. Os eventos entram pela API pública do store
(``insert_events_bulk`` em lotes + ``rebuild_rollups``, o mesmo caminho do comando
``seed``) e as leituras passam pela view real, com o cliente de testes do DRF
(``APIClient``: roteamento, parâmetros, seletor, serialização — sem o socket).

O histórico cresce em etapas (10k → 100k → 1M, todas espalhadas pelos mesmos 30 dias):
em cada tamanho mede-se o resumo de 30 dias frio (calculado dos rollups) e com o
cache quente; no maior tamanho, a listagem: página 1, página profunda por offset e
a mesma profundidade por cursor.

Uso::

    .venv/bin/python -m bench.datasets --sizes 10000,100000 --json /tmp/s23.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
        "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "MONGO_URI": "mongomock://localhost/bench_datasets",
        # O bench mede o armazenamento em memória (não há MongoDB aqui): permitido de propósito.
        "MONGO_ALLOW_IN_MEMORY": "true",
        "DATABASE_URL": "sqlite://:memory:",
        "REDIS_URL": "",
        # Sem gravador em segundo plano: a carga recalcula os rollups de uma vez.
        "ROLLUP_FLUSH_SECONDS": "0",
        # O cliente de testes faria centenas de pedidos por segundo do mesmo usuário.
        "API_RATE_LIMITS_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }
)

import django

django.setup()

from bson import ObjectId  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import User  # noqa: E402
from events.domain import EventFilter, KeysetPosition  # noqa: E402
from events.selectors import summary_cached, summary_compute  # noqa: E402
from events.serializers import ListCursor, encode_cursor  # noqa: E402
from events.store import get_store  # noqa: E402
from events.windows import Window  # noqa: E402

TYPES = ("login", "logout", "deposit", "withdraw", "purchase", "sell")
USERS = 500
SPAN = timedelta(days=30)
LIMIT = 50


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class History:
    """Gera e grava eventos uniformes nos últimos 30 dias; guarda as chaves de ordenação."""

    def __init__(self, now: datetime, seed: int = 42) -> None:
        self.now = now
        self.rng = random.Random(seed)
        self.keys: list[tuple[datetime, ObjectId]] = []
        self.store = get_store()
        self.store.drop_all()

    def grow_to(self, size: int, batch_size: int = 20_000) -> float:
        started = time.perf_counter()
        rng = self.rng
        span_ms = int(SPAN.total_seconds() * 1000)
        while len(self.keys) < size:
            batch: list[dict[str, Any]] = []
            for _ in range(min(batch_size, size - len(self.keys))):
                moment = self.now - timedelta(milliseconds=rng.randrange(1, span_ms))
                event_id = ObjectId()
                batch.append(
                    {
                        "_id": event_id,
                        "userId": f"u-{rng.randrange(USERS)}",
                        "type": rng.choice(TYPES),
                        "value": round(rng.uniform(0, 5000), 2),
                        "timestamp": moment,
                        "receivedAt": moment,
                        "bodyHash": "bench",
                        "ingestId": "bench",
                        "schemaVersion": 1,
                    }
                )
                self.keys.append((moment, event_id))
            self.store.insert_events_bulk(batch, track_rollups=False)  # type: ignore[arg-type]
        return time.perf_counter() - started

    def rebuild(self) -> float:
        started = time.perf_counter()
        self.store.rebuild_rollups()
        return time.perf_counter() - started

    def position_at(self, depth: int) -> KeysetPosition:
        """Chave do ``depth``-ésimo evento na ordem padrão (``-timestamp``, ``-_id``)."""
        ordered = sorted(self.keys, reverse=True)
        moment, event_id = ordered[depth - 1]
        return KeysetPosition(moment, event_id)


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(samples), "min_ms": min(samples), "n": repeat}


def measure_summary(client: APIClient, now: datetime, repeat_cold: int, repeat_hot: int) -> dict[str, Any]:
    window = Window(now - SPAN, now)
    cold = timed(lambda: summary_compute(window=window, top=10, now=now), repeat_cold)
    cache.clear()
    key = ("bench", "30d", 10)
    first = summary_cached(cache_key_parts=key, window=window, top=10, now=now)
    assert first["cached"] is False
    hit = timed(lambda: summary_cached(cache_key_parts=key, window=window, top=10, now=now), repeat_hot)
    assert summary_cached(cache_key_parts=key, window=window, top=10, now=now)["cached"] is True

    def api() -> None:
        response = client.get("/api/events/summary", {"range": "30d", "top": "10"})
        assert response.status_code == 200, response.content

    def api_cold_call() -> None:
        cache.clear()
        api()

    api_cold = timed(api_cold_call, repeat_cold)
    api()  # enche o cache
    api_hit = timed(api, repeat_hot)
    return {"selector_cold": cold, "selector_hit": hit, "api_cold": api_cold, "api_hit": api_hit}


def measure_list(client: APIClient, history: History, size: int, repeat: int) -> dict[str, Any]:
    depth = int(size * 0.9)
    deep_page = depth // LIMIT + 1
    cursor = encode_cursor(ListCursor("-timestamp", EventFilter(), history.position_at(depth)))

    def call(params: dict[str, Any]) -> Callable[[], None]:
        def run() -> None:
            response = client.get("/api/events", params)
            assert response.status_code == 200, response.content
            assert len(response.json()["results"]) == LIMIT

        return run

    return {
        "events": size,
        "depth": depth,
        "limit": LIMIT,
        "page1": timed(call({"limit": LIMIT}), repeat),
        "deep_cursor": timed(call({"limit": LIMIT, "cursor": cursor}), repeat),
        "deep_offset": timed(call({"limit": LIMIT, "page": deep_page}), repeat),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--list-size", type=int, default=0, help="tamanho da listagem (0 = o maior)")
    parser.add_argument("--list-repeat", type=int, default=1)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    list_size = args.list_size or sizes[-1]

    call_command("migrate", verbosity=0)
    client = APIClient()
    client.force_authenticate(User.objects.create_user("bench"))
    now = datetime.now(UTC).replace(microsecond=0)
    history = History(now)
    out: dict[str, Any] = {"summary": [], "list": None, "load": []}
    for size in sizes:
        load_s = history.grow_to(size)
        rebuild_s = history.rebuild()
        out["load"].append({"events": size, "insert_s": load_s, "rebuild_s": rebuild_s, "rss_mb": rss_mb()})
        print(f"# {size} eventos: carga {load_s:.1f} s, rollups {rebuild_s:.1f} s, RSS {rss_mb():.0f} MB", flush=True)
        summary = measure_summary(client, now, repeat_cold=5, repeat_hot=200)
        out["summary"].append({"events": size, **summary})
        print(
            f"#   resumo 30d: frio {summary['selector_cold']['median_ms']:.1f} ms, "
            f"cache {summary['selector_hit']['median_ms']:.3f} ms",
            flush=True,
        )
        if size == list_size:
            out["list"] = measure_list(client, history, size, args.list_repeat)
            print(f"#   listagem: {json.dumps(out['list'])}", flush=True)
    Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
