"""Logs estruturados: uma linha JSON por requisição, erros com stack trace."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from http import HTTPStatus

import httpx
import pytest
from django.conf import settings

from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines() -> Iterator[list[str]]:
    """Captura a saída do formatador JSON configurado em LOGGING."""
    from logging.config import dictConfig

    lines: list[str] = []

    class ListHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    dictConfig(settings.LOGGING)
    console = logging.getLogger().handlers[0]
    handler = ListHandler()
    handler.setFormatter(console.formatter)
    for log_filter in console.filters:
        handler.addFilter(log_filter)
    access = logging.getLogger("trader_monitor.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    webhook_logger = logging.getLogger("events.webhook")
    webhook_logger.addHandler(handler)
    yield lines
    access.removeHandler(handler)
    webhook_logger.removeHandler(handler)


async def test_each_request_logs_one_json_line_with_request_id(
    asgi_client: httpx.AsyncClient, sign: Signer, json_lines: list[str]
) -> None:
    body = event_body()
    response = await asgi_client.post(
        "/api/webhook/event", content=body, headers=sign(body) | {"X-Request-ID": "req-1"}
    )

    assert response.status_code == HTTPStatus.CREATED
    [line] = [json.loads(item) for item in json_lines if "/api/webhook/event" in item]
    assert line["method"] == "POST"
    assert line["path"] == "/api/webhook/event"
    assert line["status"] == HTTPStatus.CREATED
    assert line["request_id"] == "req-1"
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"
    assert "time" in line


async def test_store_failure_is_logged_with_stack_trace(
    asgi_client: httpx.AsyncClient, sign: Signer, json_lines: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from events import webhook
    from events.store import StoreUnavailable

    def down(**kwargs: object) -> None:
        raise StoreUnavailable("insert_event: no servers")

    monkeypatch.setattr(webhook, "event_ingest", down)
    body = event_body()

    response = await asgi_client.post("/api/webhook/event", content=body, headers=sign(body))

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    records = [json.loads(item) for item in json_lines]
    [error] = [r for r in records if r["logger"] == "events.webhook"]
    assert error["level"] == "ERROR"
    assert "Traceback" in error["exc_info"]
    assert "StoreUnavailable" in error["exc_info"]
