"""Avaliação na ingestão: webhook assinado → alerta gravado e difundido; reenvios não avaliam; nada quebra a ingestão.

O webhook roda pelo caminho ASGI real, cuja gravação acontece nas threads do armazenamento:
as regras precisam estar confirmadas no banco (``transaction=True``) para essas threads as verem.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from events import webhook
from events.alerts.cache import RuleCache, rule_cache
from events.alerts.domain import AlertFilter
from events.alerts.models import AlertRule
from events.domain import EventFilter
from events.store import EventStore
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/webhook/event"


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    webhook.verifiers.cache_clear()
    rule_cache.invalidate()
    yield
    rule_cache.invalidate()


def alerts(store: EventStore, **filters: Any) -> list[dict[str, Any]]:
    return store.list_alerts(AlertFilter(**filters), limit=100)


def make_rule(**fields: Any) -> AlertRule:
    defaults: dict[str, Any] = {
        "name": "Saque alto",
        "kind": "threshold",
        "severity": "critical",
        "event_type": "withdraw",
        "op": ">",
        "threshold": 5000,
        "cooldown_seconds": 0,
    }
    return AlertRule.objects.create(**(defaults | fields))


async def test_a_signed_webhook_over_the_threshold_raises_and_broadcasts_one_alert(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    rule = await sync_to_async(make_rule)()
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add("events", channel)
    body = event_body(userId="u-7", type="withdraw", value=9500)

    response = await asgi_client.post(URL, content=body, headers=sign(body, msg_id="msg_alert"))
    first = await asyncio.wait_for(layer.receive(channel), timeout=2)
    second = await asyncio.wait_for(layer.receive(channel), timeout=2)

    assert response.status_code == HTTPStatus.CREATED
    (stored,) = alerts(store)
    assert stored["ruleId"] == rule.id
    assert [str(event_id) for event_id in stored["eventIds"]] == [response.json()["id"]]
    assert stored["message"] == "Saque de 9.500,00 de u-7 acima do limite de 5.000,00 (regra «Saque alto»)"
    assert first["type"] == "event.new"
    assert second["type"] == "alert.new"
    assert second["alert"]["id"] == str(stored["_id"])
    assert second["alert"]["severity"] == "critical"


async def test_replays_and_events_below_the_threshold_raise_nothing(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    await sync_to_async(make_rule)()
    body = event_body(userId="u-7", type="withdraw", value=9500)
    small = event_body(userId="u-7", type="withdraw", value=50)

    created = await asgi_client.post(URL, content=body, headers=sign(body, msg_id="msg_once"))
    replay = await asgi_client.post(URL, content=body, headers=sign(body, msg_id="msg_once"))
    below = await asgi_client.post(URL, content=small, headers=sign(small))

    assert (created.status_code, replay.status_code, below.status_code) == (201, 200, 201)
    assert len(alerts(store)) == 1


async def test_a_broken_rule_never_fails_ingest(
    asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore, metric: Callable[..., float]
) -> None:
    # Gravada direto no banco, sem a validação da API: um operador que não existe.
    broken = await sync_to_async(make_rule)(name="quebrada", op="")
    good = await sync_to_async(make_rule)(name="boa", threshold=100)
    before = metric("trader_monitor_alert_rule_errors_total", kind="threshold")
    body = event_body(userId="u-1", type="withdraw", value=500)

    response = await asgi_client.post(URL, content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.CREATED
    assert store.get_event(store.list_events(EventFilter(), sort_field="timestamp", descending=True, limit=1)[0]["_id"])
    assert [alert["ruleId"] for alert in alerts(store)] == [good.id]
    assert metric("trader_monitor_alert_rule_errors_total", kind="threshold") == before + 1
    assert broken.id not in [alert["ruleId"] for alert in alerts(store)]


def test_the_drf_webhook_view_evaluates_too(sign: Signer, store: EventStore) -> None:
    make_rule()
    body = event_body(userId="u-3", type="withdraw", value=7000)

    response = deliver(APIClient(), body, sign(body))

    assert response.status_code == HTTPStatus.CREATED
    assert [alert["userId"] for alert in alerts(store)] == ["u-3"]


def test_rules_saved_in_this_process_apply_at_once_and_disabled_rules_never_fire(
    sign: Signer, store: EventStore
) -> None:
    client = APIClient()
    first = event_body(userId="u-1", type="withdraw", value=7000)
    assert deliver(client, first, sign(first)).status_code == 201
    assert alerts(store) == []

    rule = make_rule()
    second = event_body(userId="u-2", type="withdraw", value=7000)
    deliver(client, second, sign(second))
    rule.enabled = False
    rule.save()
    third = event_body(userId="u-3", type="withdraw", value=7000)
    deliver(client, third, sign(third))

    assert [alert["userId"] for alert in alerts(store)] == ["u-2"]


def test_a_change_made_by_another_worker_is_seen_after_the_recheck_interval(sign: Signer, store: EventStore) -> None:
    rule = make_rule()
    client = APIClient()
    body = event_body(userId="u-1", type="withdraw", value=7000)
    deliver(client, body, sign(body))

    # Outro processo muda a regra: nenhum sinal chega aqui, só a mudança no banco.
    with override_settings(ALERT_RULES_RECHECK_SECONDS=3600):
        AlertRule.objects.filter(id=rule.id).update(threshold=100_000, updated_at=rule.updated_at.replace(year=2030))
        stale = event_body(userId="u-2", type="withdraw", value=7000)
        deliver(client, stale, sign(stale))
    with override_settings(ALERT_RULES_RECHECK_SECONDS=0):
        fresh = event_body(userId="u-3", type="withdraw", value=7000)
        deliver(client, fresh, sign(fresh))

    assert sorted(alert["userId"] for alert in alerts(store)) == ["u-1", "u-2"]


def deliver(client: APIClient, body: bytes, headers: dict[str, str]) -> Any:
    """O webhook pela view DRF (mesma rota), no cliente de testes do Django."""
    signed = {name: value for name, value in headers.items() if name != "content-type"}
    return client.post(URL, body, content_type="application/json", headers=signed)


def test_the_raised_alert_is_served_by_the_api(sign: Signer, store: EventStore, analyst: APIClient) -> None:
    make_rule()
    body = event_body(userId="u-5", type="withdraw", value=6000)
    created = deliver(APIClient(), body, sign(body))

    listed = analyst.get("/api/alerts?userId=u-5").json()["results"]

    assert len(listed) == 1
    assert listed[0]["eventIds"] == [created.json()["id"]]
    assert analyst.get(f"/api/alerts/{listed[0]['id']}").json() == listed[0]


def test_unreadable_rules_keep_the_cached_ones_and_log_once_per_interval(
    sign: Signer, store: EventStore, caplog: pytest.LogCaptureFixture, metric: Callable[..., float]
) -> None:
    make_rule()
    client = APIClient()
    first = event_body(userId="u-1", type="withdraw", value=7000)
    deliver(client, first, sign(first))
    before = metric("trader_monitor_alert_rule_errors_total", kind="rules")

    with override_settings(ALERT_RULES_RECHECK_SECONDS=3600), connection.cursor() as cursor:
        cursor.execute("ALTER TABLE alerts_alertrule RENAME TO alerts_alertrule_away")
        try:
            rule_cache.invalidate()
            for user in ("u-2", "u-3", "u-4"):
                body = event_body(userId=user, type="withdraw", value=7000)
                response = deliver(client, body, sign(body))
                assert response.status_code == HTTPStatus.CREATED
        finally:
            cursor.execute("ALTER TABLE alerts_alertrule_away RENAME TO alerts_alertrule")

    assert sorted(alert["userId"] for alert in alerts(store)) == ["u-1", "u-2", "u-3", "u-4"]
    assert metric("trader_monitor_alert_rule_errors_total", kind="rules") == before + 1
    assert len([record for record in caplog.records if record.name == "events.alerts.cache"]) == 1


def test_threads_arriving_during_the_first_load_wait_for_the_rules() -> None:
    rule = make_rule()
    fresh = RuleCache()
    barrier = threading.Barrier(8)

    def read(_: int) -> tuple[int, ...]:
        barrier.wait()
        return tuple(spec.id for spec in fresh.watching("withdraw"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        seen = list(pool.map(read, range(8)))

    assert seen == [(rule.id,)] * 8
