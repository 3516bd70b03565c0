"""Falhas do provedor: timeout, 429 e 5xx. O SDK real repete uma vez; depois o
motor offline responde (rotulado) ou, com INSIGHT_FALLBACK=error, 503 + Retry-After."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus

import httpx
import pytest

from insights.models import InsightCall

pytestmark = pytest.mark.django_db


def test_timeout_is_retried_once_then_offline_answers(api, seeded, openai_mock, sleeps):
    route = openai_mock.post("/chat/completions").mock(side_effect=httpx.ReadTimeout("sem resposta"))

    response = api.get("/api/insights?range=24h")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["source"], body["fallbackReason"], body["model"]) == ("offline", "timeout", None)
    assert body["text"].startswith("Nas últimas 24 horas foram 7 eventos")
    assert body["numbersVerified"] is True
    assert body["usage"] == {"inputTokens": 0, "cachedInputTokens": 0, "outputTokens": 0, "costUsd": 0.0}
    assert route.call_count == 2  # a tentativa e uma única repetição
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 2.0
    (call,) = InsightCall.objects.all()
    assert call.outcome == InsightCall.Outcome.TIMEOUT
    assert (call.cost_usd, call.input_tokens) == (Decimal(0), 0)


def test_provider_429_waits_at_most_the_cap_then_offline(api, seeded, openai_mock, sleeps):
    route = openai_mock.post("/chat/completions").mock(
        return_value=httpx.Response(
            429, json={"error": {"message": "Rate limit", "type": "requests"}}, headers={"retry-after": "90"}
        )
    )

    body = api.get("/api/insights").json()

    assert (body["source"], body["fallbackReason"]) == ("offline", "upstream_rate_limited")
    assert route.call_count == 2
    assert sleeps == [2.0]  # o servidor pediu 90 s; INSIGHT_RETRY_MAX_WAIT_SECONDS limita a 2
    assert InsightCall.objects.get().outcome == InsightCall.Outcome.UPSTREAM_RATE_LIMITED


def test_provider_5xx_then_offline(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(
        return_value=httpx.Response(503, json={"error": {"message": "overloaded"}})
    )

    body = api.get("/api/insights").json()

    assert (body["source"], body["fallbackReason"]) == ("offline", "upstream_error")
    assert route.call_count == 2
    assert InsightCall.objects.get().outcome == InsightCall.Outcome.UPSTREAM_ERROR


def test_retry_that_succeeds_returns_the_model_text(api, seeded, openai_mock):
    from tests.insights.conftest import GOOD_DRAFT, reply

    route = openai_mock.post("/chat/completions").mock(
        side_effect=[httpx.Response(500, json={"error": {"message": "boom"}}), reply(GOOD_DRAFT)]
    )

    body = api.get("/api/insights").json()

    assert (body["source"], body["fallbackReason"]) == ("openai", None)
    assert route.call_count == 2
    assert InsightCall.objects.get().outcome == InsightCall.Outcome.OK


def test_client_error_is_not_retried(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(
        return_value=httpx.Response(401, json={"error": {"message": "Incorrect API key"}})
    )

    body = api.get("/api/insights").json()

    assert (body["source"], body["fallbackReason"]) == ("offline", "request_error")
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("mock", "reason", "retry_after"),
    [
        ({"side_effect": httpx.ConnectTimeout("sem conexão")}, "timeout", "30"),
        ({"return_value": httpx.Response(502, json={"error": {"message": "bad gateway"}})}, "upstream_error", "30"),
        (
            {"return_value": httpx.Response(429, json={"error": {"message": "quota"}}, headers={"retry-after": "20"})},
            "upstream_rate_limited",
            "20",
        ),
    ],
)
def test_error_mode_answers_503_with_retry_after(api, seeded, openai_mock, insight_settings, mock, reason, retry_after):
    insight_settings.INSIGHT_FALLBACK = "error"
    route = openai_mock.post("/chat/completions").mock(**mock)

    response = api.get("/api/insights")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.headers["Retry-After"] == retry_after
    assert response.json() == {
        "error": "insight_unavailable",
        "detail": f"O serviço de insights está indisponível agora ({reason}). Tente de novo em {retry_after} s.",
    }
    assert route.call_count == 2
    assert InsightCall.objects.get().outcome == reason
