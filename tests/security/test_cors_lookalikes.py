"""CORS: a lista de origens é comparação exata (complementa tests/test_cors.py).

Origens parecidas com a permitida — outro esquema, outra porta, subdomínio, sufixo ou
prefixo, ``null`` — não recebem ``Access-Control-Allow-Origin``; e nunca há
``Allow-Credentials`` (a API usa JWT em cabeçalho, não cookies entre origens).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import bearer_client, make_user

pytestmark = pytest.mark.django_db

ALLOWED = "https://painel.example.com"


@pytest.fixture(autouse=True)
def allowed(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


@pytest.mark.parametrize(
    "origin",
    [
        "http://painel.example.com",
        "https://painel.example.com:8443",
        "https://evil.painel.example.com",
        "https://painel.example.com.evil.net",
        "https://xpainel.example.com",
        "https://PAINEL.example.com.evil.net",
        "null",
    ],
)
def test_lookalike_origins_get_no_cors_headers(origin: str) -> None:
    response = bearer_client(make_user()).get("/api/events", HTTP_ORIGIN=origin)
    preflight = APIClient().options("/api/events", HTTP_ORIGIN=origin, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")

    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_the_allowed_origin_never_gets_credentials() -> None:
    preflight = APIClient().options(
        "/api/events",
        HTTP_ORIGIN=ALLOWED,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="DELETE",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )

    assert preflight.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Access-Control-Allow-Credentials" not in preflight.headers
