"""Carga de ingestão para o teste de ``kill -9`` (``test_rollup_crash.py``), num processo próprio.

``python -m tests.reliability.crash_loader <mongodb-uri-com-banco> <semente>``

O caminho de produção: ``connect`` + ``MongoStore`` com o gravador de agregações em
segundo plano (``flush_seconds`` curto). Insere eventos (um a um e em lotes) e apaga
alguns, sem parar, e anuncia o progresso no stdout (``progress <n>``) até ser morto.
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from bson import ObjectId

from events.domain import EventDocument
from events.store.mongo import MongoStore, connect

TYPES = ["login", "purchase", "deposit", "withdraw"]
USERS = [f"u{index}" for index in range(8)]


def timestamp(rng: random.Random, now: datetime) -> datetime:
    """Recentes (baldes de minuto, hora e dia) ou de mais de dois dias (hora e dia).

    Nada perto das 48 h: a retenção dos baldes de minuto é decidida pelo relógio de quem
    aplica o lote, e a fronteira mexeria entre a carga e a conferência.
    """
    if rng.random() < 0.6:
        age = timedelta(seconds=rng.uniform(1, 47 * 3600))
    else:
        age = timedelta(seconds=rng.uniform(49 * 3600, 9 * 24 * 3600))
    return now - age


def event(rng: random.Random, now: datetime) -> EventDocument:
    doc: dict[str, Any] = {
        "_id": ObjectId(),
        "userId": rng.choice(USERS),
        "type": rng.choice(TYPES),
        # Valores inteiros: as somas são exatas em ponto flutuante, em qualquer ordem.
        "value": float(rng.randint(-50, 500)),
        "timestamp": timestamp(rng, now),
        "receivedAt": now,
        "bodyHash": "crash",
        "ingestId": str(ObjectId()),
        "schemaVersion": 1,
    }
    return cast(EventDocument, doc)


def main(argv: list[str]) -> int:
    uri, seed = argv[0], int(argv[1])
    rng = random.Random(seed)
    db = connect(uri, server_selection_timeout_ms=10_000, operation_timeout_ms=10_000)
    store = MongoStore(db, flush_seconds=0.2)
    now = datetime.now(UTC)
    written: list[ObjectId] = []
    count = 0
    while True:
        if count % 7 == 6:
            batch = [event(rng, now) for _ in range(5)]
            store.insert_events_bulk(batch)
            written.extend(doc["_id"] for doc in batch)
            count += len(batch)
        else:
            doc = event(rng, now)
            store.insert_event(doc)
            written.append(doc["_id"])
            count += 1
        if count % 10 == 0 and written:
            store.delete_event(written.pop(rng.randrange(len(written))))
        print(f"progress {count}", flush=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
