"""Custo do lado do pymongo por inserção, sem MongoDB: uma estimativa do caminho de produção.

Não há ``mongod`` nesta máquina; os números do S1 usam o mongomock (no processo). Aqui:

1. **BSON**: ``bson.encode`` do documento típico de um evento (como ``build_document`` o
   monta) e do comando ``insert`` inteiro que vai no OP_MSG (``insert``, ``documents``,
   ``ordered``, ``lsid``, ``txnNumber``, ``$db``), e ``bson.decode`` da resposta típica —
   só APIs públicas do pacote ``bson`` do pymongo.
2. **Cliente pymongo de verdade** contra o ``devtools.mongowire`` (o protocolo do MongoDB
   sobre o mongomock) **em outro processo**: o CPU medido é só o do processo cliente —
   codificação, sessão implícita, escrita repetível, ``socket``, decodificação, conferência
   da resposta —, nada do servidor. Por ``insert_one`` cru e pelo caminho inteiro da
   ingestão (``event_ingest`` no ``MongoStore``: ``reserve_seq`` = ``find_one_and_update``,
   ``insert_one``, marcação dos rollups; o gravador de rollups roda no fim, à parte).

O que fica de fora: o CPU e a latência do ``mongod`` (índices, journal, write concern) e a
rede de verdade; a espera pela resposta (parede) aqui é a do mongowire em Python, não a de
um MongoDB — por isso só o CPU do cliente é citado.

Uso::

    .venv/bin/python -m bench.pymongo_cost --events 2000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
from bson.objectid import ObjectId

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def typical_document() -> dict[str, Any]:
    """Um evento como o armazenamento guarda (campos do ``build_document``)."""
    now = datetime.now(UTC)
    return {
        "_id": ObjectId(),
        "userId": "u-123",
        "type": "purchase",
        "value": 1234.56,
        "timestamp": now,
        "receivedAt": now,
        "metadata": {"orderId": "A-99812", "channel": "app", "items": 3},
        "idempotency": {"source": "webhook-id", "key": "msg_" + uuid.uuid4().hex, "bodyHash": "f" * 64},
        "seq": 123456,
        "rollup": {"owner": "p-1234", "batch": 42},
    }


def _per_call_us(fn: Any, calls: int) -> float:
    for _ in range(200):
        fn()
    started = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - started) / calls * 1e6


def bson_costs(calls: int = 20000) -> dict[str, float]:
    doc = typical_document()
    command = {
        "insert": "events",
        "ordered": True,
        "lsid": {"id": bson.Binary(uuid.uuid4().bytes, 4)},
        "txnNumber": bson.Int64(7),
        "$db": "trader_monitor",
        "documents": [doc],
    }
    reply = bson.encode({"n": 1, "electionId": ObjectId(), "opTime": {"ts": bson.Timestamp(1, 1), "t": 1}, "ok": 1.0})
    return {
        "doc_bytes": len(bson.encode(doc)),
        "encode_doc_us": _per_call_us(lambda: bson.encode(doc), calls),
        "encode_insert_command_us": _per_call_us(lambda: bson.encode(command), calls),
        "decode_reply_us": _per_call_us(lambda: bson.decode(reply), calls),
        "objectid_us": _per_call_us(ObjectId, calls),
    }


CLIENT_SCRIPT = r"""
import json, os, sys, time, uuid
from pymongo import MongoClient
from bench.pymongo_cost import typical_document
n = int(sys.argv[2])
client = MongoClient(sys.argv[1], tz_aware=True)
coll = client.get_default_database()["bench_raw"]
for _ in range(200):
    coll.insert_one(typical_document())
docs = [typical_document() for _ in range(n)]
cpu, wall = time.process_time(), time.perf_counter()
for doc in docs:
    coll.insert_one(doc)
raw_cpu = (time.process_time() - cpu) / n * 1e6
raw_wall = (time.perf_counter() - wall) / n * 1e6
client.close()

import django
django.setup()
from events.domain import IdempotencyKey, parse_payload
from events.services import event_ingest
def body(i):
    return json.dumps({"userId": f"u-{i % 200}", "type": "purchase", "value": 10.5 + i,
                       "metadata": {"orderId": f"A-{i}", "channel": "app"}}).encode()
for i in range(200):
    payload, data = parse_payload(body(i))
    event_ingest(payload=payload, data=data, key=IdempotencyKey("webhook-id", f"warm_{i}"))
prepared = [parse_payload(body(i)) for i in range(n)]
cpu, wall = time.process_time(), time.perf_counter()
for i, (payload, data) in enumerate(prepared):
    event_ingest(payload=payload, data=data, key=IdempotencyKey("webhook-id", f"m_{uuid.uuid4().hex}"))
ingest_cpu = (time.process_time() - cpu) / n * 1e6
ingest_wall = (time.perf_counter() - wall) / n * 1e6
print(json.dumps({"raw_insert_cpu_us": raw_cpu, "raw_insert_wall_us": raw_wall,
                  "ingest_cpu_us": ingest_cpu, "ingest_wall_us": ingest_wall}))
os._exit(0)
"""


def client_costs(events: int) -> dict[str, float]:
    """CPU do processo cliente por ``insert_one`` e por ``event_ingest`` (MongoStore), mongowire à parte."""
    server = subprocess.Popen(
        [PYTHON, "-m", "devtools.mongowire", "--port", "0", "--replica-set", "rs0", "--log-level", "WARNING"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert server.stdout is not None
        uri = server.stdout.readline().decode().strip()
        base, _, query = uri.partition("?")
        db_uri = f"{base.rstrip('/')}/bench_pymongo?{query}"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
            "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "MONGO_URI": db_uri,
            "DATABASE_URL": "sqlite://:memory:",
            "REDIS_URL": "",
            "LOG_LEVEL": "WARNING",
            # O gravador de rollups fica fora da conta por evento (roda à parte, a cada hora aqui).
            "ROLLUP_FLUSH_SECONDS": "3600",
        }
        done = subprocess.run(
            [PYTHON, "-c", CLIENT_SCRIPT, db_uri, str(events)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return result
    finally:
        server.terminate()
        server.wait(timeout=15)


def run(*, events: int = 2000) -> dict[str, Any]:
    """Mede e devolve tudo (o ``bench/run.py`` põe no ``RESULTS.md``)."""
    load_start = os.getloadavg()
    out: dict[str, Any] = {"bson": bson_costs(), "client": client_costs(events), "events": events}
    out["load"] = (load_start, os.getloadavg())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(run(events=args.events), indent=2))


if __name__ == "__main__":
    main()
