"""Latência de GET /api/events: página 1 × página profunda (offset) × cursor profundo.

Roda contra o armazenamento da demo (mongomock, em memória). Uso:

    .venv/bin/python -m bench.list_depth --events 100000 --repeat 5

O mongomock varre a coleção inteira em Python a cada consulta (não usa índices),
então aqui os três modos custam parecido; a vantagem do cursor (custo que não cresce
com a profundidade) só aparece num MongoDB real com o índice (timestamp, _id).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trader_monitor.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")
os.environ.setdefault("MONGO_URI", "mongomock://localhost/bench_list_depth")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.setdefault("ROLLUP_FLUSH_SECONDS", "0")
os.environ.setdefault("API_RATE_LIMITS_ENABLED", "false")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from bson import ObjectId  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import User  # noqa: E402
from events.domain import EventFilter, KeysetPosition  # noqa: E402
from events.selectors import event_list  # noqa: E402
from events.serializers import ListCursor, encode_cursor  # noqa: E402
from events.store import get_store  # noqa: E402

TYPES = ["login", "logout", "purchase", "deposit", "withdraw"]


def _seed(count: int) -> float:
    store = get_store()
    store.drop_all()
    rng = random.Random(42)
    now = datetime.now(UTC)
    started = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for index in range(count):
        moment = now - timedelta(seconds=rng.randrange(30 * 24 * 3600))
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        batch.append(
            {
                "_id": ObjectId(),
                "userId": f"u{rng.randrange(500)}",
                "type": rng.choice(TYPES),
                "value": round(rng.uniform(0, 5000), 2),
                "timestamp": moment,
                "receivedAt": moment,
                "bodyHash": "bench",
                "ingestId": "bench",
                "schemaVersion": 1,
            }
        )
        if len(batch) == 10_000 or index == count - 1:
            store.insert_events_bulk(batch, track_rollups=False)  # type: ignore[arg-type]
            batch = []
    return time.perf_counter() - started


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    client = APIClient()
    client.force_authenticate(User.objects.create_user("bench"))
    seed_seconds = _seed(args.events)
    store = get_store()
    depth = int(args.events * 0.9)
    deep_page = depth // args.limit + 1
    # Posição de partida do cursor profundo: o evento na profundidade `depth` da ordem padrão.
    [anchor] = store.list_events(EventFilter(), sort_field="timestamp", descending=True, limit=1, skip=depth - 1)
    cursor = encode_cursor(ListCursor("-timestamp", EventFilter(), KeysetPosition(anchor["timestamp"], anchor["_id"])))

    def http(params: dict[str, Any]) -> Callable[[], Any]:
        def call() -> None:
            response = client.get("/api/events", params)
            assert response.status_code == 200, response.content

        return call

    def selector(**kwargs: Any) -> Callable[[], Any]:
        return lambda: event_list(
            event_filter=EventFilter(), sort_field="timestamp", descending=True, limit=args.limit, **kwargs
        )

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("HTTP página 1 (offset, com total)", http({"limit": args.limit})),
        (f"HTTP página {deep_page} (offset, com total)", http({"limit": args.limit, "page": deep_page})),
        (f"HTTP cursor na profundidade {depth}", http({"limit": args.limit, "cursor": cursor})),
        ("HTTP página 1 filtrada (type=purchase)", http({"limit": args.limit, "type": "purchase"})),
        ("seletor página 1 sem total", selector(page=1, with_total=False)),
        (f"seletor página {deep_page} sem total", selector(page=deep_page, with_total=False)),
        (
            f"seletor cursor na profundidade {depth}",
            selector(after=KeysetPosition(anchor["timestamp"], anchor["_id"]), with_total=False),
        ),
        ("store.count_events (todos)", lambda: store.count_events(EventFilter())),
    ]
    print(f"{args.events} eventos no mongomock (carga em {seed_seconds:.1f} s)", end="; ")
    print(f"limit={args.limit}, {args.repeat} repetições")
    print(f"{'caso':48} {'mediana ms':>11} {'mín ms':>9}")
    for name, fn in cases:
        median, best = _time(fn, args.repeat)
        print(f"{name:48} {median:11.1f} {best:9.1f}")


if __name__ == "__main__":
    main()
