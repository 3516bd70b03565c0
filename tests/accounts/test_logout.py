"""POST /api/auth/logout: revoga o refresh (lista negra)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

URL = "/api/auth/logout"


def _login() -> dict[str, str]:
    response = APIClient().post("/api/auth/login", {"username": "ana", "password": PASSWORD}, format="json")
    tokens: dict[str, str] = response.json()
    return tokens


def test_logout_revokes_the_refresh_token() -> None:
    make_user("ana")
    tokens = _login()

    response = APIClient().post(URL, {"refresh": tokens["refresh"]}, format="json")
    refresh = APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert refresh.status_code == HTTPStatus.UNAUTHORIZED


def test_logout_twice_with_the_same_refresh_gets_401() -> None:
    make_user("ana")
    tokens = _login()
    APIClient().post(URL, {"refresh": tokens["refresh"]}, format="json")

    again = APIClient().post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert again.status_code == HTTPStatus.UNAUTHORIZED


def test_logout_does_not_touch_other_sessions() -> None:
    make_user("ana")
    laptop, phone = _login(), _login()

    APIClient().post(URL, {"refresh": laptop["refresh"]}, format="json")
    phone_refresh = APIClient().post("/api/auth/refresh", {"refresh": phone["refresh"]}, format="json")

    assert phone_refresh.status_code == HTTPStatus.OK


def test_logout_with_an_invalid_token_gets_401_and_without_one_400() -> None:
    invalid = APIClient().post(URL, {"refresh": "x.y.z"}, format="json")
    missing = APIClient().post(URL, {}, format="json")

    assert invalid.status_code == HTTPStatus.UNAUTHORIZED
    assert missing.status_code == HTTPStatus.BAD_REQUEST
