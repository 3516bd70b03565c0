"""Redis fora do ar (endereço inalcançável, ``redis://127.0.0.1:1/0``; o Redis compartilhado não é tocado).

O Redis é otimização e transporte do feed, não a fonte da verdade: o webhook continua
respondendo 2xx e gravando; a difusão ao vivo falha contada na métrica e o socket é
avisado; a API segue (limites falham abertos, resumo sem cache); o login falha fechado
(503 + Retry-After) para não abrir tentativas ilimitadas de senha. Nenhum 500.
"""

from __future__ import annotations

from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.test import override_settings
from prometheus_client import REGISTRY

from accounts.models import User
from events.domain import EventFilter
from events.store import EventStore
from tests.accounts.factories import PASSWORD, bearer_client, make_user
from tests.conftest import Signer, event_body
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

DOWN_URL = "redis://127.0.0.1:1/0"
DOWN = {
    "REDIS_URL": DOWN_URL,
    "CACHES": {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DOWN_URL,
            "KEY_PREFIX": "tm-down",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    },
    "CHANNEL_LAYERS": {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [DOWN_URL], "prefix": "tm-down"},
        }
    },
    "WEBHOOK_RATE_LIMIT": "6000/m",
    "API_RATE_LIMITS_ENABLED": True,
}
user = ws.user
# O cliente Redis tenta de novo (com espera) antes de desistir de conectar: sob carga isso
# passa dos 2 s de ws.WAIT. É espera máxima, não medida de tempo.
REDIS_GIVE_UP_WAIT = 10.0


@pytest.fixture
def redis_down() -> Iterator[None]:
    with override_settings(**DOWN):
        channel_layers.backends.clear()
        yield
    channel_layers.backends.clear()


def _broadcast_failures() -> float:
    return REGISTRY.get_sample_value("trader_monitor_broadcast_failures_total") or 0.0


async def test_webhook_still_answers_201_and_persists_and_counts_the_lost_broadcast(
    redis_down: None, asgi_client: httpx.AsyncClient, sign: Signer, store: EventStore
) -> None:
    before = _broadcast_failures()
    body = event_body()

    response = await asgi_client.post("/api/webhook/event", content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.CREATED
    assert store.count_events(EventFilter()) == 1
    assert _broadcast_failures() == before + 1


def test_the_read_api_keeps_answering_without_cache_or_rate_limit_store(redis_down: None, store: EventStore) -> None:
    api = bearer_client(make_user())

    for url in ["/api/events", "/api/events/summary", "/api/events/timeseries", "/api/insights", "/api/auth/me"]:
        response = api.get(url)
        assert response.status_code == HTTPStatus.OK, (url, response.content)


def test_login_fails_closed_with_503_and_retry_after(redis_down: None) -> None:
    make_user("ana2")

    response = httpx_free_login("ana2")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.headers["Retry-After"]
    assert response.json()["error"] == "rate_limit_unavailable"


def test_health_stays_up_and_readiness_only_looks_at_the_store(redis_down: None, client: Any) -> None:
    assert client.get("/api/health").status_code == HTTPStatus.OK
    assert client.get("/api/health/ready").status_code == HTTPStatus.OK


async def test_websocket_is_told_the_live_feed_is_unavailable_instead_of_crashing(redis_down: None, user: User) -> None:
    from trader_monitor.asgi import application

    open_sockets = REGISTRY.get_sample_value("trader_monitor_websocket_connections")
    communicator = WebsocketCommunicator(application, ws.WS_PATH, headers=[ws.ORIGIN])
    accepted, _detail = await communicator.connect(timeout=REDIS_GIVE_UP_WAIT)
    assert accepted
    await communicator.send_json_to({"type": "auth", "token": ws.access_token(user)})

    message = await communicator.receive_json_from(timeout=REDIS_GIVE_UP_WAIT)
    close = await communicator.receive_output(timeout=REDIS_GIVE_UP_WAIT)

    assert message["type"] == "error"
    assert message["code"] == "feed_unavailable"
    assert close == {"type": "websocket.close", "code": 1013, "reason": "feed_unavailable"}
    await communicator.disconnect(timeout=REDIS_GIVE_UP_WAIT)
    # O socket fechado não fica contado como aberto.
    assert REGISTRY.get_sample_value("trader_monitor_websocket_connections") == open_sockets


def httpx_free_login(username: str) -> Any:
    from rest_framework.test import APIClient

    return APIClient().post("/api/auth/login", {"username": username, "password": PASSWORD}, format="json")
