"""POST /api/auth/refresh: rotação do refresh; o antigo fica revogado."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

URL = "/api/auth/refresh"


def _login(username: str = "ana") -> dict[str, str]:
    response = APIClient().post("/api/auth/login", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == HTTPStatus.OK
    tokens: dict[str, str] = response.json()
    return tokens


def test_refresh_returns_a_new_pair_and_the_new_access_works() -> None:
    make_user("ana")
    tokens = _login()

    response = APIClient().post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == HTTPStatus.OK
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    assert fresh["refresh"] != tokens["refresh"]
    me = APIClient().get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    assert me.status_code == HTTPStatus.OK


def test_a_rotated_refresh_cannot_be_used_again() -> None:
    make_user("ana")
    tokens = _login()
    first = APIClient().post(URL, {"refresh": tokens["refresh"]}, format="json")

    replay = APIClient().post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert first.status_code == HTTPStatus.OK
    assert replay.status_code == HTTPStatus.UNAUTHORIZED
    assert "access" not in replay.json()


def test_access_token_is_not_accepted_as_refresh() -> None:
    make_user("ana")
    tokens = _login()

    response = APIClient().post(URL, {"refresh": tokens["access"]}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_refresh_of_a_deactivated_user_is_refused() -> None:
    user = make_user("ana")
    tokens = _login()
    user.is_active = False
    user.save()

    response = APIClient().post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_refresh_of_a_deleted_user_is_refused_not_500() -> None:
    user = make_user("ana")
    tokens = _login()
    user.delete()

    response = APIClient().post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


@pytest.mark.parametrize("body", [{}, {"refresh": ""}], ids=["missing", "blank"])
def test_missing_refresh_gets_400(body: dict[str, str]) -> None:
    response = APIClient().post(URL, body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["refresh"]


def test_garbage_refresh_gets_401() -> None:
    response = APIClient().post(URL, {"refresh": "not.a.jwt"}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
