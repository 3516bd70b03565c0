"""MongoDB de verdade pela rede (``devtools.mongowire``) com falhas injetadas pelo próprio servidor.

As falhas usam o fail point ``failCommand`` do MongoDB (``configureFailPoint``): com
``TEST_MONGO_URI`` (no CI, um ``mongod --setParameter enableTestCommands=1`` em replica set)
os testes rodam contra ele; sem, contra o mongowire. "Servidor fora do ar" é o servidor
parado de fato — só o mongowire se deixa parar (``MongoWireServer.stop()``; ``start()``
volta na mesma porta com os dados). Nada de substituir métodos do pymongo ou do mongomock.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from devtools.mongowire import MongoWireServer
from events.store import get_store
from events.store.mongo import MongoStore

# O ``appname`` que ``events.store.mongo.connect`` anuncia: os fail points só atingem a aplicação.
APP_NAME = "trader-monitor"
# Prazo por operação da aplicação nos testes de queda (cada tentativa esgota o prazo); os
# bancos daqui têm poucos documentos e respondem em milissegundos.
OUTAGE_TIMEOUT_MS = 1000
# Prazo folgado para o resto (o mongowire varre a coleção inteira a cada consulta).
TIMEOUT_MS = 5000
# Erro 10107 (NotWritablePrimary) sem rótulo de escrita repetível: o primário recusa e o
# driver não repete sozinho — a falha chega na hora à nossa política de repetição.
REFUSE = {"errorCode": 10107, "errorLabels": []}
# Tempo de replicação esgotado (``wtimeout``): a escrita aconteceu, a confirmação não veio.
LOST_ACK = {
    "writeConcernError": {
        "code": 64,
        "codeName": "WriteConcernFailed",
        "errmsg": "waiting for replication timed out",
        "errInfo": {"wtimeout": True},
    }
}

Client = MongoClient[dict[str, Any]]


class FailPoints:
    """Liga e desliga o ``failCommand`` para a aplicação (``appName``), pelo cliente do teste."""

    def __init__(self, admin: Client) -> None:
        self.admin = admin

    def on(self, mode: Any, commands: list[str], **data: Any) -> int:
        """Liga o fail point; devolve o ``count`` (quantas vezes já disparou até agora)."""
        reply = self.admin.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": mode,
                "data": {"failCommands": commands, "appName": APP_NAME, **data},
            }
        )
        return int(reply["count"])

    def off(self) -> int:
        """Desliga; devolve quantas vezes o fail point disparou desde que o servidor subiu."""
        return int(self.admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})["count"])


@pytest.fixture(scope="session")
def mongo_server() -> Iterator[MongoWireServer]:
    """Um mongowire só para estes testes: o servidor que os testes de queda param e sobem de novo."""
    with MongoWireServer(replica_set="rs0") as server:
        yield server


@pytest.fixture(scope="session")
def mongo_uri(request: pytest.FixtureRequest) -> str:
    """``TEST_MONGO_URI`` (um ``mongod`` com ``enableTestCommands=1``, no CI) ou o mongowire."""
    uri = os.environ.get("TEST_MONGO_URI")
    if uri:
        return uri
    server: MongoWireServer = request.getfixturevalue("mongo_server")
    return server.uri


def database_uri(uri: str, name: str) -> str:
    return urlsplit(uri)._replace(path=f"/{name}").geturl()


@pytest.fixture
def admin(mongo_uri: str, mongo_server: MongoWireServer) -> Iterator[Client]:
    """Cliente do próprio teste (outro ``appname``: fora do alcance dos fail points)."""
    if not mongo_server.running:
        mongo_server.start()
    client: Client = MongoClient(mongo_uri, appname="reliability-tests", tz_aware=True, serverSelectionTimeoutMS=10_000)
    yield client
    client.close()


@pytest.fixture
def fail_points(admin: Client, mongo_server: MongoWireServer) -> Iterator[FailPoints]:
    """O ``failCommand`` do servidor alvo; pula se ele não tem os comandos de teste."""
    points = FailPoints(admin)
    try:
        points.off()
    except OperationFailure:
        pytest.skip("servidor sem fail points (mongod sem --setParameter enableTestCommands=1)")
    yield points
    if not mongo_server.running:
        mongo_server.start()
    points.off()


@pytest.fixture
def database_name(admin: Client) -> Iterator[str]:
    name = f"rel_{uuid.uuid4().hex[:12]}"
    yield name
    admin.drop_database(name)


@pytest.fixture
def sleeps() -> list[float]:
    """As esperas pedidas pela política de repetição (registradas, não dormidas)."""
    return []


def use_mongo_store(settings: Any, uri: str, sleeps: list[float], *, timeout_ms: int) -> Iterator[MongoStore]:
    """A aplicação inteira (``get_store()``) sobre um ``MongoStore`` em ``uri``, só neste teste."""
    settings.MONGO_URI = uri
    settings.MONGO_TIMEOUT_MS = timeout_ms
    settings.MONGO_SERVER_SELECTION_TIMEOUT_MS = timeout_ms
    settings.ROLLUP_FLUSH_SECONDS = 0
    get_store.cache_clear()
    store = get_store()
    assert isinstance(store, MongoStore)
    store.retry.sleep = sleeps.append
    yield store
    store.db.client.close()
    get_store.cache_clear()


@pytest.fixture
def app_store(settings: Any, mongo_uri: str, database_name: str, sleeps: list[float]) -> Iterator[MongoStore]:
    """A aplicação sobre o ``MongoStore``, com prazo folgado (falhas que respondem na hora)."""
    yield from use_mongo_store(settings, database_uri(mongo_uri, database_name), sleeps, timeout_ms=TIMEOUT_MS)


@pytest.fixture
def outage_store(settings: Any, mongo_uri: str, database_name: str, sleeps: list[float]) -> Iterator[MongoStore]:
    """A aplicação sobre o ``MongoStore``, com prazo curto: cada tentativa contra uma rede que
    derruba toda conexão esgota o prazo inteiro."""
    uri = database_uri(mongo_uri, database_name)
    yield from use_mongo_store(settings, uri, sleeps, timeout_ms=OUTAGE_TIMEOUT_MS)


@pytest.fixture
def stoppable_store(
    settings: Any, mongo_server: MongoWireServer, database_name: str, sleeps: list[float]
) -> Iterator[MongoStore]:
    """A aplicação sobre o mongowire (que o teste pode parar de fato), com prazo curto."""
    if not mongo_server.running:
        mongo_server.start()
    uri = mongo_server.database_uri(database_name)
    yield from use_mongo_store(settings, uri, sleeps, timeout_ms=OUTAGE_TIMEOUT_MS)


def wait_until(condition: Callable[[], bool], *, timeout: float = 30.0, what: str = "a condição") -> None:
    """Espera uma condição externa (outro processo, o monitor do driver), com limite."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} não aconteceu em {timeout:.0f} s")
        time.sleep(0.05)
