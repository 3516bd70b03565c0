"""GET /api/health e /api/health/ready."""

from __future__ import annotations

import concurrent.futures
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client

from events.store import EventStore

pytestmark = pytest.mark.django_db


def test_liveness_is_200_without_touching_the_store(
    client: Client, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "ping", lambda: pytest.fail("liveness não deve consultar o armazenamento"))

    response = client.get("/api/health")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"status": "ok"}
    assert response["X-Request-ID"]


def test_readiness_is_200_when_the_store_answers(client: Client) -> None:
    response = client.get("/api/health/ready")

    assert response.status_code == HTTPStatus.OK
    # O corpo diz também qual armazenamento responde (os testes usam o dublê em memória).
    assert response.json() == {"status": "ok", "checks": {"store": "ok"}, "store": "in-memory"}


def test_readiness_is_503_when_the_store_does_not_answer(
    client: Client, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "ping", lambda: False)

    response = client.get("/api/health/ready")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["checks"] == {"store": "unavailable"}
    assert response["Retry-After"] == "5"


def test_readiness_gives_up_after_two_seconds(
    client: Client, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trader_monitor import health

    waited: dict[str, Any] = {}

    class SlowFuture:
        def result(self, timeout: float) -> bool:
            waited["timeout"] = timeout
            raise concurrent.futures.TimeoutError

    monkeypatch.setattr(health._pool, "submit", lambda fn: SlowFuture())

    response = client.get("/api/health/ready")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert waited["timeout"] == 2.0


def test_request_id_from_proxy_is_kept_when_safe_and_replaced_when_not(client: Client) -> None:
    kept = client.get("/api/health", HTTP_X_REQUEST_ID="abc-123")
    replaced = client.get("/api/health", HTTP_X_REQUEST_ID="bad\nvalue")

    assert kept["X-Request-ID"] == "abc-123"
    assert replaced["X-Request-ID"] != "bad\nvalue"
    assert len(replaced["X-Request-ID"]) == 32
