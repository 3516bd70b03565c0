"""Cadastro aberto (``ALLOW_SIGNUP``): limites por IP e no total, além do limite por IP+usuário.

Antes, só o limite por IP+usuário valia: trocando o nome, um IP criou 25 contas em segundos.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

import trader_monitor.settings as production
from accounts.models import User
from tests.accounts.factories import bearer_client, make_user
from tests.conftest import RatelimitClock

pytestmark = pytest.mark.django_db

URL = "/api/auth/register"
PASSWORD = "uma-senha-bem-longa-9137"


@pytest.fixture
def open_signup(settings: Any) -> Any:
    settings.ALLOW_SIGNUP = True
    settings.API_RATE_LIMITS_ENABLED = True
    return settings


def _register(name: str, ip: str = "10.1.1.1", client: APIClient | None = None) -> Any:
    return (client or APIClient()).post(URL, {"username": name, "password": PASSWORD}, format="json", REMOTE_ADDR=ip)


def test_one_ip_cannot_mass_create_accounts_with_the_default_limits(open_signup: Any) -> None:
    open_signup.API_RATE_LIMITS = production.API_RATE_LIMITS

    statuses = [_register(f"conta{n}").status_code for n in range(25)]

    created = statuses.count(HTTPStatus.CREATED)
    assert 1 <= created <= 5
    assert statuses[created:] == [HTTPStatus.TOO_MANY_REQUESTS] * (25 - created)
    assert User.objects.count() == created


def test_the_per_ip_limit_answers_429_with_retry_after(open_signup: Any) -> None:
    open_signup.API_RATE_LIMITS = {"default": "1000/m", "auth-register-ip": "3/h", "auth-register-global": "1000/h"}

    statuses = [_register(f"conta{n}").status_code for n in range(3)]
    blocked = _register("conta3")

    assert statuses == [HTTPStatus.CREATED] * 3
    assert blocked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert blocked.json()["error"] == "rate_limited"
    assert 1 <= int(blocked.headers["Retry-After"]) <= 3600
    assert not User.objects.filter(username="conta3").exists()


def test_other_ips_still_register_while_one_is_blocked(open_signup: Any) -> None:
    open_signup.API_RATE_LIMITS = {"default": "1000/m", "auth-register-ip": "2/h", "auth-register-global": "1000/h"}
    for n in range(3):
        _register(f"conta{n}")

    assert _register("outra", ip="10.2.2.2").status_code == HTTPStatus.CREATED


def test_ipv6_neighbours_share_the_per_ip_limit(open_signup: Any) -> None:
    open_signup.API_RATE_LIMITS = {"default": "1000/m", "auth-register-ip": "2/h", "auth-register-global": "1000/h"}
    for n in range(2):
        _register(f"conta{n}", ip=f"2001:db8:1:2::{n + 1}")

    assert _register("conta2", ip="2001:db8:1:2::ff").status_code == HTTPStatus.TOO_MANY_REQUESTS


def test_the_global_limit_caps_signups_spread_over_many_ips(open_signup: Any) -> None:
    open_signup.API_RATE_LIMITS = {"default": "1000/m", "auth-register-ip": "100/h", "auth-register-global": "4/h"}

    statuses = [_register(f"conta{n}", ip=f"10.9.0.{n + 1}").status_code for n in range(6)]

    assert statuses == [HTTPStatus.CREATED] * 4 + [HTTPStatus.TOO_MANY_REQUESTS] * 2


def test_the_limits_reset_after_the_window(open_signup: Any, ratelimit_clock: RatelimitClock) -> None:
    open_signup.API_RATE_LIMITS = {"default": "1000/m", "auth-register-ip": "1/h", "auth-register-global": "1000/h"}
    _register("conta0")
    assert _register("conta1").status_code == HTTPStatus.TOO_MANY_REQUESTS

    ratelimit_clock.shift(3601)

    assert _register("conta1").status_code == HTTPStatus.CREATED


def test_staff_registrations_do_not_count_against_the_signup_limits(open_signup: Any) -> None:
    open_signup.API_RATE_LIMITS = {"default": "1000/m", "auth-register-ip": "1/h", "auth-register-global": "1/h"}
    staff = bearer_client(make_user("admin", staff=True))

    statuses = [_register(f"analista{n}", client=staff).status_code for n in range(3)]

    assert statuses == [HTTPStatus.CREATED] * 3
    assert _register("autocadastro").status_code == HTTPStatus.CREATED


def test_signup_fails_closed_when_the_limit_store_is_down(open_signup: Any) -> None:
    open_signup.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # porta 1: conexão recusada na hora
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    open_signup.API_RATE_LIMITS = {"default": "1000/m", "auth-register-ip": "5/h", "auth-register-global": "50/h"}

    response = _register("conta0")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert int(response.headers["Retry-After"]) >= 1
    assert not User.objects.exists()
