"""O remetente contra um receptor HTTP de verdade: tentativas, agenda, assinatura e desativação."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from events.alerts.models import NotificationEndpoint
from events.alerts.outbox import enqueue_alert_deliveries
from events.alerts.sender import Sender, attempt_outcome, retry_delay
from events.store import EventStore
from tests.notifications.conftest import Clock, Receiver

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_private")]


def _alert(alert_id: str = "al-1", **extra: Any) -> dict[str, Any]:
    return {
        "id": alert_id,
        "ruleId": 3,
        "ruleName": "Saque alto",
        "kind": "threshold",
        "severity": "critical",
        "userId": "trader-0007",
        "eventIds": ["65f0c0ffee0000000000abcd"],
        "triggeredAt": "2026-12-01T12:00:00.000Z",
        "state": "open",
        "ackBy": None,
        "ackAt": None,
        "message": "Saque de R$ 9.000,00 acima do limite de R$ 5.000,00.",
        **extra,
    }


def _endpoint(receiver: Receiver, url: str | None = None) -> NotificationEndpoint:
    endpoint = NotificationEndpoint.objects.create(url=url or receiver.url, description="teste")
    receiver.secret = endpoint.secret
    return endpoint


def _sender(clock: Clock, owner: str = "s1") -> Sender:
    return Sender(clock=clock, rng=random.Random(7), owner=owner)


def _only_delivery(store: EventStore, endpoint: NotificationEndpoint) -> dict[str, Any]:
    rows = store.list_deliveries(endpoint_id=endpoint.pk)
    assert len(rows) == 1
    return rows[0]


def test_a_500_then_a_timeout_are_retried_on_schedule_and_the_third_attempt_delivers(
    receiver: Receiver, clock: Clock, store: EventStore
) -> None:
    endpoint = _endpoint(receiver)
    receiver.script = [500, "timeout", 204]
    enqueue_alert_deliveries(_alert(), [endpoint.pk])
    sender = _sender(clock)
    started = clock.now

    assert sender.run_once() == 1
    first = _only_delivery(store, endpoint)
    assert first["status"] == "pending"
    assert timedelta(seconds=4) <= first["nextAttemptAt"] - started <= timedelta(seconds=6)
    assert sender.run_once() == 0  # ainda não venceu

    clock.advance(6)
    assert sender.run_once() == 1
    second = _only_delivery(store, endpoint)
    assert second["status"] == "pending"
    assert "timeout" in second["attempts"][1]["error"]
    assert timedelta(seconds=24) <= second["nextAttemptAt"] - clock.now <= timedelta(seconds=36)

    clock.advance(36)
    assert sender.run_once() == 1
    final = _only_delivery(store, endpoint)
    assert final["status"] == "delivered"
    assert final["nextAttemptAt"] is None
    assert [attempt.get("statusCode") for attempt in final["attempts"]] == [500, None, 204]
    # Três POSTs da mesma entrega, todos com assinatura válida e o mesmo webhook-id.
    assert len(receiver.received) == 3
    assert {item.webhook_id for item in receiver.received} == {str(final["_id"])}
    assert all(item.payload is not None for item in receiver.received)
    payload = receiver.received[-1].payload
    assert payload == {"type": "alert.triggered", "timestamp": "2026-12-01T12:00:00.000Z", "data": _alert()}


def test_connection_refused_is_retried_with_an_error_and_no_status(
    closed_port: int, receiver: Receiver, clock: Clock, store: EventStore
) -> None:
    endpoint = _endpoint(receiver, url=f"http://127.0.0.1:{closed_port}/hook")
    enqueue_alert_deliveries(_alert(), [endpoint.pk])

    _sender(clock).run_once()

    delivery = _only_delivery(store, endpoint)
    assert delivery["status"] == "pending"
    assert "statusCode" not in delivery["attempts"][0]
    assert "ConnectError" in delivery["attempts"][0]["error"]


@override_settings(NOTIFY_RETRY_SCHEDULE=[5, 30])
def test_after_the_last_scheduled_retry_the_delivery_is_marked_failed(
    receiver: Receiver, clock: Clock, store: EventStore
) -> None:
    endpoint = _endpoint(receiver)
    receiver.default = 503
    enqueue_alert_deliveries(_alert(), [endpoint.pk])
    sender = _sender(clock)

    for _ in range(5):
        sender.run_once()
        clock.advance(60)

    delivery = _only_delivery(store, endpoint)
    assert delivery["status"] == "failed"
    assert [attempt["statusCode"] for attempt in delivery["attempts"]] == [503, 503, 503]
    assert len(receiver.received) == 3
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1


@pytest.mark.parametrize(("status", "outcome"), [(400, "failed"), (404, "failed"), (410, "failed"), (301, "failed")])
def test_client_errors_and_redirects_fail_at_once(
    receiver: Receiver, clock: Clock, store: EventStore, status: int, outcome: str
) -> None:
    endpoint = _endpoint(receiver)
    receiver.default = status
    enqueue_alert_deliveries(_alert(), [endpoint.pk])

    _sender(clock).run_once()

    delivery = _only_delivery(store, endpoint)
    assert delivery["status"] == outcome
    assert len(delivery["attempts"]) == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
def test_rate_limits_request_timeouts_and_server_errors_are_retried(
    receiver: Receiver, clock: Clock, store: EventStore, status: int
) -> None:
    endpoint = _endpoint(receiver)
    receiver.default = status
    enqueue_alert_deliveries(_alert(), [endpoint.pk])

    _sender(clock).run_once()

    assert _only_delivery(store, endpoint)["status"] == "pending"


def test_outcome_and_schedule_rules(settings: Any) -> None:
    rng = random.Random(1)
    schedule = [5, 30, 120, 600, 3600, 21600]
    # A agenda padrão é a da issue: 5 s, 30 s, 2 min, 10 min, 1 h, 6 h.
    assert schedule == settings.NOTIFY_RETRY_SCHEDULE

    assert [attempt_outcome(code) for code in (200, 204, 299)] == ["delivered"] * 3
    assert [attempt_outcome(code) for code in (408, 429, 500, 599)] == ["retry"] * 4
    assert [attempt_outcome(code) for code in (301, 400, 401, 403, 404, 422)] == ["failed"] * 6
    delays = [retry_delay(n, schedule=schedule, rng=rng) for n in range(1, 8)]
    assert delays[-1] is None
    for delay, base in zip(delays[:-1], schedule, strict=True):
        assert delay is not None
        assert base * 0.8 <= delay <= base * 1.2


@override_settings(NOTIFY_DISABLE_AFTER=2)
def test_an_endpoint_is_disabled_after_n_consecutive_failed_deliveries(
    receiver: Receiver, clock: Clock, store: EventStore
) -> None:
    endpoint = _endpoint(receiver)
    receiver.default = 400
    sender = _sender(clock)

    enqueue_alert_deliveries(_alert("a1"), [endpoint.pk])
    sender.run_once()
    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.consecutive_failures) == (True, 1)

    enqueue_alert_deliveries(_alert("a2"), [endpoint.pk])
    sender.run_once()
    endpoint.refresh_from_db()

    assert endpoint.enabled is False
    assert endpoint.consecutive_failures == 2
    assert endpoint.disabled_at is not None
    assert "2" in endpoint.disabled_reason
    assert enqueue_alert_deliveries(_alert("a3"), [endpoint.pk]) == 0


@override_settings(NOTIFY_DISABLE_AFTER=2)
def test_a_delivered_notification_resets_the_failure_count(receiver: Receiver, clock: Clock, store: EventStore) -> None:
    endpoint = _endpoint(receiver)
    receiver.script = [400, 200, 400]
    sender = _sender(clock)

    for alert_id in ("a1", "a2", "a3"):
        enqueue_alert_deliveries(_alert(alert_id), [endpoint.pk])
        sender.run_once()

    endpoint.refresh_from_db()
    assert endpoint.enabled is True
    assert endpoint.consecutive_failures == 1


def test_pending_deliveries_of_a_deleted_endpoint_fail_without_sending(
    receiver: Receiver, clock: Clock, store: EventStore
) -> None:
    endpoint = _endpoint(receiver)
    enqueue_alert_deliveries(_alert(), [endpoint.pk])
    endpoint_id = endpoint.pk
    endpoint.delete()

    _sender(clock).run_once()

    (delivery,) = store.list_deliveries(endpoint_id=endpoint_id)
    assert delivery["status"] == "failed"
    assert delivery["attempts"][0]["error"] == "destino removido"
    assert receiver.received == []


@pytest.mark.django_db(transaction=True)  # as threads dos remetentes leem o destino gravado
def test_two_senders_never_send_the_same_delivery_twice(receiver: Receiver, clock: Clock, store: EventStore) -> None:
    endpoint = _endpoint(receiver)
    for number in range(20):
        enqueue_alert_deliveries(_alert(f"a{number}"), [endpoint.pk])
    senders = [_sender(clock, owner="left"), _sender(clock, owner="right")]
    barrier = threading.Barrier(2)

    def work(sender: Sender) -> None:
        barrier.wait()
        sender.run_once()

    threads = [threading.Thread(target=work, args=(sender,)) for sender in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    ids = [item.webhook_id for item in receiver.received]
    assert len(ids) == 20
    assert len(set(ids)) == 20
    assert {row["status"] for row in store.list_deliveries(endpoint_id=endpoint.pk)} == {"delivered"}


def test_a_claimed_delivery_waits_for_the_lease_before_another_sender_takes_it(
    receiver: Receiver, clock: Clock, store: EventStore
) -> None:
    endpoint = _endpoint(receiver)
    enqueue_alert_deliveries(_alert(), [endpoint.pk])
    crashed, other = _sender(clock, owner="crashed"), _sender(clock, owner="other")

    assert crashed.claim() is not None  # e cai antes de enviar
    assert other.run_once() == 0
    clock.advance(crashed.lease_seconds + 1)
    assert other.run_once() == 1

    assert len(receiver.received) == 1
    assert _only_delivery(store, endpoint)["status"] == "delivered"


def test_enqueueing_only_targets_enabled_endpoints_and_is_idempotent(receiver: Receiver, store: EventStore) -> None:
    active = _endpoint(receiver)
    paused = NotificationEndpoint.objects.create(url=receiver.url, enabled=False)

    first = enqueue_alert_deliveries(_alert(), [active.pk, paused.pk, 999_999])
    again = enqueue_alert_deliveries(_alert(), [active.pk])

    assert (first, again) == (1, 0)
    assert store.count_deliveries(endpoint_id=active.pk) == 1
    assert store.count_deliveries(endpoint_id=paused.pk) == 0
    assert enqueue_alert_deliveries(_alert("outro"), []) == 0


@pytest.fixture
def active_endpoint(receiver: Receiver) -> NotificationEndpoint:
    return _endpoint(receiver)


async def test_enqueueing_never_raises_even_when_called_wrongly_from_async_code(
    active_endpoint: NotificationEndpoint, store: EventStore
) -> None:
    failures = REGISTRY.get_sample_value("trader_monitor_notification_enqueue_failures_total") or 0.0

    # Do laço de eventos o ORM recusa (SynchronousOnlyOperation): conta como falha, sem derrubar quem chamou.
    created = enqueue_alert_deliveries(_alert(), [active_endpoint.pk])

    assert created == 0
    assert REGISTRY.get_sample_value("trader_monitor_notification_enqueue_failures_total") == failures + 1
    assert store.count_deliveries(endpoint_id=active_endpoint.pk) == 0
