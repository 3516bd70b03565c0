"""MongoDB fora do ar ou instável durante a ingestão: 503 rápido, nada pela metade, nada duplicado.

As falhas são injetadas na fronteira pymongo/mongomock (métodos da ``Collection`` do
mongomock levantam os erros do pymongo), então o código do armazenamento roda inteiro:
tentativas do tenacity, deduplicação pelo ``_id``, rollups. O tempo não é medido: o pior
caso de espera é calculado a partir da configuração (tentativas × prazo por operação +
esperas entre tentativas) e comparado com o limite de 5 s.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import mongomock.collection
import pytest
from django.conf import settings
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError, WriteConcernError

from events import webhook
from events.buckets import LEVELS
from events.domain import IdempotencyKey
from events.store import EventStore
from tests.conftest import Signer, event_body
from trader_monitor.mongo import create_client

pytestmark = [pytest.mark.django_db, pytest.mark.mongomock_only]

# Coleções do caminho de ingestão; a quarentena e os rollups ficam fora da falha.
FAULTY = {"events", "counters"}
MAX_WAIT_SECONDS = 5.0


@dataclass
class Faults:
    """Modo de falha corrente do "MongoDB" (trocado a cada tentativa do remetente)."""

    mode: str = "ok"
    writes_landed: int = 0
    sleeps: list[float] = field(default_factory=list)

    def before(self, collection: str) -> None:
        if collection not in FAULTY:
            return
        if self.mode == "down":
            raise ServerSelectionTimeoutError("no servers available (injetado)")
        if self.mode == "net-before-write" and collection == "events":
            raise AutoReconnect("connection reset before write (injetado)")
        if self.mode == "partition-after-write" and collection == "events" and self.writes_landed:
            # A 1ª escrita chegou ao servidor; depois a rede caiu de vez.
            raise AutoReconnect("network unreachable (injetado)")

    def after_write(self, collection: str) -> None:
        if collection != "events":
            return
        if self.mode == "wce":
            raise WriteConcernError("waiting for replication timed out (injetado)", 64, {})
        if self.mode == "partition-after-write":
            self.writes_landed += 1
            raise AutoReconnect("connection closed after write (injetado)")


@pytest.fixture
def faults(monkeypatch: pytest.MonkeyPatch) -> Iterator[Faults]:
    state = Faults()
    collection_cls = mongomock.collection.Collection
    insert_one: Any = collection_cls.insert_one
    find_one_and_update: Any = collection_cls.find_one_and_update
    find_one: Any = collection_cls.find_one

    def faulty_insert_one(self: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        state.before(self.name)
        result = insert_one(self, document, *args, **kwargs)
        state.after_write(self.name)
        return result

    def faulty_find_one_and_update(self: Any, *args: Any, **kwargs: Any) -> Any:
        state.before(self.name)
        return find_one_and_update(self, *args, **kwargs)

    def faulty_find_one(self: Any, *args: Any, **kwargs: Any) -> Any:
        state.before(self.name)
        return find_one(self, *args, **kwargs)

    monkeypatch.setattr(collection_cls, "insert_one", faulty_insert_one)
    monkeypatch.setattr(collection_cls, "find_one_and_update", faulty_find_one_and_update)
    monkeypatch.setattr(collection_cls, "find_one", faulty_find_one)
    # Sem esperas de verdade entre tentativas; os pedidos de espera ficam registrados.
    monkeypatch.setattr(time, "sleep", state.sleeps.append)  # tenacity.nap.sleep usa time.sleep
    webhook.verifiers.cache_clear()
    yield state
    webhook.verifiers.cache_clear()


def _deliver(sign: Signer, msg_id: str, value: int) -> webhook.WebhookResponse:
    body = event_body(userId=f"u-{value % 3}", value=value, timestamp="2026-01-01T00:00:00Z")
    return webhook.process_delivery(webhook.Delivery(sign(body, msg_id=msg_id), body, "10.0.0.7", len(body)))


def _rollup_snapshot(store: EventStore) -> dict[str, dict[str, tuple[int, float]]]:
    store.flush_rollups()
    snapshot = {}
    for levels in LEVELS.values():
        for level in levels:
            rows = store.db[level.collection].find({"count": {"$ne": 0}})
            snapshot[level.collection] = {row["_id"]: (row["count"], row["sum"]) for row in rows}
    return snapshot


def _assert_rollups_match_events(store: EventStore) -> None:
    """Os rollups mantidos na ingestão são exatamente os recalculados a partir dos eventos."""
    maintained = _rollup_snapshot(store)
    store.rebuild_rollups()
    assert maintained == _rollup_snapshot(store)


# --- 503 rápido e nada gravado ------------------------------------------------------------


@pytest.mark.parametrize("mode", ["down", "net-before-write"])
def test_unreachable_store_is_503_with_retry_after_and_nothing_written(
    faults: Faults, sign: Signer, store: EventStore, mode: str
) -> None:
    faults.mode = mode

    response = _deliver(sign, "msg-down", 10)

    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.body["error"] == "store_unavailable"
    assert response.headers["Retry-After"] == str(settings.WEBHOOK_RETRY_AFTER_SECONDS)
    faults.mode = "ok"
    assert store.db["events"].count_documents({}) == 0
    assert len(store.rollups) == 0
    assert _rollup_snapshot(store) == {level.collection: {} for levels in LEVELS.values() for level in levels}


def test_write_concern_error_after_the_write_is_retried_into_one_event(
    faults: Faults, sign: Signer, store: EventStore
) -> None:
    faults.mode = "wce"

    response = _deliver(sign, "msg-wce", 10)

    assert response.status == HTTPStatus.CREATED
    faults.mode = "ok"
    assert store.db["events"].count_documents({}) == 1
    _assert_rollups_match_events(store)


def test_write_that_landed_before_the_network_fell_is_counted_once_after_recovery(
    faults: Faults, sign: Signer, store: EventStore
) -> None:
    faults.mode = "partition-after-write"

    first = _deliver(sign, "msg-partition", 10)

    # O remetente não sabe se gravou: recebe 503 e reenviará.
    assert first.status == HTTPStatus.SERVICE_UNAVAILABLE
    faults.mode = "ok"
    retry = _deliver(sign, "msg-partition", 10)
    assert (retry.status, retry.body["duplicate"]) == (HTTPStatus.OK, True)
    assert store.db["events"].count_documents({}) == 1
    # O evento gravado sem confirmação entra nos rollups uma única vez.
    _assert_rollups_match_events(store)
    assert sum(count for count, _sum in _rollup_snapshot(store)["rollup_type_hour"].values()) == 1


def test_deleting_an_event_whose_write_was_uncertain_keeps_rollups_consistent(
    faults: Faults, sign: Signer, store: EventStore
) -> None:
    faults.mode = "partition-after-write"
    first = _deliver(sign, "msg-delete", 10)
    faults.mode = "ok"
    assert first.status == HTTPStatus.SERVICE_UNAVAILABLE
    (doc,) = store.db["events"].find({})

    assert store.delete_event(doc["_id"]) is not None

    assert store.db["events"].count_documents({}) == 0
    _assert_rollups_match_events(store)


# --- o pior caso de espera, pela configuração ------------------------------------------------


def test_worst_case_time_to_503_is_under_five_seconds_by_configuration(
    monkeypatch: pytest.MonkeyPatch, store: EventStore
) -> None:
    # Operações do MongoDB (cada uma com suas tentativas) numa entrega: contadas, não supostas.
    calls: list[str] = []
    retrying = store._retrying

    def counting(operation: str, fn: Callable[[], Any]) -> Any:
        calls.append(operation)
        return retrying(operation, fn)

    monkeypatch.setattr(store, "_retrying", counting)
    key = IdempotencyKey("webhook-id", "budget")
    store.insert_event(
        {
            "_id": key.event_id(),
            "userId": "u",
            "type": "t",
            "value": 1.0,
            "timestamp": store.now(),
            "receivedAt": store.now(),
            "bodyHash": "h",
            "ingestId": "i",
            "schemaVersion": 1,
        }
    )
    operations = len(calls)
    monkeypatch.undo()

    # Tentativas e esperas de uma operação que sempre falha, com o maior jitter possível.
    sleeps: list[float] = []
    attempts = {"n": 0}

    def always_failing() -> None:
        attempts["n"] += 1
        raise AutoReconnect("injetado")

    monkeypatch.setattr(time, "sleep", sleeps.append)
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    budget_store = EventStore(
        mongomock.MongoClient(), "budget", in_memory=True, write_attempts=settings.MONGO_WRITE_RETRIES
    )
    with pytest.raises(Exception, match="injetado"):
        budget_store._retrying("probe", always_failing)
    monkeypatch.undo()  # o cliente pymongo abaixo tem threads que dormem de verdade

    # Cada tentativa espera no máximo o prazo por operação do cliente real (CSOT, timeoutMS).
    target = create_client(
        "mongodb://127.0.0.1:1/budget",
        server_selection_timeout_ms=settings.MONGO_SERVER_SELECTION_TIMEOUT_MS,
        operation_timeout_ms=settings.MONGO_TIMEOUT_MS,
    )
    per_attempt = target.client.options.timeout
    target.client.close()

    assert per_attempt is not None, "sem timeoutMS uma operação pode esperar indefinidamente"
    worst_case = operations * (attempts["n"] * per_attempt + sum(sleeps))
    assert operations == 2  # reserva do seq + inserção
    assert attempts["n"] == settings.MONGO_WRITE_RETRIES
    assert worst_case < MAX_WAIT_SECONDS, f"pior caso {worst_case:.2f} s"


# --- reconciliação: remetentes que reenviam durante falhas ----------------------------------

MODES = ["ok", "down", "net-before-write", "wce", "partition-after-write"]


@pytest.mark.slow
@given(plan=st.lists(st.lists(st.sampled_from(MODES), min_size=1, max_size=4), min_size=1, max_size=8))
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_acknowledged_delivery_is_stored_exactly_once_after_recovery(
    faults: Faults, sign: Signer, store: EventStore, plan: list[list[str]]
) -> None:
    store.drop_all()
    acknowledged: dict[str, str] = {}
    for index, attempts in enumerate(plan):
        msg_id = f"msg-{index}"
        for mode in attempts:
            faults.mode, faults.writes_landed = mode, 0
            response = _deliver(sign, msg_id, index + 1)
            assert response.status in (HTTPStatus.OK, HTTPStatus.CREATED, HTTPStatus.SERVICE_UNAVAILABLE)
            if response.status == HTTPStatus.SERVICE_UNAVAILABLE:
                assert response.headers["Retry-After"] == str(settings.WEBHOOK_RETRY_AFTER_SECONDS)
                continue
            acknowledged[msg_id] = response.body["id"]
            break

    # Recuperação: o MongoDB volta e cada remetente reenvia o que não foi confirmado.
    faults.mode = "ok"
    for index in range(len(plan)):
        msg_id = f"msg-{index}"
        if msg_id not in acknowledged:
            response = _deliver(sign, msg_id, index + 1)
            assert response.status in (HTTPStatus.OK, HTTPStatus.CREATED)
            acknowledged[msg_id] = response.body["id"]

    stored = list(store.db["events"].find({}, {"idempotencyKey": 1}))
    assert sorted(doc["idempotencyKey"] for doc in stored) == sorted(acknowledged)
    assert {str(doc["_id"]) for doc in stored} == set(acknowledged.values())
    _assert_rollups_match_events(store)
