"""``manage.py seed`` e o gerador sintético: determinismo, contagens, faixas e usuários."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from events import selectors
from events.domain import EventFilter
from events.store import EventStore
from events.synthetic import EVENT_TYPES, LOCAL_TZ, TICKERS, history_documents
from events.windows import Window

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 15, 30, tzinfo=UTC)


def seed(*args: str, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def events(store: EventStore) -> list[dict[str, Any]]:
    return list(store.iter_events(EventFilter()))


def test_same_seed_generates_identical_documents_and_another_seed_does_not() -> None:
    first = list(history_documents(seed=7, events=400, days=30, users=50, now=NOW))
    again = list(history_documents(seed=7, events=400, days=30, users=50, now=NOW))
    other = list(history_documents(seed=8, events=400, days=30, users=50, now=NOW))

    assert first == again
    assert [doc["_id"] for doc in first] != [doc["_id"] for doc in other]
    assert [doc["value"] for doc in first] != [doc["value"] for doc in other]


def test_seed_stores_exactly_the_requested_events_inside_the_window(store: EventStore) -> None:
    seed("--events", "900", "--days", "10", "--users", "40", "--seed", "3", "--no-users")

    docs = events(store)
    assert len(docs) == 900
    assert all(NOW - timedelta(days=10) <= doc["timestamp"] <= NOW for doc in docs)
    assert all(doc["timestamp"] <= doc["receivedAt"] <= NOW for doc in docs)
    users = {doc["userId"] for doc in docs}
    assert len(users) <= 40
    assert all(re.fullmatch(r"trader-00([0-3][0-9]|40)", user) for user in users)
    assert {doc["type"] for doc in docs} <= set(EVENT_TYPES)


def test_values_follow_each_event_type(store: EventStore) -> None:
    seed("--events", "1500", "--seed", "5", "--no-users")

    by_type: dict[str, list[dict[str, Any]]] = {}
    for doc in events(store):
        by_type.setdefault(doc["type"], []).append(doc)
    assert set(by_type) == set(EVENT_TYPES)
    assert all(doc["value"] == 0 for kind in ("login", "logout") for doc in by_type[kind])
    for kind in ("purchase", "sell"):
        for doc in by_type[kind]:
            meta = doc["metadata"]
            assert meta["asset"] in TICKERS
            assert doc["value"] == pytest.approx(meta["quantity"] * meta["price"], abs=0.01)
            assert meta["quantity"] < 100 or meta["quantity"] % 100 == 0
    assert all(doc["value"] > 0 for kind in ("deposit", "withdraw") for doc in by_type[kind])
    assert all(doc["metadata"]["channel"] in {"mobile", "web", "api"} for docs in by_type.values() for doc in docs)


def test_a_few_heavy_traders_generate_most_of_the_activity(store: EventStore) -> None:
    seed("--events", "3000", "--users", "100", "--seed", "11", "--no-users")

    per_user = Counter(doc["userId"] for doc in events(store))
    top_decile = sum(count for _, count in per_user.most_common(10))
    assert top_decile / 3000 > 0.35


def test_activity_peaks_in_sao_paulo_business_hours_and_drops_on_weekends(store: EventStore) -> None:
    seed("--events", "3000", "--days", "28", "--seed", "13", "--no-users")

    local = [doc["timestamp"].astimezone(LOCAL_TZ) for doc in events(store)]
    trading_hours = sum(1 for moment in local if 10 <= moment.hour < 18)
    night = sum(1 for moment in local if moment.hour < 6)
    weekend = sum(1 for moment in local if moment.weekday() >= 5)
    assert trading_hours / len(local) > 0.5
    assert night / len(local) < 0.05
    # 8 de 28 dias são fim de semana (~29% se fosse uniforme).
    assert weekend / len(local) < 0.12


def test_rerunning_with_the_same_seed_does_not_duplicate(store: EventStore) -> None:
    seed("--events", "500", "--seed", "21", "--no-users")
    output, _ = seed("--events", "500", "--seed", "21", "--no-users")

    assert len(events(store)) == 500
    assert "0 eventos gravados (500 já existiam)" in output


def test_reset_replaces_the_history(store: EventStore) -> None:
    seed("--events", "300", "--seed", "1", "--no-users")

    seed("--events", "200", "--seed", "2", "--no-users", "--reset")

    assert len(events(store)) == 200


def test_rollups_are_rebuilt_so_the_summary_counts_the_seeded_history(store: EventStore) -> None:
    seed("--events", "700", "--days", "30", "--seed", "9", "--no-users")

    summary = selectors.summary_compute(window=Window(NOW - timedelta(days=31), NOW), top=5, now=NOW)

    assert summary["totals"]["count"] == 700
    assert sum(row["count"] for row in summary["byType"]) == 700
    assert summary["totals"]["activeUsers"] == len({doc["userId"] for doc in events(store)})


def test_progress_bar_is_off_when_output_is_not_a_terminal() -> None:
    _, quiet = seed("--events", "50", "--no-users")
    _, forced = seed("--events", "50", "--no-users", "--progress", "on")

    assert quiet == ""
    assert "eventos" in forced
    assert "50/50" in forced


def test_seed_creates_an_admin_and_analysts_and_prints_each_password_once() -> None:
    output, _ = seed("--events", "0", "--analysts", "2")

    passwords = dict(re.findall(r"Usuário (\S+) \(\w+\) criado — senha: (\S+)", output))
    assert set(passwords) == {"admin", "analyst1", "analyst2"}
    admin = authenticate(username="admin", password=passwords["admin"])
    analyst = authenticate(username="analyst1", password=passwords["analyst1"])
    assert admin is not None
    assert admin.is_staff
    assert admin.is_superuser
    assert analyst is not None
    assert not analyst.is_staff

    again, _ = seed("--events", "0", "--analysts", "2")

    assert "senha:" not in again
    assert authenticate(username="admin", password=passwords["admin"]) is not None


def test_passwords_come_from_options_or_environment_and_reset_applies_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEED_ANALYST_PASSWORD", "analista-do-ambiente-123")
    seed("--events", "0", "--analysts", "1", "--admin-password", "admin-da-opcao-123")

    assert authenticate(username="admin", password="admin-da-opcao-123") is not None
    assert authenticate(username="analyst1", password="analista-do-ambiente-123") is not None

    seed("--events", "0", "--analysts", "1", "--admin-password", "outra-senha-456", "--reset")

    assert authenticate(username="admin", password="outra-senha-456") is not None
    assert get_user_model().objects.filter(username__in=["admin", "analyst1"]).count() == 2


def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(CommandError, match="--days"):
        seed("--days", "0", "--no-users")
