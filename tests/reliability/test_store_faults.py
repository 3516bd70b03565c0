"""MongoDB fora do ar ou instável durante a ingestão: 503 rápido, nada pela metade, nada duplicado.

O caminho é o de produção inteiro — webhook, ``MongoStore``, pymongo com ``timeoutMS`` e
escritas repetíveis, pela rede até o servidor (``devtools.mongowire``). As falhas vêm do
servidor, pelo fail point ``failCommand`` (``conftest.FailPoints``), ou do servidor parado
de fato. O tempo não é medido: o pior caso até um 503 é calculado da configuração de
produção (tentativas × prazo por operação + esperas entre tentativas) e comparado com 5 s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

import httpx
import pytest
from django.conf import settings
from django.test import RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pymongo.errors import AutoReconnect

from devtools.mongowire import MongoWireServer
from events import webhook
from events.domain import EventFilter, IdempotencyKey
from events.store import StoreUnavailable
from events.store.mongo import MongoStore, connect, rollup_collections
from events.store.retry import BACKOFF_FIRST, BACKOFF_JITTER, BACKOFF_MAX, RetryPolicy
from tests.conftest import Signer, event_body
from tests.reliability.conftest import LOST_ACK, REFUSE, FailPoints, database_uri, wait_until

pytestmark = pytest.mark.django_db

URL = "/api/webhook/event"
MAX_WAIT_SECONDS = 5.0
# Comandos do caminho de ingestão: reserva do ``seq``, inserção e a releitura da deduplicação.
INGEST_COMMANDS = ["findAndModify", "insert", "find"]

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _fresh_verifiers() -> Iterator[None]:
    webhook.verifiers.cache_clear()
    yield
    webhook.verifiers.cache_clear()


def deliver(sign: Signer, msg_id: str, value: int) -> webhook.WebhookResponse:
    body = event_body(userId=f"u-{value % 3}", value=value, timestamp="2026-01-01T00:00:00Z")
    request = RequestFactory().post(URL, body, content_type="application/json", REMOTE_ADDR="10.0.0.7")
    delivery = webhook.Delivery(sign(body, msg_id=msg_id), body, "10.0.0.7", len(body), request)
    return webhook.process_delivery(delivery)


def stored(store: MongoStore) -> list[dict[str, Any]]:
    """Os documentos da coleção de eventos (lidos depois que a falha passou)."""
    return list(store.db["events"].find({}))


def rollup_snapshot(store: MongoStore) -> dict[str, dict[str, tuple[int, float]]]:
    store.flush_rollups()
    return {
        name: {row["_id"]: (row["count"], row["sum"]) for row in store.db[name].find({"count": {"$ne": 0}})}
        for name in rollup_collections()
    }


def assert_rollups_match_events(store: MongoStore) -> None:
    """As agregações mantidas na ingestão são exatamente as recalculadas a partir dos eventos."""
    maintained = rollup_snapshot(store)
    store.rebuild_rollups()
    assert maintained == rollup_snapshot(store)


def pending(store: MongoStore) -> int:
    return store.db["events"].count_documents({"rollupBatch": {"$exists": True}})


def back_up(server: MongoWireServer, store: MongoStore) -> None:
    """Sobe o servidor de novo e espera o driver da aplicação reencontrá-lo."""
    if not server.running:
        server.start()
    wait_until(store.ping, what="a reconexão ao MongoDB")


def partition_after_first_attempt(store: MongoStore, fail_points: FailPoints, sleeps: list[float]) -> None:
    """A 1ª inserção grava mas perde a confirmação; antes da 2ª tentativa, a rede cai de vez."""

    def network_falls(seconds: float) -> None:
        sleeps.append(seconds)
        fail_points.on("alwaysOn", INGEST_COMMANDS, closeConnection=True)

    fail_points.on({"times": 1}, ["insert"], **LOST_ACK)
    store.retry.sleep = network_falls


# --- 503 rápido e nada gravado ------------------------------------------------------------


@pytest.mark.parametrize("outage", ["server-stopped", "connection-closed-before-write"])
def test_unreachable_store_is_503_with_retry_after_and_nothing_written(
    request: pytest.FixtureRequest,
    fail_points: FailPoints,
    mongo_server: MongoWireServer,
    sign: Signer,
    outage: str,
) -> None:
    store: MongoStore = request.getfixturevalue("stoppable_store" if outage == "server-stopped" else "outage_store")
    if outage == "server-stopped":
        mongo_server.stop()
    else:
        fail_points.on("alwaysOn", ["insert"], closeConnection=True)

    response = deliver(sign, "msg-down", 10)

    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.body["error"] == "store_unavailable"
    assert response.headers["Retry-After"] == str(settings.WEBHOOK_RETRY_AFTER_SECONDS)
    back_up(mongo_server, store)
    fail_points.off()
    assert stored(store) == []
    assert pending(store) == 0
    assert rollup_snapshot(store) == {name: {} for name in rollup_collections()}


def test_write_concern_error_after_the_write_is_retried_into_one_event(
    app_store: MongoStore, fail_points: FailPoints, sign: Signer, sleeps: list[float]
) -> None:
    fail_points.on({"times": 1}, ["insert"], **LOST_ACK)

    response = deliver(sign, "msg-wce", 10)

    assert response.status == HTTPStatus.CREATED
    assert response.body["duplicate"] is False
    assert len(sleeps) == 1  # uma nova tentativa nossa
    assert len(stored(app_store)) == 1
    assert_rollups_match_events(app_store)


def test_write_concern_error_retried_by_the_driver_is_one_event(
    app_store: MongoStore, fail_points: FailPoints, sign: Signer, sleeps: list[float]
) -> None:
    # Código repetível: o próprio driver repete (mesmo lsid + txnNumber) e o servidor
    # responde com o resultado guardado, sem gravar de novo.
    fail_points.on({"times": 1}, ["insert"], writeConcernError={"code": 262, "errmsg": "replication is slow"})

    response = deliver(sign, "msg-wce-driver", 10)

    assert response.status == HTTPStatus.CREATED
    assert sleeps == []
    assert len(stored(app_store)) == 1
    assert_rollups_match_events(app_store)


def test_write_that_landed_before_the_network_fell_is_counted_once_after_recovery(
    outage_store: MongoStore, fail_points: FailPoints, sign: Signer, sleeps: list[float]
) -> None:
    partition_after_first_attempt(outage_store, fail_points, sleeps)

    first = deliver(sign, "msg-partition", 10)

    # O remetente não sabe se gravou: recebe 503 e reenviará.
    assert first.status == HTTPStatus.SERVICE_UNAVAILABLE
    fail_points.off()
    outage_store.retry.sleep = sleeps.append
    retry = deliver(sign, "msg-partition", 10)
    assert (retry.status, retry.body["duplicate"]) == (HTTPStatus.OK, True)
    assert len(stored(outage_store)) == 1
    # O evento gravado sem confirmação entra nas agregações uma única vez.
    assert_rollups_match_events(outage_store)
    assert sum(count for count, _sum in rollup_snapshot(outage_store)["rollup_type_hour"].values()) == 1


def test_deleting_an_event_whose_write_was_uncertain_keeps_rollups_consistent(
    outage_store: MongoStore, fail_points: FailPoints, sign: Signer, sleeps: list[float]
) -> None:
    partition_after_first_attempt(outage_store, fail_points, sleeps)
    first = deliver(sign, "msg-delete", 10)
    fail_points.off()
    assert first.status == HTTPStatus.SERVICE_UNAVAILABLE
    (doc,) = stored(outage_store)

    assert outage_store.delete_event(doc["_id"]) is not None

    assert outage_store.count_events(EventFilter()) == 0
    assert_rollups_match_events(outage_store)


# --- o pior caso de espera, pela configuração ------------------------------------------------


class CountingRetryPolicy(RetryPolicy):
    """A política de produção, anotando cada operação do MongoDB que passa por ela."""

    def __init__(self, attempts: int) -> None:
        super().__init__(attempts)
        self.operations: list[str] = []

    def run(self, operation: str, fn: Callable[[], T]) -> T:
        self.operations.append(operation)
        return super().run(operation, fn)


def test_worst_case_time_to_503_is_under_five_seconds_by_configuration(mongo_uri: str, database_name: str) -> None:
    # Operações do MongoDB (cada uma com suas tentativas) numa ingestão: contadas, não supostas.
    counting = CountingRetryPolicy(settings.MONGO_WRITE_RETRIES)
    db = connect(database_uri(mongo_uri, database_name), server_selection_timeout_ms=5000, operation_timeout_ms=5000)
    store = MongoStore(db, flush_seconds=0, retry=counting)
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
    db.client.close()
    operations = len(counting.operations)

    # Tentativas de uma operação que sempre falha, e as esperas entre elas.
    sleeps: list[float] = []
    attempts = {"n": 0}

    def always_failing() -> None:
        attempts["n"] += 1
        raise AutoReconnect("injetado")

    with pytest.raises(StoreUnavailable, match="injetado"):
        RetryPolicy(settings.MONGO_WRITE_RETRIES, sleep=sleeps.append).run("probe", always_failing)
    # O maior recuo possível antes de cada nova tentativa (jitter no máximo).
    ceilings = [min(BACKOFF_FIRST * 2**index + BACKOFF_JITTER, BACKOFF_MAX) for index in range(len(sleeps))]
    assert all(slept <= ceiling for slept, ceiling in zip(sleeps, ceilings, strict=True))

    # Cada tentativa espera no máximo o prazo por operação do cliente (CSOT, ``timeoutMS``):
    # seleção de servidor, rede e a nova tentativa interna do driver, tudo dentro dele.
    target = connect(
        "mongodb://127.0.0.1:1/budget",
        server_selection_timeout_ms=settings.MONGO_SERVER_SELECTION_TIMEOUT_MS,
        operation_timeout_ms=settings.MONGO_TIMEOUT_MS,
    )
    per_attempt = target.client.options.timeout
    target.client.close()

    assert per_attempt is not None, "sem timeoutMS uma operação pode esperar indefinidamente"
    worst_case = operations * (attempts["n"] * per_attempt + sum(ceilings))
    assert counting.operations == ["reserve_seq", "insert_event"]
    assert attempts["n"] == settings.MONGO_WRITE_RETRIES
    assert worst_case < MAX_WAIT_SECONDS, f"pior caso {worst_case:.2f} s"


# --- pelo caminho HTTP (ASGI) ---------------------------------------------------------------


@pytest.mark.parametrize("outage", ["server-stopped", "primary-refuses-every-insert"])
async def test_store_down_is_503_with_retry_after_and_nothing_stored(
    request: pytest.FixtureRequest,
    asgi_client: httpx.AsyncClient,
    fail_points: FailPoints,
    mongo_server: MongoWireServer,
    sign: Signer,
    outage: str,
) -> None:
    store: MongoStore = request.getfixturevalue("stoppable_store" if outage == "server-stopped" else "outage_store")
    before = 0
    if outage == "server-stopped":
        mongo_server.stop()
    else:
        before = fail_points.on("alwaysOn", ["insert"], **REFUSE)
    body = event_body()

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "store_unavailable"
    if outage != "server-stopped":
        assert fail_points.off() - before == settings.MONGO_WRITE_RETRIES
    back_up(mongo_server, store)
    assert stored(store) == []


async def test_lost_acknowledgement_is_retried_and_still_created(
    asgi_client: httpx.AsyncClient,
    app_store: MongoStore,
    fail_points: FailPoints,
    sign: Signer,
    sleeps: list[float],
) -> None:
    before = fail_points.on({"times": 1}, ["insert"], **LOST_ACK)
    body = event_body()

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["duplicate"] is False
    assert fail_points.off() - before == 1
    assert len(sleeps) == 1  # duas tentativas: a que gravou sem confirmação e a que achou o evento
    assert len(stored(app_store)) == 1


# --- reconciliação: remetentes que reenviam durante falhas ----------------------------------

# ``down`` e ``net-before-write`` usam a recusa do primário (10107, sem rótulo de repetição):
# falha na hora, sem gastar o prazo inteiro por tentativa como a rede caída e o servidor
# parado (cobertos acima). ``wce``: grava e perde a confirmação; ``partition-after-write``:
# grava, perde a confirmação e a rede cai antes da 2ª tentativa.
MODES = ["ok", "down", "net-before-write", "wce", "partition-after-write"]


@dataclass
class Faults:
    """Aplica um modo de falha antes de cada tentativa de entrega do remetente."""

    fail_points: FailPoints
    store: MongoStore
    sleeps: list[float] = field(default_factory=list)

    def apply(self, mode: str) -> None:
        self.store.retry.sleep = self.sleeps.append
        self.fail_points.off()
        if mode == "down":
            self.fail_points.on("alwaysOn", INGEST_COMMANDS, **REFUSE)
        elif mode == "net-before-write":
            self.fail_points.on("alwaysOn", ["insert"], **REFUSE)
        elif mode == "wce":
            self.fail_points.on("alwaysOn", ["insert"], **LOST_ACK)
        elif mode == "partition-after-write":
            self.fail_points.on({"times": 1}, ["insert"], **LOST_ACK)
            self.store.retry.sleep = self._network_falls

    def _network_falls(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.fail_points.on("alwaysOn", INGEST_COMMANDS, **REFUSE)


@pytest.mark.slow
@given(plan=st.lists(st.lists(st.sampled_from(MODES), min_size=1, max_size=4), min_size=1, max_size=8))
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_acknowledged_delivery_is_stored_exactly_once_after_recovery(
    app_store: MongoStore, fail_points: FailPoints, sign: Signer, plan: list[list[str]]
) -> None:
    faults = Faults(fail_points, app_store)
    faults.apply("ok")
    app_store.drop_all()
    acknowledged: dict[str, str] = {}
    for index, attempts in enumerate(plan):
        msg_id = f"msg-{index}"
        for mode in attempts:
            faults.apply(mode)
            response = deliver(sign, msg_id, index + 1)
            assert response.status in (HTTPStatus.OK, HTTPStatus.CREATED, HTTPStatus.SERVICE_UNAVAILABLE)
            if response.status == HTTPStatus.SERVICE_UNAVAILABLE:
                assert response.headers["Retry-After"] == str(settings.WEBHOOK_RETRY_AFTER_SECONDS)
                continue
            acknowledged[msg_id] = response.body["id"]
            break

    # Recuperação: o MongoDB volta e cada remetente reenvia o que não foi confirmado.
    faults.apply("ok")
    for index in range(len(plan)):
        msg_id = f"msg-{index}"
        if msg_id not in acknowledged:
            response = deliver(sign, msg_id, index + 1)
            assert response.status in (HTTPStatus.OK, HTTPStatus.CREATED)
            acknowledged[msg_id] = response.body["id"]

    docs = list(app_store.db["events"].find({}, {"idempotencyKey": 1}))
    assert sorted(doc["idempotencyKey"] for doc in docs) == sorted(acknowledged)
    assert {str(doc["_id"]) for doc in docs} == set(acknowledged.values())
    assert_rollups_match_events(app_store)
