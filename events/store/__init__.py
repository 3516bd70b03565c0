"""Armazenamento de eventos — o ÚNICO pacote que fala pymongo.

* ``contract.py``: o contrato (``EventStore``) que os dois adaptadores cumprem;
* ``mongo.py``: produção (MongoDB, pymongo puro) — ``events.py``, ``rollups.py``,
  ``quarantine.py``, ``retry.py`` e ``queries.py`` são as partes dele;
* ``memory.py``: o dublê em memória (testes e demo, ``MONGO_URI=mongomock://…``).

``get_store()`` devolve o armazenamento do processo. Código assíncrono nunca o chama
direto: ``await run_store(fn, …)`` executa num pool de threads limitado
(``STORE_THREADS``), para que o laço de eventos nunca espere o banco.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from django.conf import settings

from events.store.contract import EventStore, InsertOutcome, StoreKind
from events.store.errors import StoreUnavailable

__all__ = ["EventStore", "InsertOutcome", "StoreKind", "StoreUnavailable", "get_store", "run_store"]

P = ParamSpec("P")
T = TypeVar("T")

IN_MEMORY_SCHEME = "mongomock"


def is_in_memory(uri: str) -> bool:
    return urlsplit(uri).scheme == IN_MEMORY_SCHEME


@cache
def get_store() -> EventStore:
    """O armazenamento deste processo, escolhido pelo esquema do ``MONGO_URI``."""
    uri = settings.MONGO_URI
    if is_in_memory(uri):
        from events.store.memory import InMemoryStore

        return InMemoryStore(urlsplit(uri).path.lstrip("/") or "trader_monitor")
    from events.store.mongo import MongoStore, connect

    store = MongoStore(
        connect(
            uri,
            server_selection_timeout_ms=settings.MONGO_SERVER_SELECTION_TIMEOUT_MS,
            operation_timeout_ms=settings.MONGO_TIMEOUT_MS,
        ),
        write_attempts=settings.MONGO_WRITE_RETRIES,
        flush_seconds=settings.ROLLUP_FLUSH_SECONDS,
        recovery_seconds=settings.ROLLUP_RECOVERY_SECONDS,
    )
    store.start()
    return store


@cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings.STORE_THREADS, thread_name_prefix="store")


async def run_store(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Executa uma chamada ao armazenamento no pool limitado, sem prender o laço de eventos.

    Leva o contexto (``contextvars``: id da requisição nos logs) para a thread.
    """
    context = contextvars.copy_context()
    call = functools.partial(context.run, fn, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(_executor(), call)
