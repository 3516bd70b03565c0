"""Fluxo completo: cadastro → login → API → renovação → logout, como um cliente faria."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import bearer_client, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "senha-do-analista-8423"


def test_register_login_use_refresh_and_logout() -> None:
    admin = bearer_client(make_user("admin", staff=True))
    client = APIClient()

    registered = admin.post("/api/auth/register", {"username": "carla", "password": PASSWORD}, format="json")
    login = client.post("/api/auth/login", {"username": "carla", "password": PASSWORD}, format="json")
    tokens = login.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    me = client.get("/api/auth/me")
    events = client.get("/api/events")
    forbidden_delete = client.delete("/api/events/" + "a" * 24)
    refreshed = APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    logout = APIClient().post("/api/auth/logout", {"refresh": refreshed.json()["refresh"]}, format="json")
    after_logout = APIClient().post("/api/auth/refresh", {"refresh": refreshed.json()["refresh"]}, format="json")
    old_refresh = APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")

    assert registered.status_code == HTTPStatus.CREATED
    assert login.status_code == HTTPStatus.OK
    assert me.json()["username"] == "carla"
    assert me.json()["isStaff"] is False
    assert events.status_code == HTTPStatus.OK
    assert forbidden_delete.status_code == HTTPStatus.FORBIDDEN
    assert refreshed.status_code == HTTPStatus.OK
    assert logout.status_code == HTTPStatus.NO_CONTENT
    assert after_logout.status_code == HTTPStatus.UNAUTHORIZED
    assert old_refresh.status_code == HTTPStatus.UNAUTHORIZED
