"""``GET /metrics``: séries nomeadas presentes, que se movem com a ingestão, e proteção por token."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from events import webhook
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/webhook/event"
SERIES = (
    "trader_monitor_http_request_duration_seconds",
    "trader_monitor_events_ingested_total",
    "trader_monitor_webhook_rejected_total",
    "trader_monitor_broadcast_failures_total",
    "trader_monitor_store_errors_total",
    "trader_monitor_websocket_connections",
    "trader_monitor_insight_calls_total",
    "trader_monitor_insight_cost_usd_total",
)


@pytest.fixture(autouse=True)
def _no_token_and_fresh_verifiers() -> Iterator[None]:
    webhook.verifiers.cache_clear()
    with override_settings(METRICS_TOKEN=""):
        yield
    webhook.verifiers.cache_clear()


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    values = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            values[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return values


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == HTTPStatus.OK
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


async def test_every_named_series_is_exposed(asgi_client: httpx.AsyncClient) -> None:
    text = await scrape(asgi_client)

    names = {family.name for family in text_string_to_metric_families(text)}
    # O parser tira o sufixo _total do nome da família dos contadores.
    assert {name.removesuffix("_total") for name in SERIES} <= names
    assert ("trader_monitor_events_ingested_total", frozenset({("outcome", "duplicate")})) in samples(text)
    assert ("trader_monitor_webhook_rejected_total", frozenset({("reason", "bad_signature")})) in samples(text)
    assert "_created" not in text


async def test_series_move_when_events_are_ingested_replayed_and_rejected(
    asgi_client: httpx.AsyncClient, sign: Signer
) -> None:
    before = await scrape(asgi_client)
    body = event_body(timestamp="2026-01-01T00:00:00Z")
    headers = sign(body, msg_id="msg_metrics_1")

    created = await asgi_client.post(URL, content=body, headers=headers)
    replay = await asgi_client.post(URL, content=body, headers=sign(body, msg_id="msg_metrics_1"))
    unsigned = await asgi_client.post(URL, content=event_body())
    after = await scrape(asgi_client)

    assert (created.status_code, replay.status_code, unsigned.status_code) == (201, 200, 401)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("trader_monitor_events_ingested_total", outcome="created") == 1
    assert delta("trader_monitor_events_ingested_total", outcome="duplicate") == 1
    assert delta("trader_monitor_webhook_rejected_total", reason="missing_signature") == 1
    assert delta("trader_monitor_webhook_rejected_total", reason="bad_signature") == 0
    latency = "trader_monitor_http_request_duration_seconds_count"
    assert delta(latency, method="POST", route=URL, status="201") == 1
    assert delta(latency, method="POST", route=URL, status="401") == 1


async def test_django_routes_are_timed_by_pattern(asgi_client: httpx.AsyncClient) -> None:
    before = await scrape(asgi_client)

    await asgi_client.get("/api/health")
    after = await scrape(asgi_client)

    name = "trader_monitor_http_request_duration_seconds_count"
    labels = {"method": "GET", "route": "/api/health", "status": "200"}
    assert value(after, name, **labels) - value(before, name, **labels) == 1


async def test_token_is_required_when_configured(asgi_client: httpx.AsyncClient) -> None:
    with override_settings(METRICS_TOKEN="segredo-das-metricas"):
        missing = await asgi_client.get("/metrics")
        wrong = await asgi_client.get("/metrics", headers={"Authorization": "Bearer outro"})
        right = await asgi_client.get("/metrics", headers={"Authorization": "Bearer segredo-das-metricas"})

    assert missing.status_code == wrong.status_code == HTTPStatus.UNAUTHORIZED
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert "trader_monitor" not in missing.text
    assert right.status_code == HTTPStatus.OK
    assert "trader_monitor_events_ingested_total" in right.text


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1", HTTPStatus.OK),
        ("10.1.2.3", HTTPStatus.OK),
        ("::1", HTTPStatus.OK),
        ("8.8.8.8", HTTPStatus.FORBIDDEN),
    ],
)
def test_without_token_only_internal_clients_scrape_in_production(
    client: Client, address: str, expected: HTTPStatus
) -> None:
    with override_settings(METRICS_TOKEN="", DEBUG=False):
        response = client.get("/metrics", REMOTE_ADDR=address)

    assert response.status_code == expected


WORKER = textwrap.dedent(
    """
    import django
    django.setup()
    from trader_monitor import metrics
    for _ in range({n}):
        metrics.EVENTS_INGESTED.labels("created").inc()
    metrics.WS_CONNECTIONS.inc({ws})
    """
)
SCRAPER = textwrap.dedent(
    """
    import django
    django.setup()
    from django.test import Client
    print(Client().get("/metrics").content.decode())
    """
)


def test_multiprocess_mode_sums_every_worker(tmp_path: Path) -> None:
    """Como os workers do uvicorn no Docker: cada processo grava, o /metrics de qualquer um soma."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "METRICS_TOKEN": "",
    }

    def run(code: str) -> str:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run(WORKER.format(n=3, ws=2))
    run(WORKER.format(n=4, ws=5))
    text = run(SCRAPER)

    assert value(text, "trader_monitor_events_ingested_total", outcome="created") == 7
    # Conexões abertas só contam enquanto o worker vive (livesum): os dois já saíram.
    assert samples(text)[("trader_monitor_websocket_connections", frozenset())] == 0
    assert any(tmp_path.glob("counter_*.db"))
