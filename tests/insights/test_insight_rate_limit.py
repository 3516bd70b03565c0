"""Limite por usuário das chamadas ao modelo (INSIGHT_RATE_LIMIT, django-ratelimit)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from tests.insights.conftest import GOOD_DRAFT, grant_paid_model, reply

pytestmark = pytest.mark.django_db

REFRESH = {"refresh": True}


def test_user_over_the_limit_gets_offline_and_others_are_unaffected(api, seeded, openai_mock, insight_settings):
    insight_settings.INSIGHT_RATE_LIMIT = "2/m"
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))

    sources = [api.post("/api/insights", REFRESH, format="json").json()["source"] for _ in range(3)]
    limited = api.post("/api/insights", REFRESH, format="json").json()

    assert sources == ["openai", "openai", "offline"]
    assert limited["fallbackReason"] == "rate_limited"
    assert route.call_count == 2

    other = APIClient()
    bob = grant_paid_model(User.objects.create_user(username="bob", password="x-strong-pass-2"))
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(bob).access_token}")
    assert other.post("/api/insights", REFRESH, format="json").json()["source"] == "openai"


def test_cache_hits_do_not_count_against_the_limit(api, seeded, openai_mock, insight_settings):
    insight_settings.INSIGHT_RATE_LIMIT = "1/m"
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))

    sources = [api.get("/api/insights").json()["source"] for _ in range(3)]

    assert sources == ["openai", "openai", "openai"]
    assert route.call_count == 1


def test_limit_in_error_mode_is_429_with_retry_after(api, seeded, openai_mock, insight_settings):
    insight_settings.INSIGHT_RATE_LIMIT = "1/m"
    insight_settings.INSIGHT_FALLBACK = "error"
    openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))

    api.post("/api/insights", REFRESH, format="json")
    response = api.post("/api/insights", REFRESH, format="json")

    assert response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert response.json() == {
        "error": "rate_limited",
        "detail": f"Você pediu insights demais em pouco tempo. Tente de novo em {seconds} s.",
    }
