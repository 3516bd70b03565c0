"""Texto do modelo com números que não estão nas agregações: rejeitado (padrão,
motor offline responde) ou marcado (INSIGHT_NUMBER_POLICY=flag)."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from insights.models import InsightCall
from tests.insights.conftest import reply

pytestmark = pytest.mark.django_db

INVENTED = {
    "summary": "Nas últimas 24 horas foram 7 eventos, alta de 75%.",
    "highlights": ["O ticket médio subiu 12% e houve 9 logins.", "u-3 lidera com 800,00."],
}


def test_invented_numbers_are_rejected_and_offline_answers(api, seeded, openai_mock):
    openai_mock.post("/chat/completions").mock(return_value=reply(INVENTED, prompt_tokens=1000, completion_tokens=100))

    body = api.get("/api/insights").json()

    assert body["source"] == "offline"
    assert body["fallbackReason"] == "unverified_numbers"
    assert body["numbersVerified"] is True  # o texto offline, o que foi entregue
    # a chamada rejeitada foi cobrada: (1000 × 0,75 + 100 × 4,50) / 1M
    assert body["usage"]["costUsd"] == 0.0012
    call = InsightCall.objects.get()
    assert call.outcome == InsightCall.Outcome.REJECTED_NUMBERS
    assert call.unverified_numbers == ["12%", "9"]


def test_flag_policy_returns_the_text_marked(api, seeded, openai_mock, insight_settings):
    insight_settings.INSIGHT_NUMBER_POLICY = "flag"
    openai_mock.post("/chat/completions").mock(return_value=reply(INVENTED))

    body = api.get("/api/insights").json()

    assert body["source"] == "openai"
    assert body["numbersVerified"] is False
    assert body["unverifiedNumbers"] == ["12%", "9"]
    assert "houve 9 logins" in body["text"]
    assert InsightCall.objects.get().outcome == InsightCall.Outcome.UNVERIFIED_NUMBERS


def test_rejection_in_error_mode_is_503(api, seeded, openai_mock, insight_settings):
    insight_settings.INSIGHT_FALLBACK = "error"
    openai_mock.post("/chat/completions").mock(return_value=reply(INVENTED))

    response = api.get("/api/insights")

    assert response.status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert response.json()["error"] == "insight_unavailable"
    assert InsightCall.objects.get().outcome == InsightCall.Outcome.REJECTED_NUMBERS
