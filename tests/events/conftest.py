"""Os adaptadores do armazenamento para a suíte de contrato.

* ``in-memory``: o ``InMemoryStore`` (sempre);
* ``mongodb``: o ``MongoStore`` (pymongo puro) contra ``TEST_MONGO_URI`` quando definido
  (o GitHub Actions sobe MongoDB 7 e 8 em replica set de um nó) ou, aqui, contra o
  servidor de protocolo do MongoDB em memória de ``devtools.mongowire`` — o mesmo
  driver, pela rede, com o mongomock do outro lado.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from events.buckets import HOUR, ceil_to
from events.store.contract import EventStore
from events.store.memory import InMemoryStore

# Um instante fixo durante a sessão, logo à frente do relógio real: os índices TTL (baldes
# de minuto) do MongoDB usam o relógio real, e um "agora" de dias atrás veria baldes
# recém-gravados expirarem. Fora do alinhamento com minutos/horas, para exercitar as pontas.
NOW = ceil_to(datetime.now(UTC), HOUR) + timedelta(minutes=37, seconds=12, milliseconds=345)
ADAPTERS = ["in-memory", "mongodb"]


@pytest.fixture(scope="session")
def mongodb_uri() -> Iterator[str]:
    """``TEST_MONGO_URI`` ou um servidor ``devtools.mongowire`` desta sessão de testes."""
    uri = os.environ.get("TEST_MONGO_URI")
    if uri:
        yield uri
        return
    if importlib.util.find_spec("devtools") is None or importlib.util.find_spec("devtools.mongowire") is None:
        pytest.skip("sem MongoDB: defina TEST_MONGO_URI (o devtools.mongowire não está disponível)")
    from devtools.mongowire import MongoWireServer

    with MongoWireServer(replica_set="rs0") as server:
        yield server.uri


def mongo_store(uri: str, name: str, **options: Any) -> EventStore:
    """Um ``MongoStore`` num banco próprio e vazio (sem gravador em segundo plano)."""
    from pymongo import MongoClient

    from events.store.mongo import MongoStore

    client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=5000)
    db = client[f"contract_{name}_{ObjectId()}"]
    client.drop_database(db.name)
    options.setdefault("flush_seconds", 0)
    return MongoStore(db, **options)


@pytest.fixture(params=ADAPTERS)
def adapter(request: pytest.FixtureRequest) -> Iterator[EventStore]:
    """Um armazenamento vazio de cada adaptador, com o relógio parado em ``NOW``."""
    instance: Any
    if request.param == "in-memory":
        instance = InMemoryStore("contract", clock=lambda: NOW)
    else:
        uri = request.getfixturevalue("mongodb_uri")
        instance = mongo_store(uri, "adapter", clock=lambda: NOW)
    yield instance
    instance.drop_all()
    if request.param == "mongodb":
        instance.db.client.close()
