"""O endpoint sem chave (motor offline), autenticação e validação da janela."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from insights.models import InsightCall

pytestmark = pytest.mark.django_db


def test_without_api_key_the_offline_engine_answers_without_network(api, seeded, openai_mock, insight_settings):
    insight_settings.OPENAI_API_KEY = ""

    response = api.get("/api/insights?range=24h")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["source"] == "offline"
    assert body["fallbackReason"] == "no_api_key"
    assert body["model"] is None
    assert body["numbersVerified"] is True
    assert body["summary"] == (
        "Nas últimas 24 horas foram 7 eventos, somando 1.900,00 em valor, alta de 75,0% no número de eventos "
        "e alta de 58,3% no valor em relação ao período anterior (4 eventos; 1.200,00)."
    )
    assert "Usuários ativos: 3, contra 2 no período anterior (+50,0%)." in body["highlights"]
    assert body["text"].splitlines()[0] == body["summary"]
    assert not openai_mock.calls
    assert not InsightCall.objects.exists()


def test_session_login_works_like_jwt(analyst, seeded, insight_settings):
    insight_settings.OPENAI_API_KEY = ""
    client = APIClient()
    client.force_login(analyst)

    assert client.get("/api/insights").status_code == HTTPStatus.OK


def test_anonymous_is_refused(seeded):
    response = APIClient().get("/api/insights")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("range=2x", "range"),
        ("range=400d", "range"),
        ("range=24h&from=2026-11-28T00:00:00Z", "range"),
        ("from=2026-11-29T00:00:00Z&to=2026-11-28T00:00:00Z", "from"),
        ("from=2024-01-01T00:00:00Z&to=2026-11-28T00:00:00Z", "from"),
        ("top=0", "top"),
        ("rnage=24h", "rnage"),
    ],
)
def test_invalid_window_is_400_naming_the_field(api, seeded, query, field):
    response = api.get(f"/api/insights?{query}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["fields"]


def test_explicit_from_to_window(api, seeded, insight_settings):
    insight_settings.OPENAI_API_KEY = ""

    body = api.get("/api/insights?from=2026-11-28T12:00:00Z&to=2026-11-29T12:00:00Z").json()

    assert body["current"]["window"] == {"from": "2026-11-28T12:00:00.000Z", "to": "2026-11-29T12:00:00.000Z"}
    assert body["previous"]["window"] == {"from": "2026-11-27T12:00:00.000Z", "to": "2026-11-28T12:00:00.000Z"}
    assert body["comparison"]["period"] == {"range": None, "minutes": 1440, "hours": 24, "days": 1}
    assert body["summary"].startswith("No último dia foram")
