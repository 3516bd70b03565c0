"""Limites com o Redis de verdade, e com o cache fora do ar (login fecha, resto da API abre)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import pytest
import redis
from rest_framework.test import APIClient

from tests.accounts.factories import PASSWORD, WRONG, bearer_client, make_user
from tests.conftest import Signer, event_body, require_service

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/0"
# Porta 1: conexão recusada na hora — o "Redis fora do ar".
DOWN_URL = "redis://127.0.0.1:1/0"


def _redis_cache(location: str, prefix: str) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def cache_down(settings: Any) -> Any:
    settings.CACHES = _redis_cache(DOWN_URL, "tm-down")
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {
        "default": "100/m",
        "auth-login": "3/m",
        "auth-login-ip": "30/m",
        "auth-register": "5/h",
    }
    return settings


@pytest.fixture
def real_redis(settings: Any) -> Iterator[Any]:
    require_service(_redis_available(), "Redis em 127.0.0.1:6379")
    # Prefixo único: o Redis é compartilhado; nada de FLUSHDB, só as nossas chaves.
    prefix = f"tm-test-{uuid.uuid4().hex}"
    settings.CACHES = _redis_cache(REDIS_URL, prefix)
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {"default": "100/m", "auth-login": "3/m", "auth-login-ip": "30/m"}
    yield settings
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{prefix}:*"):
        client.delete(key)


def _login(password: str | None = None) -> Any:
    body = {"username": "ana", "password": password or WRONG}
    return APIClient().post("/api/auth/login", body, format="json")


def test_login_fails_closed_with_503_and_retry_after_when_the_cache_is_down(cache_down: Any) -> None:
    make_user("ana")

    response = _login(PASSWORD)

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["error"] == "rate_limit_unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert "access" not in response.json()


def test_register_fails_closed_when_the_cache_is_down(cache_down: Any) -> None:
    staff = bearer_client(make_user("admin", staff=True))

    response = staff.post("/api/auth/register", {"username": "novo", "password": PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert "Retry-After" in response.headers


def test_the_rest_of_the_api_stays_up_when_the_cache_is_down(cache_down: Any) -> None:
    client = bearer_client(make_user("ana"))

    listing = client.get("/api/events")
    summary = client.get("/api/events/summary")

    assert listing.status_code == HTTPStatus.OK
    assert summary.status_code == HTTPStatus.OK
    assert summary.json()["cached"] is False


def test_the_webhook_stays_open_when_the_cache_is_down(cache_down: Any, sign: Signer) -> None:
    cache_down.WEBHOOK_RATE_LIMIT = "1/m"
    body = event_body()

    response = APIClient().post("/api/webhook/event", body, content_type="application/json", headers=sign(body))

    assert response.status_code == HTTPStatus.CREATED


@pytest.mark.redis
def test_login_limit_is_enforced_through_real_redis(real_redis: Any) -> None:
    make_user("ana")

    statuses = [_login().status_code for _ in range(3)]
    blocked = _login(PASSWORD)

    assert statuses == [HTTPStatus.UNAUTHORIZED] * 3
    assert blocked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60


@pytest.mark.redis
def test_counters_live_in_redis_with_an_expiry(real_redis: Any) -> None:
    _login()
    prefix = real_redis.CACHES["default"]["KEY_PREFIX"]
    client = redis.Redis.from_url(REDIS_URL)

    keys = list(client.scan_iter(match=f"{prefix}:*"))

    assert keys
    assert all(0 < client.ttl(key) <= 60 + 5 for key in keys)
