"""GET /api/auth/me: o usuário autenticado (JWT ou sessão do painel)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import bearer_client, make_user

pytestmark = pytest.mark.django_db

URL = "/api/auth/me"


def test_me_describes_the_user_without_secrets() -> None:
    user = make_user("ana", staff=True)

    response = bearer_client(user).get(URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "id": user.pk,
        "username": "ana",
        "email": "ana@example.com",
        "firstName": "",
        "lastName": "",
        "isStaff": True,
        "dateJoined": response.json()["dateJoined"],
        "lastLogin": None,
    }


def test_anonymous_gets_401_with_a_bearer_challenge() -> None:
    response = APIClient().get(URL)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "not_authenticated"


def test_dashboard_session_also_authenticates() -> None:
    client = APIClient()
    client.force_login(make_user("ana"))

    response = client.get(URL)

    assert response.status_code == HTTPStatus.OK
    assert response.json()["username"] == "ana"
