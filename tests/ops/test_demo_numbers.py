"""Os números da demo conferem com a listagem: a aplicação de verdade, janelas sorteadas.

Sobe ``manage.py demo`` (outro processo, sem feed ao vivo, o histórico sintético da
demo), sorteia janelas com bordas em segundos quaisquer nos 30 dias semeados (às vezes
com filtro de tipo ou de usuário) e confere que o resumo — totais, por tipo, usuários
ativos e os rankings — é exatamente o que percorrer ``GET /api/events`` com os mesmos
``from``/``to`` dá.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "senha-da-demo-123"
DAYS = 30
TOP = 5
STARTUP_DEADLINE = 120.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, datetime]]:
    tmp = tmp_path_factory.mktemp("demo-numbers")
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
        "DJANGO_DEBUG": "true",
        "MONGO_URI": "mongomock://localhost/trader_monitor_demo_numbers",
        "REDIS_URL": "",
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "WEBHOOK_SECRET": "",
        "DEMO_ADMIN_PASSWORD": PASSWORD,
        "API_RATE_LIMITS_ENABLED": "false",
    }
    seeded_at = datetime.now(UTC)
    with (tmp / "demo.log").open("w") as log:
        process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "demo", "--port", str(port), "--no-live", "--days", str(DAYS)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    try:
        deadline = time.monotonic() + STARTUP_DEADLINE
        while True:
            assert process.poll() is None, (tmp / "demo.log").read_text()
            try:
                if client.get("/api/health").status_code == HTTPStatus.OK:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "a demo não subiu a tempo"
            time.sleep(0.3)
        login = client.post("/api/auth/login", json={"username": "admin", "password": PASSWORD})
        assert login.status_code == HTTPStatus.OK, login.text
        client.headers["Authorization"] = f"Bearer {login.json()['access']}"
        yield client, seeded_at
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _all_events(client: httpx.Client, params: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
    first = client.get("/api/events", params={**params, "limit": "500"})
    assert first.status_code == HTTPStatus.OK, first.text
    body = first.json()
    total, events = body["total"], list(body["results"])
    cursor = body["nextCursor"]
    while cursor:
        page = client.get("/api/events", params={"cursor": cursor, "limit": "500"}).json()
        events += page["results"]
        cursor = page["nextCursor"]
    return total, events


def _close(left: float, right: float) -> bool:
    return math.isclose(left, right, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    start_seconds=st.integers(min_value=0, max_value=DAYS * 86400),
    span_seconds=st.integers(min_value=1, max_value=8 * 86400),
    filter_kind=st.sampled_from(["none", "none", "type", "user"]),
    data=st.data(),
)
def test_summary_equals_paging_the_list_for_random_windows_over_the_demo_data(
    demo_api: tuple[httpx.Client, datetime], start_seconds: int, span_seconds: int, filter_kind: str, data: Any
) -> None:
    client, seeded_at = demo_api
    start = seeded_at.replace(microsecond=0) - timedelta(seconds=start_seconds)
    params = {"from": _iso(start), "to": _iso(start + timedelta(seconds=span_seconds))}
    if filter_kind == "type":
        params["type"] = data.draw(st.sampled_from(["purchase", "deposit", "login", "withdraw"]), label="type")
    elif filter_kind == "user":
        params["userId"] = data.draw(st.sampled_from(["trader-0001", "trader-0002", "trader-0017"]), label="userId")

    total, events = _all_events(client, params)
    summary = client.get("/api/events/summary", params={**params, "top": str(TOP)}).json()

    by_type: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    by_user: dict[str, list[Any]] = defaultdict(lambda: [0, 0.0])
    for event in events:
        for table, key in ((by_type, event["type"]), (by_user, event["userId"])):
            table[key][0] += 1
            table[key][1] += event["value"]
    assert len(events) == total == summary["totals"]["count"]
    assert summary["window"] == {"from": params["from"].replace("Z", ".000Z"), "to": params["to"].replace("Z", ".000Z")}
    assert {row["type"]: row["count"] for row in summary["byType"]} == {k: v[0] for k, v in by_type.items()}
    assert all(_close(row["sum"], by_type[row["type"]][1]) for row in summary["byType"])
    assert summary["totals"]["activeUsers"] == len(by_user)
    assert _close(summary["totals"]["sum"], sum(value for _, value in by_type.values()))
    by_value = sorted(by_user.items(), key=lambda item: (-item[1][1], item[0]))[:TOP]
    by_count = sorted(by_user.items(), key=lambda item: (-item[1][0], item[0]))[:TOP]
    assert [row["count"] for row in summary["topUsersByCount"]] == [count for _, (count, _) in by_count]
    assert [row["userId"] for row in summary["topUsersByCount"]] == [user for user, _ in by_count]
    assert [row["userId"] for row in summary["topUsersByValue"]] == [user for user, _ in by_value]
    assert all(_close(row["sum"], by_user[row["userId"]][1]) for row in summary["topUsersByValue"])
    assert all(row["sum"] <= summary["totals"]["sum"] + 1e-6 for row in summary["topUsersByValue"] if row["sum"] >= 0)
