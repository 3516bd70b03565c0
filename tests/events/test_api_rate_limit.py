"""Limite global da API (por usuário, ou por IP sem login) e limites por rota."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import bearer_client, make_user
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings: Any) -> Any:
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {"default": "3/m"}
    return settings


def test_an_authenticated_user_is_limited_across_api_routes(limits: Any) -> None:
    client = bearer_client(make_user("ana"))

    statuses = [client.get(url).status_code for url in ("/api/events", "/api/events/summary", "/api/auth/me")]
    blocked = client.get("/api/events")

    assert statuses == [HTTPStatus.OK] * 3
    assert blocked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert blocked.json() == {
        "error": "rate_limited",
        "detail": f"Limite de requisições excedido; tente novamente em {blocked.headers['Retry-After']} s.",
    }
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60


def test_users_are_counted_separately(limits: Any) -> None:
    ana, bia = bearer_client(make_user("ana")), bearer_client(make_user("bia"))
    for _ in range(4):
        ana.get("/api/events")

    assert bia.get("/api/events").status_code == HTTPStatus.OK


def test_anonymous_requests_are_counted_per_ip(limits: Any) -> None:
    def refresh(ip: str) -> int:
        return APIClient().post("/api/auth/refresh", {"refresh": "x"}, format="json", REMOTE_ADDR=ip).status_code

    first_ip = [refresh("10.0.0.7") for _ in range(4)]

    assert first_ip == [HTTPStatus.UNAUTHORIZED] * 3 + [HTTPStatus.TOO_MANY_REQUESTS]
    assert refresh("10.0.0.8") == HTTPStatus.UNAUTHORIZED


def test_ipv6_clients_in_the_same_slash_64_share_a_counter(limits: Any) -> None:
    def refresh(ip: str) -> int:
        return APIClient().post("/api/auth/refresh", {"refresh": "x"}, format="json", REMOTE_ADDR=ip).status_code

    for suffix in range(3):
        refresh(f"2001:db8:1:2::{suffix + 1}")

    assert refresh("2001:db8:1:2::ffff") == HTTPStatus.TOO_MANY_REQUESTS
    assert refresh("2001:db8:1:3::1") == HTTPStatus.UNAUTHORIZED


def test_a_route_can_have_its_own_limit(limits: Any) -> None:
    limits.API_RATE_LIMITS = {"default": "100/m", "events-summary": "1/m"}
    client = bearer_client(make_user("ana"))

    summaries = [client.get("/api/events/summary").status_code for _ in range(2)]

    assert summaries == [HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    assert client.get("/api/events").status_code == HTTPStatus.OK


def test_a_route_limit_can_be_switched_off(limits: Any) -> None:
    limits.API_RATE_LIMITS = {"default": "1/m", "events-list": "off"}
    client = bearer_client(make_user("ana"))

    assert {client.get("/api/events").status_code for _ in range(5)} == {HTTPStatus.OK}


def test_limits_can_be_switched_off_globally(limits: Any) -> None:
    limits.API_RATE_LIMITS_ENABLED = False
    client = bearer_client(make_user("ana"))

    assert {client.get("/api/events").status_code for _ in range(5)} == {HTTPStatus.OK}


def test_the_webhook_is_not_under_the_global_api_limit(limits: Any, sign: Signer) -> None:
    client = APIClient()

    statuses = []
    for n in range(5):
        body = event_body(value=float(n))
        response = client.post("/api/webhook/event", body, content_type="application/json", headers=sign(body))
        statuses.append(response.status_code)

    assert statuses == [HTTPStatus.CREATED] * 5
