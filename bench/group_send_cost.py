"""Custo de um ``group_send`` no Redis: camada ``core`` × camada ``pubsub`` do channels_redis.

Mede CPU e tempo de parede por chamada, com o grupo vazio e com 2 membros (o caso do
hub do feed com 2 workers). Usa o Redis em 127.0.0.1:6379 (banco 5, prefixos próprios).

Uso::

    .venv/bin/python -m bench.group_send_cost
"""

from __future__ import annotations

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


async def main() -> None:
    for members in (0, 2):
        await measure(RedisChannelLayer(hosts=[REDIS_URL], prefix="bench-gs-core"), "core  ", members=members)
        await measure(RedisPubSubChannelLayer(hosts=[REDIS_URL], prefix="bench-gs-pubsub"), "pubsub", members=members)


if __name__ == "__main__":
    asyncio.run(main())
