"""Com DJANGO_DEBUG desligado nenhum erro mostra rastros internos; o traceback vai para o log.

O 500 é provocado por uma dependência quebrada (o seletor da listagem levanta) numa rota
real, pelo cliente do Django e pelo app ASGI; o corpo é o JSON de erro da API (ou a
página mínima do Django fora da API) e o log tem o traceback com o id da requisição.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.test import Client

from events import api as events_api
from tests.accounts.factories import make_user
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db

LEAKS = ["Traceback", 'File "', "RuntimeError", "segredo-interno", "django.", "site-packages", settings.SECRET_KEY]


@pytest.fixture
def broken(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(**kwargs: Any) -> Any:
        raise RuntimeError("segredo-interno: conexão com o banco 10.0.0.5 falhou")

    monkeypatch.setattr(events_api, "event_list", explode)
    monkeypatch.setattr(events_api, "summary_cached", explode)


def _no_leaks(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, leak


def test_debug_is_off_under_the_test_settings() -> None:
    assert settings.DEBUG is False


def test_an_unhandled_api_error_is_a_clean_json_500_and_the_traceback_is_logged(
    broken: None, caplog: pytest.LogCaptureFixture
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(make_user())

    with caplog.at_level(logging.ERROR):
        response = client.get("/api/events", headers={"X-Request-ID": "req-500-test"})

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {
        "error": "server_error",
        "detail": "Erro interno. Se persistir, informe o id req-500-test.",
        "requestId": "req-500-test",
    }
    _no_leaks(response.content.decode())
    logged = [record for record in caplog.records if record.exc_info and record.name == "django.request"]
    assert logged, "o traceback precisa ir para o log"
    exc_info = logged[0].exc_info
    assert exc_info is not None
    assert "segredo-interno" in str(exc_info[1])


@pytest.mark.django_db(transaction=True)
async def test_the_same_500_through_the_asgi_app(broken: None, asgi_client: httpx.AsyncClient) -> None:
    from asgiref.sync import sync_to_async
    from rest_framework_simplejwt.tokens import RefreshToken

    token = await sync_to_async(lambda: str(RefreshToken.for_user(make_user()).access_token))()

    response = await asgi_client.get("/api/events/summary", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert response.json()["error"] == "server_error"
    _no_leaks(response.text)


def test_a_page_500_is_the_minimal_django_page(monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.views

    def explode(request: Any) -> Any:
        raise RuntimeError("segredo-interno")

    monkeypatch.setattr(dashboard.views, "dashboard_config", explode)
    client = Client(raise_request_exception=False)
    client.force_login(make_user())

    response = client.get("/")

    assert response.status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    assert b"<h1>Server Error (500)</h1>" in response.content
    _no_leaks(response.content.decode())


@pytest.mark.parametrize("path", ["/api/nada", "/api/events/x/y/z", "/api/auth/nada"])
def test_unknown_api_paths_are_json_404(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"error": "not_found", "detail": "Recurso não encontrado."}


def test_unknown_pages_are_the_plain_django_404(client: Client) -> None:
    response = client.get("/nada/aqui/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    _no_leaks(response.content.decode())
    assert b"urlpatterns" not in response.content  # a página de depuração listaria as rotas


def test_validation_errors_do_not_echo_internals(client: Client, sign: Signer) -> None:
    body = event_body(value="not-a-number")

    response = client.post(
        "/api/webhook/event",
        body,
        content_type="application/json",
        headers={k: v for k, v in sign(body).items() if k != "content-type"},
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    _no_leaks(response.content.decode())
