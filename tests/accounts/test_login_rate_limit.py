"""Limites de login e cadastro: por IP+usuário (e login também por IP); excesso → 429 + Retry-After."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import PASSWORD, WRONG, bearer_client, make_user
from tests.conftest import RatelimitClock

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"


@pytest.fixture
def limits(settings: Any) -> dict[str, str]:
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {
        "default": "1000/m",
        "auth-login": "3/m",
        "auth-login-ip": "5/m",
        "auth-register": "2/h",
    }
    rates: dict[str, str] = settings.API_RATE_LIMITS
    return rates


def _login(username: str, password: str | None = None, ip: str = "10.1.1.1") -> Any:
    body = {"username": username, "password": password or WRONG}
    return APIClient().post(LOGIN, body, format="json", REMOTE_ADDR=ip)


def test_fourth_attempt_for_the_same_user_and_ip_gets_429(limits: dict[str, str]) -> None:
    make_user("ana")

    attempts = [_login("ana").status_code for _ in range(3)]
    blocked = _login("ana", PASSWORD)

    assert attempts == [HTTPStatus.UNAUTHORIZED] * 3
    assert blocked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert blocked.json()["error"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert "access" not in blocked.json()


def test_username_case_does_not_dodge_the_limit(limits: dict[str, str]) -> None:
    for name in ("ana", "ANA", "Ana"):
        _login(name)

    assert _login("aNa").status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_other_users_and_other_ips_are_not_blocked(limits: dict[str, str]) -> None:
    make_user("ana")
    make_user("bia")
    for _ in range(4):
        _login("ana")

    assert _login("bia", PASSWORD).status_code == HTTPStatus.OK
    assert _login("ana", PASSWORD, ip="10.9.9.9").status_code == HTTPStatus.OK


def test_one_ip_cycling_through_usernames_hits_the_per_ip_limit(limits: dict[str, str]) -> None:
    statuses = [_login(f"user{n}").status_code for n in range(6)]

    assert statuses == [HTTPStatus.UNAUTHORIZED] * 5 + [HTTPStatus.TOO_MANY_REQUESTS]


def test_the_limit_resets_after_the_window(limits: dict[str, str], ratelimit_clock: RatelimitClock) -> None:
    make_user("ana")
    for _ in range(4):
        _login("ana")
    blocked = _login("ana", PASSWORD)
    ratelimit_clock.shift(61)

    allowed = _login("ana", PASSWORD)

    assert blocked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert allowed.status_code == HTTPStatus.OK


def test_register_is_limited_per_ip_and_username(limits: dict[str, str], settings: Any) -> None:
    settings.ALLOW_SIGNUP = True
    body = {"username": "novo", "password": "short"}

    statuses = [APIClient().post("/api/auth/register", body, format="json").status_code for _ in range(3)]

    assert statuses == [HTTPStatus.BAD_REQUEST, HTTPStatus.BAD_REQUEST, HTTPStatus.TOO_MANY_REQUESTS]


def test_disabled_route_limit_means_no_limit(limits: dict[str, str], settings: Any) -> None:
    settings.API_RATE_LIMITS = {**limits, "auth-login": "off", "auth-login-ip": ""}

    statuses = {_login("ana").status_code for _ in range(8)}

    assert statuses == {HTTPStatus.UNAUTHORIZED}


def test_staff_registering_many_users_counts_per_new_username(limits: dict[str, str]) -> None:
    staff = bearer_client(make_user("admin", staff=True))

    statuses = [
        staff.post("/api/auth/register", {"username": f"novo{n}", "password": PASSWORD}, format="json").status_code
        for n in range(4)
    ]

    assert statuses == [HTTPStatus.CREATED] * 4
