"""Amostragem do log de acesso (``ACCESS_LOG_SAMPLE``): sucesso amostrado, erro sempre, métricas exatas."""

from __future__ import annotations

import json
from http import HTTPStatus

import httpx
import pytest
from django.test import override_settings
from prometheus_client import REGISTRY

from tests.conftest import Signer, event_body
from tests.trader_monitor.test_logging import json_lines  # noqa: F401  # fixture

pytestmark = pytest.mark.django_db

URL = "/api/webhook/event"


def _served(status: int) -> float:
    labels = {"method": "POST", "route": URL, "status": str(status)}
    return REGISTRY.get_sample_value("trader_monitor_http_request_duration_seconds_count", labels) or 0.0


def _access(lines: list[str]) -> list[dict[str, object]]:
    records = [json.loads(line) for line in lines]
    return [r for r in records if r.get("logger") == "trader_monitor.access" and r.get("path") == URL]


async def _post(client: httpx.AsyncClient, sign: Signer, *, signed: bool = True) -> int:
    body = event_body()
    headers = sign(body) if signed else {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "v1,AA=="}
    response = await client.post(URL, content=body, headers=headers)
    return response.status_code


@override_settings(ACCESS_LOG_SAMPLE=3)
async def test_one_in_n_success_lines_and_every_error_line_while_the_metrics_count_all(
    asgi_client: httpx.AsyncClient,
    sign: Signer,
    json_lines: list[str],  # noqa: F811
) -> None:
    created_before, refused_before = _served(201), _served(401)

    statuses = [await _post(asgi_client, sign) for _ in range(9)]
    refused = [await _post(asgi_client, sign, signed=False) for _ in range(4)]

    lines = _access(json_lines)
    success = [line for line in lines if line["status"] == HTTPStatus.CREATED]
    errors = [line for line in lines if line["status"] == HTTPStatus.UNAUTHORIZED]
    assert statuses == [HTTPStatus.CREATED] * 9
    assert refused == [HTTPStatus.UNAUTHORIZED] * 4
    assert len(success) == 3
    assert all(line["sample"] == 3 for line in success)
    assert len(errors) == 4
    assert all("sample" not in line for line in errors)
    assert _served(201) - created_before == 9
    assert _served(401) - refused_before == 4


async def test_without_sampling_every_request_has_its_line_and_no_sample_field(
    asgi_client: httpx.AsyncClient,
    sign: Signer,
    json_lines: list[str],  # noqa: F811
) -> None:
    statuses = [await _post(asgi_client, sign) for _ in range(4)]

    lines = _access(json_lines)
    assert statuses == [HTTPStatus.CREATED] * 4
    assert len(lines) == 4
    assert all("sample" not in line for line in lines)


@override_settings(ACCESS_LOG_SAMPLE=2)
def test_the_django_middleware_samples_the_same_way(client, json_lines: list[str]) -> None:  # noqa: F811
    statuses = [client.get("/api/health").status_code for _ in range(4)]
    missing = [client.get("/api/nao-existe").status_code for _ in range(3)]

    records = [json.loads(line) for line in json_lines]
    health = [r for r in records if r.get("logger") == "trader_monitor.access" and r.get("path") == "/api/health"]
    not_found = [r for r in records if r.get("logger") == "trader_monitor.access" and r.get("status") == 404]
    assert statuses == [HTTPStatus.OK] * 4
    assert missing == [HTTPStatus.NOT_FOUND] * 3
    assert len(health) == 2
    assert [r["sample"] for r in health] == [2, 2]
    assert len(not_found) == 3
