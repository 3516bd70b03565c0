"""Quanto um pedido de insight pode esperar pelo provedor: limitado pela configuração.

Os testes de falha (timeout, 429, 5xx) estão em test_insight_fallback.py; aqui ficam
o que faltava: o pior caso calculado a partir das configurações (e ligado ao cliente do
SDK de verdade) e a conexão recusada.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import httpx
import httpx2
import pytest
from django.conf import settings

from insights import openai_client
from insights.models import InsightCall

pytestmark = pytest.mark.django_db

# Tempo de leitura padrão de proxies reversos (nginx proxy_read_timeout): acima disso o
# cliente veria 504 do proxy em vez do motor offline.
PROXY_READ_TIMEOUT_SECONDS = 60.0


def test_worst_case_wait_for_the_provider_is_bounded_by_configuration(openai_mock) -> None:
    client = openai_client.client_get()
    timeout = client.timeout
    assert not isinstance(timeout, float | None)
    per_attempt = max(value for value in (timeout.connect, timeout.read, timeout.write, timeout.pool) if value)
    # O SDK calcula a espera antes da nova tentativa; o servidor pedindo 1 h não muda o teto.
    retry_wait = client._calculate_retry_timeout(
        remaining_retries=client.max_retries,
        options=_options(),
        response_headers=httpx2.Headers({"retry-after": "3600"}),
    )

    worst_case = (1 + client.max_retries) * per_attempt + client.max_retries * retry_wait

    assert per_attempt == settings.INSIGHT_TIMEOUT_SECONDS
    assert client.max_retries == settings.INSIGHT_MAX_RETRIES <= 1
    assert retry_wait <= settings.INSIGHT_RETRY_MAX_WAIT_SECONDS
    assert worst_case < PROXY_READ_TIMEOUT_SECONDS, f"pior caso {worst_case:.1f} s"


def test_connection_refused_falls_back_to_offline(api, seeded, openai_mock) -> None:
    route = openai_mock.post("/chat/completions").mock(side_effect=httpx.ConnectError("connection refused"))

    response = api.get("/api/insights")

    assert response.status_code == HTTPStatus.OK
    assert (response.json()["source"], response.json()["fallbackReason"]) == ("offline", "connection_error")
    assert route.call_count == 2
    assert InsightCall.objects.get().outcome == "connection_error"


def test_connection_refused_in_error_mode_is_503_with_retry_after(api, seeded, openai_mock, insight_settings) -> None:
    insight_settings.INSIGHT_FALLBACK = "error"
    openai_mock.post("/chat/completions").mock(side_effect=httpx.ConnectError("connection refused"))

    response = api.get("/api/insights")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.headers["Retry-After"] == str(settings.INSIGHT_UNAVAILABLE_RETRY_AFTER)
    assert response.json()["error"] == "insight_unavailable"


def _options() -> Any:
    from openai._models import FinalRequestOptions

    return FinalRequestOptions.construct(method="post", url="/chat/completions")
