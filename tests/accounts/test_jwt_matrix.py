"""Matriz de tokens JWT: só um access válido, assinado com a chave e o algoritmo fixados, entra."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import jwt
import pytest
import time_machine
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from tests.accounts.factories import make_user

pytestmark = pytest.mark.django_db

PROTECTED = ["/api/auth/me", "/api/events", "/api/events/summary"]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _access(user: User) -> str:
    return str(RefreshToken.for_user(user).access_token)


def _get(url: str, authorization: str | None) -> Any:
    client = APIClient()
    if authorization is not None:
        client.credentials(HTTP_AUTHORIZATION=authorization)
    return client.get(url)


@pytest.mark.parametrize("url", PROTECTED)
def test_a_valid_access_token_is_accepted(url: str) -> None:
    response = _get(url, f"Bearer {_access(make_user())}")

    assert response.status_code == HTTPStatus.OK


def _no_token(user: User) -> str | None:
    return None


def _tampered(user: User) -> str:
    # Troca o usuário no corpo sem reassinar.
    header, _payload, signature = _access(user).split(".")
    other = make_user("someone-else", staff=True)
    claims = _claims(_access(user)) | {"user_id": str(other.pk)}
    return f"Bearer {header}.{_b64(claims)}.{signature}"


def _alg_none(user: User) -> str:
    claims = _claims(_access(user))
    return f"Bearer {_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _wrong_key(user: User) -> str:
    return "Bearer " + jwt.encode(_claims(_access(user)), "another-signing-key-" + "x" * 40, algorithm="HS256")


def _other_algorithm(user: User) -> str:
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    return "Bearer " + jwt.encode(_claims(_access(user)), key, algorithm="HS384")


def _refresh_as_access(user: User) -> str:
    return f"Bearer {RefreshToken.for_user(user)}"


def _inactive(user: User) -> str:
    token = _access(user)
    user.is_active = False
    user.save()
    return f"Bearer {token}"


def _deleted(user: User) -> str:
    token = _access(user)
    user.delete()
    return f"Bearer {token}"


def _garbage(user: User) -> str:
    return "Bearer not-a-jwt"


def _two_parts(user: User) -> str:
    return f"Bearer {_access(user)} extra"


MATRIX: dict[str, Callable[[User], str | None]] = {
    "no-token": _no_token,
    "tampered-payload": _tampered,
    "alg-none": _alg_none,
    "wrong-key": _wrong_key,
    "other-algorithm": _other_algorithm,
    "refresh-used-as-access": _refresh_as_access,
    "inactive-user": _inactive,
    "deleted-user": _deleted,
    "garbage": _garbage,
    "malformed-header": _two_parts,
}


@pytest.mark.parametrize("url", PROTECTED)
@pytest.mark.parametrize("case", list(MATRIX))
def test_bad_credentials_get_401(case: str, url: str) -> None:
    authorization = MATRIX[case](make_user())

    response = _get(url, authorization)

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"] == "not_authenticated"


@pytest.mark.parametrize("url", PROTECTED)
def test_an_expired_access_token_gets_401(url: str) -> None:
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    with time_machine.travel("2026-11-29T12:00:00Z", tick=False) as traveller:
        authorization = f"Bearer {_access(make_user())}"
        traveller.shift(lifetime - timedelta(seconds=1))
        still_valid = _get(url, authorization)
        traveller.shift(timedelta(seconds=2))

        response = _get(url, authorization)

    assert still_valid.status_code == HTTPStatus.OK
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_access_lifetime_is_short_and_algorithm_pinned() -> None:
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] <= timedelta(minutes=15)
    assert settings.SIMPLE_JWT["ALGORITHM"] == "HS256"
    header = jwt.get_unverified_header(_access(make_user()))
    assert header["alg"] == "HS256"
