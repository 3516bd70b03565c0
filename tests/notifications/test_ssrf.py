"""Proteção contra SSRF: destinos não públicos recusados no cadastro e no envio."""

from __future__ import annotations

import ipaddress
import random
from http import HTTPStatus

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from events.alerts.models import NotificationEndpoint
from events.alerts.outbox import enqueue_alert_deliveries
from events.alerts.sender import Sender
from events.alerts.ssrf import address_is_public
from events.store import EventStore
from tests.notifications.conftest import Clock, Receiver

pytestmark = pytest.mark.django_db

BASE = "/api/notification-endpoints"
REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://10.0.0.5/hook",
    "http://172.16.4.4/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fd00::1]/hook",
    "http://[fe80::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:169.254.169.254]/hook",
    "http://[64:ff9b::a9fe:a9fe]/hook",
    "http://[2002:7f00:1::]/hook",
    "http://2130706433/hook",
    "http://0x7f000001/hook",
    "https://localhost/hook",
    "https://LOCALHOST./hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_non_public_destinations_are_refused_with_400_naming_url(staff: APIClient, url: str) -> None:
    response = staff.post(BASE, {"url": url}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    assert "url" in response.json()["fields"]
    assert not NotificationEndpoint.objects.exists()


def test_a_name_that_does_not_resolve_is_refused(staff: APIClient) -> None:
    response = staff.post(BASE, {"url": "https://nao-existe.invalid/hook"}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "url" in response.json()["fields"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://[::1]/hook", "https://localhost/hook"])
def test_private_destinations_are_accepted_with_notify_allow_private(staff: APIClient, url: str) -> None:
    with override_settings(NOTIFY_ALLOW_PRIVATE=True):
        response = staff.post(BASE, {"url": url}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["url"] == url


def test_private_destinations_are_accepted_in_debug(staff: APIClient) -> None:
    with override_settings(DEBUG=True):
        response = staff.post(BASE, {"url": "http://127.0.0.1:8000/demo/receiver/"}, format="json")

    assert response.status_code == HTTPStatus.CREATED


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2001:4860:4860::8888", "2606:4700::1111"])
def test_global_unicast_addresses_are_public(address: str) -> None:
    assert address_is_public(ipaddress.ip_address(address))


def test_the_address_is_checked_again_when_sending(receiver: Receiver, clock: Clock, store: EventStore) -> None:
    # Cadastrado quando era permitido; no envio o nome resolve para loopback e não é mais.
    endpoint = NotificationEndpoint.objects.create(url=f"http://localhost:{receiver.port}/hook")
    enqueue_alert_deliveries({"id": "al-1", "message": "x"}, [endpoint.pk])

    Sender(clock=clock, rng=random.Random(1)).run_once()

    (delivery,) = store.list_deliveries(endpoint_id=endpoint.pk)
    assert delivery["status"] == "failed"
    assert "não público" in delivery["attempts"][0]["error"]
    assert receiver.received == []
