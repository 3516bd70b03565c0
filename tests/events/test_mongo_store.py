"""``MongoStore`` (o adaptador de produção): índices, gravador de agregações e falhas do servidor.

O que vale para os dois adaptadores está na suíte de contrato; aqui, só o que é do
MongoDB. Falhas vêm do próprio servidor pelo fail point ``failCommand`` (o mongowire o
implementa; num ``mongod``, precisa de ``--setParameter enableTestCommands=1``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from bson import ObjectId
from pymongo import MongoClient
from pymongo.errors import OperationFailure

from events.domain import EventDocument
from events.store import StoreUnavailable
from events.store.mongo import MongoStore, connect
from events.store.retry import RetryPolicy
from tests.events.conftest import NOW

APP_NAME = "trader-monitor"  # o appname de ``events.store.mongo.connect``
# Recusa do primário sem rótulo de repetição: a falha chega na hora à nossa política.
REFUSE = {"errorCode": 10107, "errorLabels": []}


def make_doc(**overrides: Any) -> EventDocument:
    doc: dict[str, Any] = {
        "_id": ObjectId(),
        "userId": "u1",
        "type": "purchase",
        "value": 10.0,
        "timestamp": NOW - timedelta(minutes=5),
        "receivedAt": NOW,
        "bodyHash": "h",
        "ingestId": str(ObjectId()),
        "schemaVersion": 1,
    }
    doc.update(overrides)
    return cast(EventDocument, doc)


def database_uri(uri: str, name: str) -> str:
    return urlsplit(uri)._replace(path=f"/{name}").geturl()


@pytest.fixture
def admin(mongodb_uri: str) -> Iterator[MongoClient[dict[str, Any]]]:
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri, appname="mongo-store-tests", tz_aware=True)
    yield client
    client.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_store(mongodb_uri: str, admin: MongoClient[dict[str, Any]], sleeps: list[float]) -> Iterator[Any]:
    """Fábrica de ``MongoStore`` de produção (``connect``), cada um num banco novo."""
    created: list[MongoStore] = []

    def build(timeout_ms: int = 5000, **options: Any) -> MongoStore:
        name = f"mongo_store_{ObjectId()}"
        db = connect(
            database_uri(mongodb_uri, name), server_selection_timeout_ms=timeout_ms, operation_timeout_ms=timeout_ms
        )
        options.setdefault("flush_seconds", 0)
        options.setdefault("retry", RetryPolicy(3, sleep=sleeps.append))
        store = MongoStore(db, clock=lambda: NOW, **options)
        created.append(store)
        return store

    yield build
    for store in created:
        store.close()
        admin.drop_database(store.db.name)
        store.db.client.close()


@pytest.fixture
def fail_point(admin: MongoClient[dict[str, Any]]) -> Iterator[Any]:
    """Liga o ``failCommand`` para a aplicação; desliga no fim. Pula sem comandos de teste."""

    def configure(mode: Any, commands: list[str], **data: Any) -> int:
        reply = admin.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": mode,
                "data": {"failCommands": commands, "appName": APP_NAME, **data},
            }
        )
        return int(reply["count"])

    try:
        admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
    except OperationFailure:
        pytest.skip("servidor sem fail points (mongod sem --setParameter enableTestCommands=1)")
    yield configure
    admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})


def rollup_rows(store: MongoStore, collection: str) -> list[tuple[str, int, float]]:
    return [(row["type"], row["count"], row["sum"]) for row in store.db[collection].find({})]


def test_ensure_indexes_is_idempotent_and_declares_the_query_indexes(make_store: Any) -> None:
    store: MongoStore = make_store()

    first = store.ensure_indexes()
    second = store.ensure_indexes()

    assert first == second
    events_indexes = {tuple(spec["key"]) for spec in store.db["events"].index_information().values()}
    assert (("timestamp", -1), ("_id", -1)) in events_indexes
    assert (("type", 1), ("timestamp", -1), ("_id", -1)) in events_indexes
    assert (("userId", 1), ("timestamp", -1), ("_id", -1)) in events_indexes
    assert (("seq", 1),) in events_indexes
    for collection in ("rollup_type_minute", "rollup_user_minute"):
        fine = store.db[collection].index_information()
        assert any(spec.get("expireAfterSeconds") for spec in fine.values())
    for collection in ("rollup_type_hour", "rollup_type_day"):
        coarse = store.db[collection].index_information()
        assert not any(spec.get("expireAfterSeconds") for spec in coarse.values())


def test_failed_flush_keeps_the_deltas_for_the_next_one(make_store: Any, fail_point: Any) -> None:
    store: MongoStore = make_store()
    store.insert_event(make_doc())
    # As agregações vão por ``update`` (bulk_write): o primário recusa todas as tentativas.
    fail_point("alwaysOn", ["update"], **REFUSE)

    with pytest.raises(StoreUnavailable):
        store.flush_rollups()
    fail_point("off", [])

    assert store.flush_rollups() > 0
    assert rollup_rows(store, "rollup_type_hour") == [("purchase", 1, 10.0)]


def test_transient_errors_are_retried_then_reported(make_store: Any, fail_point: Any, sleeps: list[float]) -> None:
    # Prazo curto: com a rede caindo sempre, cada tentativa esgota o prazo inteiro (o driver
    # repete a leitura enquanto couber nele).
    store: MongoStore = make_store(timeout_ms=1000)
    before = fail_point("alwaysOn", ["find"], closeConnection=True)

    with pytest.raises(StoreUnavailable):
        store.get_event(ObjectId())

    fired = fail_point("off", []) - before
    assert len(sleeps) == store.retry.attempts - 1
    # Cada tentativa nossa é uma leitura repetível do driver: pelo menos uma conexão derrubada por tentativa.
    assert fired >= store.retry.attempts


def test_background_flusher_writes_rollups_without_a_reader_asking(make_store: Any) -> None:
    store: MongoStore = make_store(flush_seconds=0.05)
    store.insert_event(make_doc())

    # O gravador roda noutra thread: espera (com limite) o efeito dele, sem ler agregações
    # pelo armazenamento (uma leitura aplicaria o lote por conta própria).
    def done() -> bool:
        counted = store.db["rollup_type_hour"].count_documents({}) > 0
        return counted and store.db["events"].count_documents({"rollupBatch": {"$exists": True}}) == 0

    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline, "o gravador em segundo plano não gravou as agregações"
        time.sleep(0.05)

    assert rollup_rows(store, "rollup_type_hour") == [("purchase", 1, 10.0)]
