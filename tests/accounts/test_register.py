"""POST /api/auth/register: administradores cadastram; com ALLOW_SIGNUP, qualquer pessoa."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.factories import bearer_client, make_user

pytestmark = pytest.mark.django_db

URL = "/api/auth/register"
GOOD = {"username": "bruno", "email": "bruno@example.com", "password": "uma-senha-bem-longa-9137"}


def test_staff_registers_an_analyst() -> None:
    staff = make_user("admin", staff=True)

    response = bearer_client(staff).post(URL, GOOD, format="json")

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body["username"] == "bruno"
    assert body["email"] == "bruno@example.com"
    assert body["isStaff"] is False
    created = User.objects.get(username="bruno")
    assert created.check_password(GOOD["password"])
    assert not created.is_staff


def test_the_new_user_can_log_in() -> None:
    bearer_client(make_user("admin", staff=True)).post(URL, GOOD, format="json")

    response = APIClient().post("/api/auth/login", {"username": "bruno", "password": GOOD["password"]}, format="json")

    assert response.status_code == HTTPStatus.OK


def test_anonymous_cannot_register_when_signup_is_closed() -> None:
    response = APIClient().post(URL, GOOD, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert not User.objects.filter(username="bruno").exists()


def test_analyst_cannot_register_others() -> None:
    response = bearer_client(make_user("ana")).post(URL, GOOD, format="json")

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not User.objects.filter(username="bruno").exists()


@override_settings(ALLOW_SIGNUP=True)
def test_anyone_registers_when_signup_is_open() -> None:
    response = APIClient().post(URL, GOOD, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert User.objects.filter(username="bruno", is_staff=False).exists()


@pytest.mark.parametrize(
    "password",
    ["curta1", "12345678901234", "password123", "bruno123"],
    ids=["too-short", "numeric", "common", "similar-to-username"],
)
@override_settings(ALLOW_SIGNUP=True)
def test_weak_passwords_are_rejected_by_django_validators(password: str) -> None:
    response = APIClient().post(URL, {**GOOD, "password": password}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["password"]
    assert not User.objects.filter(username="bruno").exists()


@override_settings(ALLOW_SIGNUP=True)
def test_username_taken_in_any_letter_case_is_rejected() -> None:
    make_user("Bruno")

    response = APIClient().post(URL, GOOD, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["username"]


@pytest.mark.parametrize("username", ["", "com espaço", "x" * 151, "a/b"])
@override_settings(ALLOW_SIGNUP=True)
def test_invalid_usernames_are_rejected(username: str) -> None:
    response = APIClient().post(URL, {**GOOD, "username": username}, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "username" in response.json()["fields"]


@override_settings(ALLOW_SIGNUP=True)
def test_email_is_optional_but_must_be_valid() -> None:
    without = APIClient().post(URL, {"username": "bruno", "password": GOOD["password"]}, format="json")
    invalid = APIClient().post(URL, {**GOOD, "username": "carla", "email": "not-an-email"}, format="json")

    assert without.status_code == HTTPStatus.CREATED
    assert invalid.status_code == HTTPStatus.BAD_REQUEST
    assert list(invalid.json()["fields"]) == ["email"]
