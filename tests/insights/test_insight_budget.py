"""Orçamento diário (soma do custo de hoje no livro-caixa, fuso do projeto)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest

from insights.models import InsightCall
from tests.insights.conftest import GOOD_DRAFT, NOW, reply

pytestmark = pytest.mark.django_db


def _spent(amount: str, *, at=NOW) -> InsightCall:
    call = InsightCall.objects.create(
        range_label="range=24h",
        window_start=at - timedelta(hours=24),
        window_end=at,
        model="gpt-5.4-mini",
        outcome=InsightCall.Outcome.OK,
        cost_usd=Decimal(amount),
        fingerprint="f" * 64,
    )
    InsightCall.objects.filter(pk=call.pk).update(created_at=at)
    return call


def test_exhausted_budget_stops_spending_and_offline_answers(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))
    _spent("0.99999")

    body = api.get("/api/insights").json()

    assert (body["source"], body["fallbackReason"]) == ("offline", "budget_exhausted")
    assert route.call_count == 0
    assert InsightCall.objects.count() == 1


def test_exhausted_budget_in_error_mode_is_429_in_portuguese(api, seeded, openai_mock, insight_settings):
    insight_settings.INSIGHT_FALLBACK = "error"
    openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))
    _spent("1.00")

    response = api.get("/api/insights")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    # 15:37:12 UTC = 12:37:12 em São Paulo; faltam 11h22m48s para a meia-noite
    assert response.headers["Retry-After"] == "40968"
    assert response.json() == {
        "error": "rate_limited",
        "detail": (
            "O orçamento diário de insights (US$ 1.00) acabou. Tente de novo amanhã; "
            "o painel continua com as agregações."
        ),
    }


def test_yesterdays_spending_does_not_count(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))
    # 02:59 UTC de hoje = 23:59 de ontem em São Paulo
    _spent("5.00", at=NOW.replace(hour=2, minute=59))

    body = api.get("/api/insights").json()

    assert body["source"] == "openai"
    assert route.call_count == 1


def test_budget_reserves_the_worst_case_of_the_next_call(api, seeded, openai_mock, insight_settings):
    # 1.500 tokens de saída × US$ 4,50/1M = US$ 0,00675 só de saída: não cabe em US$ 0,005
    insight_settings.INSIGHT_DAILY_BUDGET_USD = "0.005"
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))

    body = api.get("/api/insights").json()

    assert body["fallbackReason"] == "budget_exhausted"
    assert route.call_count == 0
