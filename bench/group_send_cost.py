"""Custo de um ``group_send`` no Redis: camada ``core`` × camada ``pubsub`` do channels_redis.

Mede CPU e tempo de parede por chamada, com o grupo vazio e com 2 membros (o caso do
hub do feed com 2 workers). Usa o Redis em 127.0.0.1:6379 (banco 5, prefixos próprios).

Depois, o custo **por evento** da difusão em micro-lotes (``events/feed/publish.py``,
``FeedPublisher`` na camada ``core``, 2 membros): sem lote (1 ``group_send`` por evento,
como antes), e com a janela de 2 ms a taxas fixas (os eventos chegam um a um, no ritmo
da taxa, como do webhook) — o tamanho médio do lote sai da própria taxa.

Uso::

    .venv/bin/python -m bench.group_send_cost              # tudo
    .venv/bin/python -m bench.group_send_cost --batched    # só a difusão em micro-lotes
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

REDIS_URL = "redis://127.0.0.1:6379/5"
MESSAGE = {
    "type": "event.new",
    "event": {
        "id": "x" * 24,
        "userId": "u-1",
        "type": "purchase",
        "value": 1.5,
        "timestamp": "2026-11-29T10:00:00Z",
        "metadata": {"a": 1},
    },
    "cursor": 1,
}


async def measure(layer: Any, name: str, *, members: int, calls: int = 3000) -> None:
    channels = []
    for _ in range(members):
        channel = await layer.new_channel()
        channels.append(channel)
        await layer.group_add("g", channel)
    for _ in range(200):
        await layer.group_send("g", MESSAGE)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        await layer.group_send("g", MESSAGE)
    cpu_us = (time.process_time() - cpu) / calls * 1e6
    wall_us = (time.perf_counter() - wall) / calls * 1e6
    print(f"{name} membros={members}: {cpu_us:.0f} µs de CPU, {wall_us:.0f} µs de parede por group_send")
    for channel in channels:
        await layer.group_discard("g", channel)
    await layer.flush()


async def measure_batched(*, window: float, max_messages: int, rate: float, seconds: float) -> dict[str, float]:
    """CPU por evento de ``FeedPublisher.publish`` a uma taxa fixa (um evento por vez, como o webhook)."""
    from events.feed.publish import FeedPublisher

    # Capacidade alta: ninguém lê os canais aqui, e um canal cheio tomaria outro caminho no Redis.
    layer = RedisChannelLayer(hosts=[REDIS_URL], prefix="bench-gs-batch", capacity=1_000_000)
    channels = [await layer.new_channel() for _ in range(2)]
    for channel in channels:
        await layer.group_add("events", channel)
    publisher = FeedPublisher(layer, max_messages=max_messages, window_seconds=window)
    calls = 0
    real = layer.group_send

    async def counting(group: str, message: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        await real(group, message)

    layer.group_send = counting  # só a contagem do bench
    # Aquecimento (conexões do pool).
    await asyncio.gather(*(publisher.publish(MESSAGE) for _ in range(50)))
    calls = 0
    count = int(rate * seconds)
    tasks = []
    cpu, wall = time.process_time(), time.perf_counter()
    start = time.perf_counter()
    for index in range(count):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(publisher.publish(MESSAGE)))
    await asyncio.gather(*tasks)
    cpu_us = (time.process_time() - cpu) / count * 1e6
    wall_s = time.perf_counter() - wall
    for channel in channels:
        await layer.group_discard("events", channel)
    await layer.flush()
    # O laço de agendamento (sleep, create_task) também custa: medido à parte e descontado.
    return {"cpu_us": cpu_us, "per_batch": count / max(1, calls), "wall_s": wall_s}


async def scheduler_cost(rate: float, seconds: float) -> float:
    """CPU por evento só do agendamento (tarefa vazia no mesmo ritmo)."""

    async def nothing() -> bool:
        return True

    count = int(rate * seconds)
    tasks = []
    cpu = time.process_time()
    start = time.perf_counter()
    for index in range(count):
        delay = start + index / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(nothing()))
    await asyncio.gather(*tasks)
    return (time.process_time() - cpu) / count * 1e6


async def batched(rates: tuple[float, ...], seconds: float) -> None:
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    for rate in rates:
        base = await scheduler_cost(rate, seconds)
        # Alternado na mesma janela: sem lote × janela de 2 ms.
        for name, window, max_messages in (("sem lote", 0.0, 1), ("lote 2 ms", 0.002, 100)):
            row = await measure_batched(window=window, max_messages=max_messages, rate=rate, seconds=seconds)
            print(
                f"{rate:>6g} ev/s {name:<9}: {row['cpu_us'] - base:6.0f} µs de CPU por evento "
                f"(bruto {row['cpu_us']:.0f}, agendamento {base:.0f}), {row['per_batch']:.1f} eventos por group_send"
            )


async def main() -> None:
    for members in (0, 2):
        await measure(RedisChannelLayer(hosts=[REDIS_URL], prefix="bench-gs-core"), "core  ", members=members)
        await measure(RedisPubSubChannelLayer(hosts=[REDIS_URL], prefix="bench-gs-pubsub"), "pubsub", members=members)


if __name__ == "__main__":
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trader_monitor.settings")
    parser = argparse.ArgumentParser()
    parser.add_argument("--batched", action="store_true", help="só a difusão em micro-lotes")
    parser.add_argument("--rates", default="100,500,1000,2000")
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    if not args.batched:
        asyncio.run(main())
    asyncio.run(batched(tuple(float(r) for r in args.rates.split(",")), args.seconds))
