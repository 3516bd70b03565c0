"""mongowire: o fail point ``failCommand`` (``configureFailPoint``), com o pymongo de verdade.

Os mesmos comandos valem contra um ``mongod --setParameter enableTestCommands=1``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import (
    AutoReconnect,
    NotPrimaryError,
    OperationFailure,
    WriteConcernError,
    WTimeoutError,
)
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from devtools.mongowire import MongoWireServer

APP = "app-under-test"
WTIMEOUT = {"code": 64, "codeName": "WriteConcernFailed", "errmsg": "waiting for replication timed out"}

Client = MongoClient[dict[str, Any]]
FailPoint = Callable[..., dict[str, Any]]


class Started(CommandListener):
    """Guarda os comandos que o cliente mandou."""

    def __init__(self) -> None:
        self.commands: list[CommandStartedEvent] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.commands.append(event)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def named(self, name: str) -> list[CommandStartedEvent]:
        return [event for event in self.commands if event.command_name == name]


@pytest.fixture(scope="module")
def server() -> Iterator[MongoWireServer]:
    with MongoWireServer(replica_set="rs0") as instance:
        yield instance


@pytest.fixture
def admin(server: MongoWireServer) -> Iterator[Client]:
    """Cliente do próprio teste (outro ``appname``): configura os fail points."""
    client: Client = MongoClient(server.uri, appname="failpoint-admin", serverSelectionTimeoutMS=5000)
    yield client
    client.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
    client.close()


@pytest.fixture
def fail_point(admin: Client) -> FailPoint:
    def configure(mode: Any, **data: Any) -> dict[str, Any]:
        return admin.admin.command({"configureFailPoint": "failCommand", "mode": mode, "data": data})

    return configure


@pytest.fixture
def listener() -> Started:
    return Started()


@pytest.fixture
def app(server: MongoWireServer, listener: Started) -> Iterator[Client]:
    """O cliente "da aplicação": escritas repetíveis ligadas, como em produção."""
    client: Client = MongoClient(
        server.uri, appname=APP, retryWrites=True, serverSelectionTimeoutMS=5000, event_listeners=[listener]
    )
    yield client
    client.close()


@pytest.fixture
def db_name(admin: Client) -> Iterator[str]:
    name = f"fp_{uuid.uuid4().hex[:10]}"
    yield name
    admin.drop_database(name)


def off(fail_point: FailPoint) -> int:
    """Desliga o fail point; devolve quantas vezes ele disparou desde que o servidor subiu."""
    return int(fail_point("off")["count"])


# ---------------------------------------------------------------------- errorCode


def test_error_code_fails_the_command_without_running_it(
    app: Client, admin: Client, db_name: str, fail_point: FailPoint
) -> None:
    fail_point("alwaysOn", failCommands=["insert"], errorCode=2, appName=APP)

    with pytest.raises(OperationFailure) as failure:
        app[db_name].c.insert_one({"_id": 1})

    assert failure.value.code == 2
    assert failure.value.details is not None
    assert failure.value.details["errmsg"] == "Failing command via 'failCommand' failpoint"
    assert admin[db_name].c.count_documents({}) == 0


def test_only_the_listed_commands_fail(app: Client, db_name: str, fail_point: FailPoint) -> None:
    fail_point("alwaysOn", failCommands=["find"], errorCode=2, appName=APP)

    app[db_name].c.insert_one({"_id": 1})

    assert app[db_name].c.count_documents({}) == 1
    with pytest.raises(OperationFailure):
        app[db_name].c.find_one({"_id": 1})


def test_times_fires_that_many_times_and_switches_itself_off(app: Client, db_name: str, fail_point: FailPoint) -> None:
    before = int(fail_point({"times": 2}, failCommands=["count"], errorCode=2, appName=APP)["count"])
    outcomes = []
    for _ in range(4):
        try:
            app[db_name].command("count", "c")
            outcomes.append("ok")
        except OperationFailure:
            outcomes.append("failed")

    assert outcomes == ["failed", "failed", "ok", "ok"]
    assert off(fail_point) == before + 2


def test_skip_lets_the_first_commands_through_then_always_fires(
    app: Client, db_name: str, fail_point: FailPoint
) -> None:
    fail_point({"skip": 2}, failCommands=["count"], errorCode=2, appName=APP)
    outcomes = []
    for _ in range(4):
        try:
            app[db_name].command("count", "c")
            outcomes.append("ok")
        except OperationFailure:
            outcomes.append("failed")

    assert outcomes == ["ok", "ok", "failed", "failed"]


def test_activation_probability_zero_never_fires_and_one_always_fires(
    app: Client, db_name: str, fail_point: FailPoint
) -> None:
    fail_point({"activationProbability": 0}, failCommands=["count"], errorCode=2, appName=APP)
    app[db_name].command("count", "c")
    fail_point({"activationProbability": 1}, failCommands=["count"], errorCode=2, appName=APP)
    with pytest.raises(OperationFailure):
        app[db_name].command("count", "c")


def test_app_name_limits_the_fail_point_to_one_application(
    app: Client, admin: Client, db_name: str, fail_point: FailPoint
) -> None:
    fail_point("alwaysOn", failCommands=["insert"], errorCode=2, appName=APP)

    admin[db_name].c.insert_one({"_id": "admin"})
    with pytest.raises(OperationFailure):
        app[db_name].c.insert_one({"_id": "app"})

    assert [doc["_id"] for doc in admin[db_name].c.find()] == ["admin"]


def test_namespace_limits_the_fail_point_to_one_collection(app: Client, db_name: str, fail_point: FailPoint) -> None:
    fail_point("alwaysOn", failCommands=["insert"], errorCode=2, namespace=f"{db_name}.a", appName=APP)

    app[db_name].b.insert_one({"_id": 1})
    with pytest.raises(OperationFailure):
        app[db_name].a.insert_one({"_id": 1})


# ---------------------------------------------------------------------- rótulos e escritas repetíveis


def test_a_retryable_code_on_a_retryable_write_is_labelled_and_the_driver_retries_it(
    app: Client, listener: Started, db_name: str, fail_point: FailPoint
) -> None:
    fail_point({"times": 1}, failCommands=["insert"], errorCode=10107, appName=APP)

    app[db_name].c.insert_one({"_id": 1})

    inserts = listener.named("insert")
    assert len(inserts) == 2
    assert inserts[0].command["txnNumber"] == inserts[1].command["txnNumber"]
    assert app[db_name].c.count_documents({}) == 1


def test_error_labels_replace_the_labels_the_server_would_add(app: Client, db_name: str, fail_point: FailPoint) -> None:
    fail_point({"times": 1}, failCommands=["insert"], errorCode=10107, errorLabels=[], appName=APP)

    with pytest.raises(NotPrimaryError) as failure:
        app[db_name].c.insert_one({"_id": 1})

    assert not failure.value.has_error_label("RetryableWriteError")
    assert app[db_name].c.count_documents({}) == 0


def test_a_not_primary_error_carries_the_topology_version_so_the_primary_stays_known(
    app: Client, server: MongoWireServer, db_name: str, fail_point: FailPoint
) -> None:
    fail_point({"times": 1}, failCommands=["insert"], errorCode=10107, errorLabels=[], appName=APP)

    with pytest.raises(NotPrimaryError) as failure:
        app[db_name].c.insert_one({"_id": 1})

    assert failure.value.details is not None
    assert "topologyVersion" in failure.value.details
    assert app.primary == ("127.0.0.1", server.port)


def test_a_non_retryable_code_gets_no_label(app: Client, db_name: str, fail_point: FailPoint) -> None:
    fail_point({"times": 1}, failCommands=["insert"], errorCode=2, appName=APP)

    with pytest.raises(OperationFailure) as failure:
        app[db_name].c.insert_one({"_id": 1})

    assert not failure.value.has_error_label("RetryableWriteError")


def test_a_retried_write_gets_the_saved_reply_instead_of_running_twice(
    app: Client, listener: Started, db_name: str, fail_point: FailPoint
) -> None:
    app[db_name].c.insert_one({"_id": "n", "n": 0})
    # 262 (ExceededTimeLimit) é repetível: o driver reenvia o mesmo lsid + txnNumber.
    fail_point(
        {"times": 1},
        failCommands=["update"],
        writeConcernError={"code": 262, "errmsg": "replication is slow"},
        appName=APP,
    )

    app[db_name].c.update_one({"_id": "n"}, {"$inc": {"n": 1}})

    updates = listener.named("update")
    assert len(updates) == 2
    assert updates[0].command["txnNumber"] == updates[1].command["txnNumber"]
    assert app[db_name].c.find_one({"_id": "n"}) == {"_id": "n", "n": 1}


# ---------------------------------------------------------------------- writeConcernError


def test_write_concern_error_runs_the_write_and_then_reports_the_error(
    app: Client, admin: Client, db_name: str, fail_point: FailPoint
) -> None:
    fail_point({"times": 1}, failCommands=["insert"], writeConcernError=WTIMEOUT, appName=APP)

    with pytest.raises(WriteConcernError) as failure:
        app[db_name].c.insert_one({"_id": 1})

    assert failure.value.code == 64
    assert admin[db_name].c.find_one({"_id": 1}) == {"_id": 1}


def test_write_concern_error_with_wtimeout_is_a_wtimeout_error(
    app: Client, db_name: str, fail_point: FailPoint
) -> None:
    fail_point(
        {"times": 1},
        failCommands=["insert"],
        writeConcernError={**WTIMEOUT, "errInfo": {"wtimeout": True}},
        appName=APP,
    )

    with pytest.raises(WTimeoutError):
        app[db_name].c.insert_one({"_id": 1})


def test_write_concern_error_does_not_touch_reads(app: Client, db_name: str, fail_point: FailPoint) -> None:
    app[db_name].c.insert_one({"_id": 1})
    before = int(fail_point("alwaysOn", failCommands=["find"], writeConcernError=WTIMEOUT, appName=APP)["count"])

    assert app[db_name].c.find_one({"_id": 1}) == {"_id": 1}
    assert off(fail_point) == before


def test_error_code_wins_over_write_concern_error(
    app: Client, admin: Client, db_name: str, fail_point: FailPoint
) -> None:
    fail_point({"times": 1}, failCommands=["insert"], errorCode=2, writeConcernError=WTIMEOUT, appName=APP)

    with pytest.raises(OperationFailure) as failure:
        app[db_name].c.insert_one({"_id": 1})

    assert failure.value.code == 2
    assert admin[db_name].c.count_documents({}) == 0


# ---------------------------------------------------------------------- closeConnection e blockConnection


def test_close_connection_hangs_up_without_running_the_command(
    server: MongoWireServer, admin: Client, db_name: str, fail_point: FailPoint
) -> None:
    fail_point("alwaysOn", failCommands=["insert"], closeConnection=True, appName=APP)
    client: Client = MongoClient(server.uri, appname=APP, retryWrites=False, serverSelectionTimeoutMS=5000)
    try:
        with pytest.raises(AutoReconnect):
            client[db_name].c.insert_one({"_id": 1})
    finally:
        client.close()

    assert admin[db_name].c.count_documents({}) == 0
    assert admin.admin.command("ping")["ok"] == 1.0


def test_one_closed_connection_is_absorbed_by_the_driver_retry(
    app: Client, listener: Started, db_name: str, fail_point: FailPoint
) -> None:
    fail_point({"times": 1}, failCommands=["insert"], closeConnection=True, appName=APP)

    app[db_name].c.insert_one({"_id": 1})

    assert len(listener.named("insert")) == 2
    assert app[db_name].c.count_documents({}) == 1


def test_block_connection_alone_delays_then_runs_the_command(app: Client, db_name: str, fail_point: FailPoint) -> None:
    fail_point({"times": 1}, failCommands=["insert"], blockConnection=True, blockTimeMS=50, appName=APP)

    app[db_name].c.insert_one({"_id": 1})

    assert app[db_name].c.count_documents({}) == 1


def test_a_blocked_connection_does_not_hold_up_the_others() -> None:
    db_name = "blocking"
    server = MongoWireServer(replica_set="rs0").start()
    admin: Client = MongoClient(server.uri, appname="failpoint-admin", serverSelectionTimeoutMS=5000)
    blocked: Client = MongoClient(server.uri, appname=APP, retryWrites=False, serverSelectionTimeoutMS=5000)
    outcome: list[BaseException | None] = []

    def insert() -> None:
        try:
            blocked[db_name].c.insert_one({"_id": 1})
            outcome.append(None)
        except Exception as exc:
            outcome.append(exc)

    try:
        blocked.admin.command("ping")  # conexão aberta e aperto de mão feito (o appName vale)
        admin.admin.command(
            {
                "configureFailPoint": "failCommand",
                "mode": {"times": 1},
                "data": {"failCommands": ["insert"], "blockConnection": True, "blockTimeMS": 60_000, "appName": APP},
            }
        )
        worker = threading.Thread(target=insert)
        worker.start()
        # As outras conexões são atendidas enquanto aquela espera.
        assert admin[db_name].c.count_documents({}) == 0
        assert admin.admin.command("ping")["ok"] == 1.0
        assert worker.is_alive()
        admin.close()  # antes da parada: fechar encerra as sessões no servidor
        # Parar o servidor interrompe a espera: o cliente bloqueado vê a conexão cair.
        server.stop()
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert isinstance(outcome[0], AutoReconnect)
    finally:
        blocked.close()
        admin.close()
        server.stop()


# ---------------------------------------------------------------------- o comando em si


def test_configure_fail_point_reports_how_many_times_it_fired(app: Client, db_name: str, fail_point: FailPoint) -> None:
    before = int(fail_point("alwaysOn", failCommands=["count"], errorCode=2, appName=APP)["count"])
    for _ in range(3):
        with pytest.raises(OperationFailure):
            app[db_name].command("count", "c")

    assert off(fail_point) == before + 3


def test_configure_fail_point_is_never_failed_by_itself(fail_point: FailPoint) -> None:
    fail_point("alwaysOn", failCommands=["configureFailPoint"], errorCode=2)

    assert fail_point("off")["ok"] == 1.0


def test_configure_fail_point_only_runs_on_admin(app: Client, db_name: str) -> None:
    with pytest.raises(OperationFailure) as failure:
        app[db_name].command({"configureFailPoint": "failCommand", "mode": "off"})

    assert failure.value.code == 13


@pytest.mark.parametrize(
    ("name", "mode", "data"),
    [
        ("failCommand", "sometimes", {"failCommands": ["find"], "errorCode": 2}),
        ("failCommand", {"times": -1}, {"failCommands": ["find"], "errorCode": 2}),
        ("failCommand", "alwaysOn", {"errorCode": 2}),
        ("failCommand", "alwaysOn", {"failCommands": ["find"], "blockConnection": True}),
        ("noSuchFailPoint", "alwaysOn", {"failCommands": ["find"], "errorCode": 2}),
    ],
)
def test_bad_configurations_are_refused_with_bad_value(admin: Client, name: str, mode: Any, data: Any) -> None:
    with pytest.raises(OperationFailure) as failure:
        admin.admin.command({"configureFailPoint": name, "mode": mode, "data": data})

    assert failure.value.code == 2


def test_a_restarted_server_starts_with_the_fail_point_off() -> None:
    db_name = "restarted"
    server = MongoWireServer(replica_set="rs0").start()
    client: Client = MongoClient(server.uri, serverSelectionTimeoutMS=5000)
    try:
        with client:
            client.admin.command(
                {
                    "configureFailPoint": "failCommand",
                    "mode": "alwaysOn",
                    "data": {"failCommands": ["count"], "errorCode": 2},
                }
            )
            server.stop()
            server.start()
        # Cliente novo: a conexão do antigo ao servidor parado pode ainda estar no pool (o
        # monitor do pymongo ainda não a descartou) e um comando genérico não é repetido pelo
        # driver — foi a falha vista no CI ("connection closed"), não o fail point.
        fresh: Client = MongoClient(server.uri, serverSelectionTimeoutMS=5000)
        with fresh:
            assert fresh[db_name].command("count", "c")["n"] == 0
    finally:
        server.stop()
