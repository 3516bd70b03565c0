"""O ciclo da demo: destino semeado → remetente → receptor embutido que confere a assinatura."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from events.alerts import receiver as demo_receiver_module
from events.alerts.demo import DEMO_RULES, demo_notifications_seed
from events.alerts.models import AlertRule, NotificationEndpoint
from events.alerts.outbox import enqueue_alert_deliveries
from events.alerts.sender import Sender, payload_build, signed_headers
from events.store import EventStore
from tests.accounts.factories import make_user
from tests.notifications.conftest import Clock

ALERT = {"id": "al-demo", "ruleName": "Saque alto", "message": "Saque de R$ 3.000,00 ≥ R$ 2.500,00."}


@pytest.mark.django_db(transaction=True)  # o servidor de teste roda em outra thread
def test_the_seeded_endpoint_gets_a_signed_delivery_that_the_builtin_receiver_verifies(
    live_server: Any, clock: Clock, store: EventStore
) -> None:
    with override_settings(DEBUG=True):
        endpoint = demo_notifications_seed(base_url=live_server.url)
        enqueue_alert_deliveries(ALERT, [endpoint.pk])

        Sender(clock=clock, rng=random.Random(3)).run_once()

        (delivery,) = store.list_deliveries(endpoint_id=endpoint.pk)
        assert delivery["status"] == "delivered", delivery["attempts"]
        latest = demo_receiver_module.received()[0]
        assert latest["verified"] is True
        assert latest["webhookId"] == str(delivery["_id"])
        assert latest["alertId"] == "al-demo"


@pytest.mark.django_db
def test_the_demo_seeds_rules_that_notify_its_endpoint_and_seeding_twice_changes_nothing() -> None:
    first = demo_notifications_seed(base_url="http://127.0.0.1:8000")
    second = demo_notifications_seed(base_url="http://127.0.0.1:8000")

    assert first.pk == second.pk
    assert NotificationEndpoint.objects.count() == 1
    assert first.url == "http://127.0.0.1:8000/demo/receiver/"
    rules = AlertRule.objects.filter(notify=first)
    assert sorted(rule.name for rule in rules) == sorted(str(spec["name"]) for spec in DEMO_RULES)


@pytest.mark.django_db
def test_the_receiver_refuses_a_bad_signature_and_does_not_exist_outside_debug() -> None:
    endpoint = NotificationEndpoint.objects.create(url="http://127.0.0.1:8000/demo/receiver/")
    delivery = {"_id": "msg_1", "alert": ALERT, "createdAt": None}
    body = payload_build(delivery)
    good = signed_headers(secret=endpoint.secret, delivery_id="msg_1", body=body, moment=datetime.now(UTC))
    forged = {**good, "webhook-signature": "v1,AAAA"}
    malformed = [{**good, "webhook-signature": "v1,AA"}, {**good, "webhook-signature": "semvirgula"}]
    client = Client()

    def post(headers: dict[str, str]) -> int:
        return client.post("/demo/receiver/", body, content_type="application/json", headers=headers).status_code

    assert post(good) == HTTPStatus.NOT_FOUND
    with override_settings(DEBUG=True):
        assert post(forged) == HTTPStatus.UNAUTHORIZED
        assert [post(headers) for headers in malformed] == [HTTPStatus.UNAUTHORIZED] * 2
        assert post(good) == HTTPStatus.OK
        assert client.get("/demo/receiver/").status_code == HTTPStatus.FORBIDDEN
        client.force_login(make_user("chefe", staff=True))
        assert client.get("/demo/receiver/").json()["received"][0]["verified"] is True


@pytest.mark.django_db
def test_the_command_sends_what_is_due_and_exits_with_once(store: EventStore) -> None:
    with override_settings(DEBUG=True):
        endpoint = NotificationEndpoint.objects.create(url="http://127.0.0.1:9/closed")
    enqueue_alert_deliveries(ALERT, [endpoint.pk])

    with override_settings(NOTIFY_ALLOW_PRIVATE=True):
        call_command("deliver_notifications", "--once")

    (delivery,) = store.list_deliveries(endpoint_id=endpoint.pk)
    assert len(delivery["attempts"]) == 1
    assert delivery["status"] == "pending"  # conexão recusada: nova tentativa agendada
