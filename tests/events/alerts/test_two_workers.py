"""Exatamente uma vez com dois processos: as mesmas entregas, ao mesmo tempo, em dois workers.

Dois processos de verdade (``alert_worker.py``), cada um com o ``MongoStore`` de produção
falando com o mesmo MongoDB (o ``devtools.mongowire``, ou ``TEST_MONGO_URI``) e o mesmo banco
relacional (um arquivo SQLite com as regras). Cada entrega vai aos dois workers, em ordens
opostas e 4 threads por worker: um grava o evento (201), o outro recebe a duplicata (200), e
cada (regra, usuário, gatilho) vira exatamente um alerta — inclusive a sequência cujo par
chega a processos diferentes e a rajada de frequência avaliada fora de ordem.

Fase 1: o histórico (depósitos pequenos). Fase 2: os gatilhos.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from pymongo import MongoClient

from events.domain import IdempotencyKey
from events.synthetic import signed_headers
from events.windows import isoformat

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
USERS = ["u1", "u2", "u3", "u4"]
SMALL_DEPOSITS = [100.0, 101.0, 99.0, 100.0, 102.0, 98.0]


def delivery(msg_id: str, payload: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(payload, separators=(",", ":"))
    return {
        "id": msg_id,
        "body": body,
        "headers": signed_headers(secret=settings.WEBHOOK_SECRETS[0], body=body, msg_id=msg_id),
    }


def event_id(msg_id: str) -> str:
    return str(IdempotencyKey("webhook-id", msg_id).event_id())


def phases(now: datetime) -> list[list[dict[str, Any]]]:
    run = uuid.uuid4().hex[:8]

    def item(user: str, name: str, type: str, value: float, at: timedelta) -> dict[str, Any]:
        payload = {"userId": user, "type": type, "value": value, "timestamp": isoformat(now - at)}
        return delivery(f"msg_{run}_{user}_{name}", payload)

    history = [
        item(user, f"dep{index}", "deposit", value, timedelta(minutes=60 - index))
        for user in USERS
        for index, value in enumerate(SMALL_DEPOSITS)
    ]
    triggers = []
    for user in USERS:
        triggers += [
            item(user, "big_deposit", "deposit", 10_000.0, timedelta(minutes=10)),
            item(user, "withdraw", "withdraw", 9_500.0, timedelta(minutes=8)),
            *(
                item(user, f"fail{index}", "login_failed", 0.0, timedelta(minutes=5, seconds=-10 * index))
                for index in range(4)
            ),
        ]
    return [history, triggers]


@pytest.fixture
def shared_env(tmp_path: Path, mongodb_uri: str) -> Iterator[dict[str, str]]:
    database = f"two_workers_{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "MONGO_URI": urlsplit(mongodb_uri)._replace(path=f"/{database}").geturl(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rules.sqlite3'}",
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "ERROR",
    }
    yield env
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    client.drop_database(database)
    client.close()


def start_worker(env: dict[str, str], path: Path) -> subprocess.Popen[str]:
    worker = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "tests.events.alerts.alert_worker", "run", str(path)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


def step(workers: list[subprocess.Popen[str]]) -> list[list[int]]:
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    results = []
    for worker in workers:
        assert worker.stdout is not None
        results.append(json.loads(worker.stdout.readline()))
    return results


def test_each_rule_user_and_trigger_alerts_exactly_once_across_two_workers(
    shared_env: dict[str, str], tmp_path: Path
) -> None:
    setup = subprocess.run(
        [sys.executable, "-m", "tests.events.alerts.alert_worker", "setup"],
        cwd=ROOT,
        env=shared_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    rules: dict[str, int] = json.loads(setup.stdout.strip().splitlines()[-1])
    plan = phases(datetime.now(UTC))
    forward, backward = tmp_path / "forward.json", tmp_path / "backward.json"
    forward.write_text(json.dumps(plan))
    backward.write_text(json.dumps([list(reversed(phase)) for phase in plan]))

    workers = [start_worker(shared_env, forward), start_worker(shared_env, backward)]
    try:
        statuses = [step(workers) for _phase in plan]
    finally:
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("quit\n")
            worker.stdin.flush()
            worker.wait(timeout=60)

    for phase, (first, second) in zip(plan, statuses, strict=True):
        # O 2º worker recebeu a fase em ordem inversa.
        for item, mine, theirs in zip(phase, first, reversed(second), strict=True):
            assert sorted([mine, theirs]) == [200, 201], item["id"]

    client: MongoClient[dict[str, Any]] = MongoClient(shared_env["MONGO_URI"], tz_aware=True)
    try:
        stored = list(client.get_default_database()["alerts"].find())
    finally:
        client.close()
    by_rule_user = Counter((alert["ruleId"], alert["userId"]) for alert in stored)
    assert by_rule_user == Counter({(rule_id, user): 1 for rule_id in rules.values() for user in USERS})

    run = plan[1][0]["id"].split("_")[1]
    for alert in stored:
        user, events = alert["userId"], [str(item) for item in alert["eventIds"]]

        def ids(*names: str) -> list[str]:
            return [event_id(f"msg_{run}_{user}_{name}") for name in names]  # noqa: B023

        if alert["ruleId"] == rules["threshold"]:
            assert events == ids("withdraw")
        elif alert["ruleId"] == rules["anomaly"]:
            assert events == ids("big_deposit")
        elif alert["ruleId"] == rules["sequence"]:
            assert events == ids("big_deposit", "withdraw")
        else:
            assert events[0] in ids("fail2", "fail3")
        assert alert["state"] == "open"
