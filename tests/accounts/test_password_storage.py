"""Senhas: Argon2 primeiro em produção, hashes antigos atualizados no login, nunca serializadas."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from rest_framework.test import APIClient

import trader_monitor.settings as production
from accounts.models import User
from tests.accounts.factories import PASSWORD, bearer_client, make_user

pytestmark = pytest.mark.django_db

ARGON2 = "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_production_hashes_with_argon2_and_keeps_older_hashers_for_upgrade() -> None:
    hashers = production.PASSWORD_HASHERS

    assert hashers[0] == ARGON2
    assert "django.contrib.auth.hashers.BCryptSHA256PasswordHasher" in hashers
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in hashers


@override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS)
def test_a_registered_password_is_stored_as_argon2() -> None:
    staff = make_user("admin", staff=True)

    response = bearer_client(staff).post(
        "/api/auth/register", {"username": "bruno", "password": PASSWORD}, format="json"
    )

    assert response.status_code == HTTPStatus.CREATED
    assert User.objects.get(username="bruno").password.startswith("argon2$")


@override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS)
def test_an_old_pbkdf2_hash_is_upgraded_to_argon2_on_login() -> None:
    user = make_user("ana")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))

    response = APIClient().post("/api/auth/login", {"username": "ana", "password": PASSWORD}, format="json")

    assert response.status_code == HTTPStatus.OK
    user.refresh_from_db()
    assert user.password.startswith("argon2$")


@override_settings(ALLOW_SIGNUP=True)
def test_no_auth_response_contains_the_password_or_its_hash() -> None:
    client = APIClient()
    registered = client.post("/api/auth/register", {"username": "bruno", "password": PASSWORD}, format="json")
    tokens = client.post("/api/auth/login", {"username": "bruno", "password": PASSWORD}, format="json")
    refreshed = client.post("/api/auth/refresh", {"refresh": tokens.json()["refresh"]}, format="json")
    me = client.get("/api/auth/me", HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    stored_hash = User.objects.get(username="bruno").password
    hash_tail = stored_hash.rsplit("$", 1)[-1]

    for response in (registered, tokens, refreshed, me):
        text = json.dumps(response.json())
        assert response.status_code in {HTTPStatus.OK, HTTPStatus.CREATED}
        assert PASSWORD not in text
        assert hash_tail not in text
        assert "password" not in text.lower()
