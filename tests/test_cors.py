"""CORS (django-cors-headers): só as origens de CORS_ALLOWED_ORIGINS, só sob /api/; nada aberto por padrão."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

import trader_monitor.settings as production
from tests.accounts.factories import bearer_client, make_user

pytestmark = pytest.mark.django_db

ALLOWED = "https://painel.example.com"
FOREIGN = "https://evil.example.net"


@pytest.fixture
def allowed(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


def test_an_allowed_origin_gets_the_cors_header(allowed: None) -> None:
    response = bearer_client(make_user()).get("/api/events", HTTP_ORIGIN=ALLOWED)

    assert response.status_code == HTTPStatus.OK
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_foreign_origin_gets_no_cors_header(allowed: None) -> None:
    response = bearer_client(make_user()).get("/api/events", HTTP_ORIGIN=FOREIGN)

    assert "Access-Control-Allow-Origin" not in response.headers


def test_preflight_from_an_allowed_origin_permits_the_authorization_header(allowed: None) -> None:
    response = APIClient().options(
        "/api/events",
        HTTP_ORIGIN=ALLOWED,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization",
    )

    assert response.status_code == HTTPStatus.OK
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "authorization" in response.headers["Access-Control-Allow-Headers"]


def test_preflight_from_a_foreign_origin_is_not_allowed(allowed: None) -> None:
    response = APIClient().options("/api/auth/login", HTTP_ORIGIN=FOREIGN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")

    assert "Access-Control-Allow-Origin" not in response.headers


def test_pages_outside_the_api_never_get_cors_headers(allowed: None) -> None:
    response = APIClient().get("/admin/login/", HTTP_ORIGIN=ALLOWED)

    assert "Access-Control-Allow-Origin" not in response.headers


def test_by_default_no_origin_is_allowed() -> None:
    response = bearer_client(make_user()).get("/api/events", HTTP_ORIGIN=ALLOWED)

    assert "Access-Control-Allow-Origin" not in response.headers
    assert production.CORS_ALLOWED_ORIGINS == []
    assert not getattr(production, "CORS_ALLOW_ALL_ORIGINS", False)
