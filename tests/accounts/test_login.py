"""POST /api/auth/login: usuário e senha → par JWT."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

URL = "/api/auth/login"


def test_valid_credentials_return_an_access_and_refresh_pair() -> None:
    make_user("ana")
    client = APIClient()

    response = client.post(URL, {"username": "ana", "password": PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert set(response.json()) == {"access", "refresh"}
    me = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.status_code == HTTPStatus.OK
    assert me.json()["username"] == "ana"


def test_login_records_last_login() -> None:
    user = make_user("ana")

    APIClient().post(URL, {"username": "ana", "password": PASSWORD}, format="json")

    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize(
    ("username", "password"),
    [("ana", "wrong-password"), ("nobody", PASSWORD), ("ANA", PASSWORD)],
    ids=["wrong-password", "unknown-user", "username-is-case-sensitive"],
)
def test_bad_credentials_get_401_with_the_same_answer(username: str, password: str) -> None:
    make_user("ana")

    response = APIClient().post(URL, {"username": username, "password": password}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json()["error"] == "not_authenticated"
    assert "access" not in response.json()


def test_inactive_user_cannot_log_in() -> None:
    make_user("ana", active=False)

    response = APIClient().post(URL, {"username": "ana", "password": PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_missing_fields_get_400_naming_them() -> None:
    response = APIClient().post(URL, {}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()["fields"]) == {"username", "password"}


def test_slashed_form_answers_without_redirecting() -> None:
    make_user("ana")

    response = APIClient().post(URL + "/", {"username": "ana", "password": PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert "access" in response.json()
