"""CSRF nas escritas autenticadas por sessão (o painel): sem token → 403; com token → passa.

O JWT vai num cabeçalho que o navegador não anexa sozinho, então não precisa de CSRF.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import pytest
from django.test import Client
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from tests.accounts.factories import make_user
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> User:
    return make_user("chefe", staff=True)


@pytest.fixture
def new_event(client: Client, sign: Signer) -> Callable[[], str]:
    def make() -> str:
        body = event_body()
        headers = {k: v for k, v in sign(body).items() if k != "content-type"}
        response = client.post("/api/webhook/event", body, content_type="application/json", headers=headers)
        event_id: str = response.json()["id"]
        return event_id

    return make


def _session(user: User, csrf: str | None) -> Client:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    if csrf is not None:
        browser.cookies["csrftoken"] = csrf
    return browser


WRITES: dict[str, Callable[[Client, str, dict[str, str]], Any]] = {
    "delete-event": lambda c, event, h: c.delete(f"/api/events/{event}", headers=h),
    "insight": lambda c, event, h: c.post("/api/insights", {}, content_type="application/json", headers=h),
    "register": lambda c, event, h: c.post(
        "/api/auth/register",
        {"username": "novo", "password": "uma-senha-bem-comprida-42"},
        content_type="application/json",
        headers=h,
    ),
    "admin-delete": lambda c, event, h: c.post(f"/admin/events/event/{event}/delete/", headers=h),
}
ALLOWED = {"delete-event": 204, "insight": 200, "register": 201, "admin-delete": 302}


@pytest.mark.parametrize("write", list(WRITES))
def test_session_write_without_csrf_token_is_403(staff: User, new_event: Callable[[], str], write: str) -> None:
    event = new_event()

    response = WRITES[write](_session(staff, csrf=None), event, {})

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert event in Client().get(f"/api/events/{event}", headers=_jwt(staff)).content.decode()


@pytest.mark.parametrize("write", list(WRITES))
def test_session_write_with_a_wrong_csrf_token_is_403(staff: User, new_event: Callable[[], str], write: str) -> None:
    response = WRITES[write](_session(staff, csrf=secrets.token_hex(16)), new_event(), {"X-CSRFToken": "0" * 32})

    assert response.status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("write", list(WRITES))
def test_session_write_with_the_csrf_token_is_allowed(staff: User, new_event: Callable[[], str], write: str) -> None:
    csrf = secrets.token_hex(16)

    response = WRITES[write](_session(staff, csrf=csrf), new_event(), {"X-CSRFToken": csrf})

    assert response.status_code == ALLOWED[write]


@pytest.mark.parametrize("write", ["delete-event", "insight", "register"])
def test_jwt_writes_need_no_csrf_token(staff: User, new_event: Callable[[], str], write: str) -> None:
    response = WRITES[write](Client(enforce_csrf_checks=True), new_event(), _jwt(staff))

    assert response.status_code == ALLOWED[write]


def test_the_api_error_for_a_missing_csrf_token_uses_the_api_error_shape(
    staff: User, new_event: Callable[[], str]
) -> None:
    response = WRITES["delete-event"](_session(staff, csrf=None), new_event(), {})

    assert response.json()["error"] == "permission_denied"
    assert "CSRF" in response.json()["detail"]


def _jwt(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {RefreshToken.for_user(user).access_token}"}
