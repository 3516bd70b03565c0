"""Fábrica do cliente MongoDB: um cliente por processo, a partir de ``MONGO_URI``.

``mongomock://host/banco`` seleciona o armazenamento em memória (testes e demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import mongomock
from pymongo import MongoClient

DEFAULT_DB_NAME = "trader_monitor"


@dataclass(frozen=True)
class MongoTarget:
    client: Any  # pymongo.MongoClient ou mongomock.MongoClient
    db_name: str
    in_memory: bool


def create_client(
    uri: str, *, server_selection_timeout_ms: int, operation_timeout_ms: int | None = None
) -> MongoTarget:
    """Cliente do ``uri``. ``operation_timeout_ms`` é o prazo total de cada operação
    (``timeoutMS`` do pymongo: seleção de servidor, rede, espera de replicação e a
    nova tentativa interna do driver), o que limita o pior caso até um 503."""
    if uri.startswith("mongomock://"):
        db_name = urlsplit(uri).path.lstrip("/") or DEFAULT_DB_NAME
        return MongoTarget(mongomock.MongoClient(tz_aware=True), db_name, in_memory=True)
    options: dict[str, Any] = {}
    if operation_timeout_ms:
        options["timeoutMS"] = operation_timeout_ms
    else:
        options["socketTimeoutMS"] = 10_000
    client: MongoClient[dict[str, Any]] = MongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        connectTimeoutMS=server_selection_timeout_ms,
        retryWrites=True,
        appname="trader-monitor",
        **options,
    )
    db_name = client.get_default_database(default=DEFAULT_DB_NAME).name
    return MongoTarget(client, db_name, in_memory=False)
