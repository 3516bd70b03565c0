"""Admin dos destinos: aviso de destino desativado, entregas em modo leitura e SSRF no formulário."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

import pytest
from django.test import Client

from events.alerts.models import NotificationEndpoint
from events.store import EventStore
from tests.accounts.factories import make_user

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/alerts/notificationendpoint/"


@pytest.fixture
def admin_client() -> Client:
    user = make_user("chefe", staff=True)
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    client = Client()
    client.force_login(user)
    return client


def test_the_list_warns_about_endpoints_disabled_by_failures(admin_client: Client) -> None:
    NotificationEndpoint.objects.create(url="https://93.184.215.14/ok", description="bom")
    NotificationEndpoint.objects.create(
        url="https://93.184.215.14/ruim",
        description="ruim",
        enabled=False,
        consecutive_failures=5,
        disabled_at=datetime.now(UTC),
        disabled_reason="5 entregas seguidas falharam.",
    )

    html = admin_client.get(LIST_URL).content.decode()

    assert "1 destino(s) desativado(s) por falhas seguidas" in html
    assert "desativado por falhas" in html


def test_deliveries_are_shown_read_only_with_their_attempts(admin_client: Client, store: EventStore) -> None:
    endpoint = NotificationEndpoint.objects.create(url="https://93.184.215.14/ok")
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    store.enqueue_deliveries({"id": "al-<b>"}, [endpoint.pk], now=now)
    claimed = store.claim_delivery(now=now, lease_seconds=60, owner="t")
    assert claimed is not None
    store.finish_delivery_attempt(
        claimed["_id"],
        owner="t",
        attempt={"at": now, "statusCode": 204, "durationMs": 8},
        status="delivered",
        next_attempt_at=None,
        now=now,
    )

    response = admin_client.get(f"{LIST_URL}{endpoint.pk}/deliveries/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert "al-&lt;b&gt;" in html
    assert "HTTP 204" in html
    assert "delivered" in html
    assert admin_client.get(f"{LIST_URL}999/deliveries/").status_code == HTTPStatus.NOT_FOUND


def test_the_form_refuses_private_urls(admin_client: Client) -> None:
    response = admin_client.post(f"{LIST_URL}add/", {"url": "http://169.254.169.254/", "description": "x"})

    assert response.status_code == HTTPStatus.OK  # o formulário volta com o erro
    assert "não público" in response.content.decode()
    assert not NotificationEndpoint.objects.exists()


def test_analysts_do_not_reach_the_deliveries(store: EventStore) -> None:
    endpoint = NotificationEndpoint.objects.create(url="https://93.184.215.14/ok")
    client = Client()
    client.force_login(make_user("ana"))

    response = client.get(f"{LIST_URL}{endpoint.pk}/deliveries/")

    assert response.status_code == HTTPStatus.FOUND  # para o login do admin
