"""Agregações à prova de queda: depois de um ``kill -9`` no meio da ingestão, um processo novo
recupera os lotes pendentes e os resumos batem com o oráculo (issue 14, item 4).

* Um processo de verdade (``crash_loader.py``, o ``MongoStore`` de produção com o gravador
  em segundo plano) é morto com SIGKILL no meio da carga; o MongoDB (mongowire) roda em
  outro processo. Um ``MongoStore`` novo recupera e os totais por tipo e por usuário de
  várias janelas (``decompose`` + ``group``) são conferidos com um oráculo em Python
  calculado dos eventos gravados.
* No mesmo processo, determinísticos: lote aplicado duas vezes (parcialmente, ou inteiro e
  sem a baixa), documento que chegou depois do seu lote, dono ainda vivo gravando num lote
  que outro processo recuperou, e lotes de atrasados aplicados fora de ordem.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
from bson import ObjectId

from events.buckets import HOUR, ceil_to, decompose
from events.domain import EventDocument, EventFilter
from events.store.contract import GroupBy
from events.store.mongo import MongoStore, connect, rollup_collections
from events.store.retry import RetryPolicy
from events.windows import Window
from tests.reliability.conftest import REFUSE, TIMEOUT_MS, FailPoints, database_uri, wait_until

ROOT = Path(__file__).resolve().parents[2]
# Fora do alinhamento com minutos e horas, para exercitar as pontas das janelas.
NOW = ceil_to(datetime.now(UTC), HOUR) + timedelta(minutes=37, seconds=12, milliseconds=345)
LATER = NOW + timedelta(minutes=5)  # o relógio de quem recupera: os lotes de NOW já são velhos
RECOVERY = timedelta(minutes=1)

Totals = dict[str, tuple[int, float]]


# --- oráculo ---------------------------------------------------------------------------------


def windows(now: datetime) -> list[Window]:
    """Janelas de tamanhos e pontas variadas (todas passam por baldes de algum nível)."""
    return [
        Window(now - timedelta(minutes=15), now),
        Window(now - timedelta(hours=1), now),
        Window(now - timedelta(hours=24), now),
        Window(now - timedelta(days=7), now),
        Window(now - timedelta(days=30), now),
        Window(now - timedelta(hours=50, minutes=7, seconds=13), now - timedelta(hours=3, seconds=17)),
        Window(now - timedelta(days=6, hours=5), now - timedelta(days=1, minutes=59)),
    ]


def from_rollups(store: MongoStore, window: Window, now: datetime, by: GroupBy) -> Totals:
    merged: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    for segment in decompose(window, now=now):
        for row in store.group(segment, by=by, event_filter=EventFilter()):
            merged[row["key"]][0] += row["count"]
            merged[row["key"]][1] += row["sum"]
    return {key: (count, total) for key, (count, total) in merged.items() if count}


def from_events(events: list[dict[str, Any]], window: Window, by: GroupBy) -> Totals:
    merged: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    for event in events:
        if window.contains(event["timestamp"]):
            merged[event[by]][0] += 1
            merged[event[by]][1] += event["value"]
    return {key: (count, total) for key, (count, total) in merged.items()}


def assert_summaries_match_oracle(store: MongoStore, now: datetime) -> None:
    """Por tipo e por usuário, em cada janela: o que as agregações dizem = o que os eventos dizem."""
    events = list(store.iter_events(EventFilter()))
    assert events, "sem eventos gravados, o teste não prova nada"
    for window in windows(now):
        for by in ("type", "userId"):
            assert from_rollups(store, window, now, by) == from_events(events, window, by), (window, by)


def pending(store: MongoStore) -> int:
    return store.db["events"].count_documents({"rollupBatch": {"$exists": True}})


def rollup_counts(store: MongoStore) -> dict[str, int]:
    return {name: sum(row["count"] for row in store.db[name].find({})) for name in rollup_collections()}


# --- kill -9 de um processo de verdade -------------------------------------------------------


def spawn(*args: str) -> subprocess.Popen[str]:
    # Só o interpretador atual com módulos deste repositório.
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(sig)
    process.wait(timeout=30)


@pytest.fixture
def mongowire_process() -> Iterator[str]:
    """O MongoDB (mongowire) no seu próprio processo; devolve a URI."""
    server = spawn("devtools.mongowire", "--port", "0", "--replica-set", "rs0")
    try:
        assert server.stdout is not None
        uri = server.stdout.readline().strip()
        assert uri.startswith("mongodb://"), "o mongowire não subiu"
        yield uri
    finally:
        stop(server, signal.SIGTERM)


def test_summaries_after_a_kill_9_mid_ingest_equal_the_oracle_once_a_new_process_recovers(
    mongowire_process: str,
) -> None:
    uri = urlsplit(mongowire_process)._replace(path="/crash").geturl()
    loader = spawn("tests.reliability.crash_loader", uri, "14")
    try:
        assert loader.stdout is not None
        progress = 0
        while progress < 300:
            line = loader.stdout.readline()
            assert line, "o processo de carga terminou antes da hora"
            progress = int(line.split()[1])
    finally:
        # No meio da carga: inserções, remoções e lotes de agregação em andamento.
        stop(loader, signal.SIGKILL)
    assert loader.returncode == -signal.SIGKILL

    store = MongoStore(
        connect(uri, server_selection_timeout_ms=TIMEOUT_MS, operation_timeout_ms=TIMEOUT_MS),
        flush_seconds=0,
        recovery_seconds=1,
    )
    try:
        left_pending = pending(store)

        def recovered() -> bool:
            store.recover_rollups()
            return pending(store) == 0

        # Só lotes com mais de ``recovery_seconds`` contam como abandonados: espera-os envelhecer.
        wait_until(recovered, timeout=60, what="a recuperação dos lotes do processo morto")

        assert left_pending > 0, "o processo morreu sem lotes pendentes: a recuperação não foi exercitada"
        assert_summaries_match_oracle(store, datetime.now(UTC))
    finally:
        store.db.client.close()


# --- no mesmo processo, determinísticos ------------------------------------------------------

SAMPLES = [
    ("purchase", "u1", 10.0, timedelta(minutes=5)),
    ("purchase", "u2", 25.0, timedelta(minutes=47)),
    ("login", "u1", 0.0, timedelta(hours=3)),
    ("deposit", "u3", 100.0, timedelta(hours=30)),
    ("purchase", "u3", -5.0, timedelta(days=4)),
    ("withdraw", "u2", 40.0, timedelta(days=12)),
]


def make_event(event_type: str, user: str, value: float, age: timedelta) -> EventDocument:
    doc: dict[str, Any] = {
        "_id": ObjectId(),
        "userId": user,
        "type": event_type,
        "value": value,
        "timestamp": NOW - age,
        "receivedAt": NOW,
        "bodyHash": "h",
        "ingestId": str(ObjectId()),
        "schemaVersion": 1,
    }
    return cast(EventDocument, doc)


@pytest.fixture
def make_store(mongo_uri: str, database_name: str) -> Iterator[Callable[..., MongoStore]]:
    """Um "processo" (``MongoStore`` com cliente, dono de lotes e relógio próprios) no mesmo banco."""
    created: list[MongoStore] = []

    def build(clock: datetime = NOW) -> MongoStore:
        db = connect(
            database_uri(mongo_uri, database_name),
            server_selection_timeout_ms=TIMEOUT_MS,
            operation_timeout_ms=TIMEOUT_MS,
        )
        store = MongoStore(
            db,
            flush_seconds=0,
            recovery_seconds=RECOVERY.total_seconds(),
            clock=lambda: clock,
            retry=RetryPolicy(3, sleep=lambda seconds: None),
        )
        created.append(store)
        return store

    yield build
    for store in created:
        store.db.client.close()


def ingest(store: MongoStore, samples: list[tuple[str, str, float, timedelta]] = SAMPLES) -> list[ObjectId]:
    ids = []
    for sample in samples:
        doc = make_event(*sample)
        store.insert_event(doc)
        ids.append(doc["_id"])
    return ids


@pytest.mark.parametrize("record", ["kept", "expired"])
def test_a_batch_applied_but_not_finished_is_counted_once_by_recovery(
    make_store: Callable[..., MongoStore], record: str
) -> None:
    owner = make_store()
    ids = ingest(owner)
    owner.flush_rollups()
    # A queda entre aplicar os deltas e dar baixa nos documentos: eles continuam marcados.
    batch = f"{owner.rollups.clock.owner}:1"
    owner.db["events"].update_many({"_id": {"$in": ids}}, {"$set": {"rollupBatch": batch, "batchedAt": NOW}})
    if record == "expired":  # o registro do lote some com o TTL (processo morto há mais de 7 dias)
        owner.db["rollup_batches"].delete_one({"_id": batch})

    survivor = make_store(clock=LATER)
    survivor.recover_rollups()

    assert pending(survivor) == 0
    assert rollup_counts(survivor)["rollup_type_day"] == len(SAMPLES)
    assert_summaries_match_oracle(survivor, LATER)


def test_a_batch_partially_applied_before_the_crash_is_counted_once_by_recovery(
    make_store: Callable[..., MongoStore], fail_points: FailPoints
) -> None:
    owner = make_store()
    ingest(owner)
    # As duas primeiras coleções de agregação recebem o lote; a terceira falha — e o
    # processo "morre" ali (o objeto é abandonado sem nova tentativa).
    fail_points.on({"skip": 2}, ["update"], **REFUSE)
    with pytest.raises(Exception, match="rollups_write"):
        owner.flush_rollups()
    fail_points.off()
    partial = rollup_counts(owner)
    assert 0 < sum(partial.values()) < len(SAMPLES) * len(rollup_collections())

    survivor = make_store(clock=LATER)
    survivor.recover_rollups()

    assert pending(survivor) == 0
    assert rollup_counts(survivor)["rollup_type_day"] == len(SAMPLES)
    assert rollup_counts(survivor)["rollup_user_day"] == len(SAMPLES)
    assert_summaries_match_oracle(survivor, LATER)


def test_a_batch_claimed_but_never_written_is_counted_by_recovery(
    make_store: Callable[..., MongoStore], fail_points: FailPoints
) -> None:
    owner = make_store()
    ingest(owner)
    fail_points.on("alwaysOn", ["update"], **REFUSE)
    with pytest.raises(Exception, match="rollups_write"):
        owner.flush_rollups()
    fail_points.off()
    assert sum(rollup_counts(owner).values()) == 0

    survivor = make_store(clock=LATER)
    survivor.recover_rollups()

    assert pending(survivor) == 0
    assert_summaries_match_oracle(survivor, LATER)


def test_a_write_that_landed_after_its_batch_was_applied_is_counted_once_by_recovery(
    make_store: Callable[..., MongoStore],
) -> None:
    owner = make_store()
    ingest(owner)
    owner.flush_rollups()
    # Gravação incerta do lote 1 que só chegou ao banco depois do lote aplicado.
    late = dict(make_event("purchase", "u9", 7.0, timedelta(minutes=9)))
    late |= {"seq": 999, "rollupBatch": f"{owner.rollups.clock.owner}:1", "batchedAt": NOW}
    owner.db["events"].insert_one(late)

    survivor = make_store(clock=LATER)
    survivor.recover_rollups()
    survivor.recover_rollups()

    assert pending(survivor) == 0
    assert rollup_counts(survivor)["rollup_type_day"] == len(SAMPLES) + 1
    assert_summaries_match_oracle(survivor, LATER)


def test_an_owner_still_writing_to_a_batch_another_process_recovered_loses_nothing(
    make_store: Callable[..., MongoStore],
) -> None:
    # O dono ficou parado mais que ``ROLLUP_RECOVERY_SECONDS`` com o lote aberto: outro
    # processo o recupera; o dono volta e continua gravando no mesmo lote.
    owner = make_store()
    ingest(owner)
    other = make_store(clock=LATER)
    assert other.recover_rollups() == len(SAMPLES)

    ingest(owner)  # os mesmos baldes e chaves: os mesmos documentos de agregação
    owner.flush_rollups()

    assert pending(owner) == 0
    assert rollup_counts(owner)["rollup_type_day"] == 2 * len(SAMPLES)
    assert_summaries_match_oracle(owner, NOW)


def test_late_writes_whose_recovery_failed_are_counted_after_a_later_recovery_succeeded(
    make_store: Callable[..., MongoStore], fail_points: FailPoints, database_name: str
) -> None:
    # Dois lotes aplicados, cada um com um documento atrasado no mesmo balde; a recuperação
    # do primeiro falha no meio, a do segundo dá certo, e só depois o primeiro é recuperado.
    owner = make_store()
    ingest(owner, SAMPLES[:1])
    owner.flush_rollups()
    ingest(owner, SAMPLES[1:2])
    owner.flush_rollups()
    for number in (1, 2):
        late = dict(make_event("purchase", "u1", float(number), timedelta(minutes=6)))
        late |= {"rollupBatch": f"{owner.rollups.clock.owner}:{number}", "batchedAt": NOW}
        owner.db["events"].insert_one(late)

    clock = {"now": LATER}
    recoverer = make_store(clock=LATER)
    recoverer.now = lambda: clock["now"]
    fail_points.on({"times": 3}, ["update"], namespace=f"{database_name}.rollup_type_hour", **REFUSE)
    with pytest.raises(Exception, match="rollups_write"):
        recoverer.recover_rollups()  # lote 1: o atrasado vai para um lote novo, que falha
    fail_points.off()
    recoverer.recover_rollups()  # lote 2: o atrasado dele conta
    clock["now"] = LATER + 2 * RECOVERY
    recoverer.recover_rollups()  # o lote que falhou, agora velho

    assert pending(recoverer) == 0
    assert rollup_counts(recoverer)["rollup_type_hour"] == 4
    assert_summaries_match_oracle(recoverer, clock["now"])
