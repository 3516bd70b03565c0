"""Cabeçalhos de segurança nas respostas do Django (API, páginas, admin, erros) e cookies.

A CSP das páginas do painel é testada em tests/dashboard/test_pages.py. O webhook é um
app ASGI enxuto fora da pilha do Django: responde só JSON, sem cookies (conferido aqui).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import httpx
import pytest
from django.test import Client

from tests.accounts.factories import PASSWORD, make_user
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
PATHS = [
    "/api/events",  # 401
    "/api/health",
    "/api/nada",  # 404 JSON
    "/api/docs/",
    "/",  # 302 para o login
    "/login/",
    "/admin/login/",
    "/nada/",  # 404 HTML
]
HSTS = "max-age=31536000; includeSubDomains; preload"


@pytest.mark.parametrize("path", PATHS)
def test_every_django_response_carries_the_security_headers(client: Client, path: str) -> None:
    response = client.get(path)
    expected = dict(EXPECTED)
    if path == "/api/docs/":
        # O Swagger UI (drf-spectacular) relaxa o COOP de propósito: o login OAuth2 abre um popup.
        expected["Cross-Origin-Opener-Policy"] = "unsafe-none"

    assert {name: response.headers.get(name) for name in EXPECTED} == expected


@pytest.mark.parametrize("path", PATHS)
def test_hsts_is_sent_over_https_only(client: Client, path: str) -> None:
    assert client.get(path, secure=True).headers.get("Strict-Transport-Security") == HSTS
    assert "Strict-Transport-Security" not in client.get(path).headers


def test_session_and_csrf_cookies_are_secure_httponly_and_samesite(client: Client) -> None:
    make_user("ana")
    form = client.get("/login/", secure=True)
    csrf = form.cookies["csrftoken"]

    response = client.post(
        "/login/", {"username": "ana", "password": PASSWORD, "csrfmiddlewaretoken": csrf.value}, secure=True
    )

    assert response.status_code == HTTPStatus.FOUND
    session = response.cookies["sessionid"]
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")
    assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")


def test_api_json_responses_set_no_cookies(client: Client) -> None:
    user = make_user()
    client.force_login(user)
    client.cookies.clear()

    response = client.post("/api/auth/login", {"username": "analyst", "password": PASSWORD}, "application/json")

    assert response.status_code == HTTPStatus.OK
    assert not response.cookies


async def test_webhook_answers_json_without_cookies(asgi_client: httpx.AsyncClient, sign: Signer) -> None:
    body = event_body()

    responses: list[Any] = [
        await asgi_client.post("/api/webhook/event", content=body, headers=sign(body)),
        await asgi_client.post("/api/webhook/event", content=b"{}"),
        await asgi_client.get("/api/webhook/event"),
    ]

    for response in responses:
        assert response.headers["content-type"] == "application/json"
        assert "set-cookie" not in response.headers
