"""Content-Security-Policy no admin do Django e no Swagger UI (``/api/docs/``), além do painel.

O painel tem a própria política (tests/dashboard/test_pages.py); aqui, as páginas que antes
saíam sem nenhuma. A política não admite script nem estilo inline nem de outra origem; que
as páginas continuam funcionando no Chromium está em tests/dashboard/test_browser_csp.py.
"""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import User
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db


def directives(policy: str) -> dict[str, set[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = set(sources)
    return parsed


def assert_strict(policy: str | None) -> None:
    assert policy is not None
    parsed = directives(policy)
    assert parsed["default-src"] == {"'self'"}
    assert parsed["script-src"] == {"'self'"}
    assert parsed["style-src"] == {"'self'"}
    assert parsed["object-src"] == {"'none'"}
    assert parsed["base-uri"] == {"'none'"}
    assert parsed["frame-ancestors"] == {"'none'"}
    assert not any("unsafe" in source for sources in parsed.values() for source in sources)


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("raiz", "raiz@example.com", PASSWORD))
    return client


@pytest.mark.parametrize("path", ["/admin/login/", "/api/docs/", "/api/docs/?script="])
def test_admin_login_and_swagger_ui_send_a_strict_policy(client: Client, path: str) -> None:
    response = client.get(path)

    assert response.status_code == HTTPStatus.OK
    assert_strict(response.headers.get("Content-Security-Policy"))


@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/accounts/user/",
        "/admin/accounts/user/add/",
        "/admin/insights/insightcall/",
        "/admin/events/event/",
        "/admin/events/rejectedwebhook/",
    ],
)
def test_every_admin_screen_sends_the_policy(superuser_client: Client, path: str) -> None:
    response = superuser_client.get(path)

    assert response.status_code == HTTPStatus.OK
    assert_strict(response.headers.get("Content-Security-Policy"))


def test_the_swagger_page_has_no_inline_script_or_style(client: Client) -> None:
    html = client.get("/api/docs/").content.decode()

    assert "<style" not in html
    assert "<script>" not in html
    assert '<script src="/api/docs/?script="></script>' in html


def test_swagger_ui_does_not_call_the_online_validator(client: Client) -> None:
    script = client.get("/api/docs/?script=").content.decode()

    assert '"validatorUrl": null' in script


def test_the_dashboard_keeps_its_own_policy_with_the_websocket(client: Client) -> None:
    policy = client.get("/login/").headers["Content-Security-Policy"]

    assert "connect-src 'self' ws://testserver wss://testserver" in policy
