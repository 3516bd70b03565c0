"""Custo, do lado da aplicação, de chamar o MongoDB do laço de eventos: pool de threads × ``AsyncMongoClient``.

O laço de eventos nunca pode esperar o banco. Duas formas de garantir isso:

* ``pool``: o ``MongoClient`` síncrono (o adaptador de produção, ``MongoStore``) chamado
  por ``run_in_executor`` num pool limitado — o que o projeto usa (``events.store.run_store``);
* ``async``: o ``AsyncMongoClient`` do pymongo, aguardado direto no laço.

O servidor é o ``devtools.mongowire`` num processo à parte (não há MongoDB aqui): o custo
dele não entra na conta. Mede-se o CPU **deste** processo por operação (``time.process_time``)
e a vazão, com ``--concurrency`` operações em voo. Cada operação é um ``insert_one`` seguido
de um ``find_one`` por ``_id`` (o par da ingestão com deduplicação).

    .venv/bin/python -m bench.store_async --ops 2000 --concurrency 16 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient, MongoClient


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.mongowire", "--port", "0", "--replica-set", "rs0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    uri = process.stdout.readline().strip()
    return process, uri


async def run_pool(uri: str, ops: int, concurrency: int) -> tuple[float, float]:
    client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
    collection = client["bench_async"][f"pool_{ObjectId()}"]
    executor = ThreadPoolExecutor(max_workers=concurrency)
    loop = asyncio.get_running_loop()
    semaphore = asyncio.Semaphore(concurrency)

    def one() -> None:
        document_id = ObjectId()
        collection.insert_one({"_id": document_id, "value": 1.0})
        collection.find_one({"_id": document_id})

    async def task() -> None:
        async with semaphore:
            await loop.run_in_executor(executor, one)

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(task() for _ in range(ops)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    executor.shutdown()
    client.close()
    return cpu / ops * 1e6, ops / wall


async def run_async(uri: str, ops: int, concurrency: int) -> tuple[float, float]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
    collection = client["bench_async"][f"async_{ObjectId()}"]
    semaphore = asyncio.Semaphore(concurrency)

    async def task() -> None:
        async with semaphore:
            document_id = ObjectId()
            await collection.insert_one({"_id": document_id, "value": 1.0})
            await collection.find_one({"_id": document_id})

    await collection.insert_one({"_id": ObjectId()})  # conexão e monitor prontos antes de medir
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(task() for _ in range(ops)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await client.close()
    return cpu / ops * 1e6, ops / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server, uri = start_server()
    try:
        results: dict[str, list[tuple[float, float]]] = {"pool": [], "async": []}
        for _ in range(args.runs):
            # Alternados, para que a carga da máquina pese igual nos dois.
            results["pool"].append(asyncio.run(run_pool(uri, args.ops, args.concurrency)))
            results["async"].append(asyncio.run(run_async(uri, args.ops, args.concurrency)))
    finally:
        server.terminate()
        server.wait(timeout=10)
    for name, rows in results.items():
        cpu = statistics.median(row[0] for row in rows)
        rate = statistics.median(row[1] for row in rows)
        print(
            f"{name:5}: {cpu:7.1f} µs de CPU da aplicação por operação (insert_one + find_one), "
            f"{rate:7.0f} op/s (mediana de {args.runs}; concorrência {args.concurrency})"
        )


if __name__ == "__main__":
    main()
