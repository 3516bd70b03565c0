"""``JWT_SESSION_MAX_AGE``: a rotação do refresh nunca leva a sessão além de login + duração máxima.

Antes, cada renovação empurrava o ``exp`` do refresh para frente: um refresh roubado,
renovado uma vez por dia, não morria nunca.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import jwt
import pytest
import time_machine
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.accounts.factories import bearer, login_pair, make_user

pytestmark = pytest.mark.django_db

LOGIN_AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _refresh(refresh: str) -> Any:
    return APIClient().post("/api/auth/refresh", {"refresh": refresh}, format="json")


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_daily_rotation_cannot_keep_a_session_alive_past_the_maximum_age() -> None:
    make_user("ana")
    with time_machine.travel(LOGIN_AT, tick=False) as clock:
        tokens = login_pair("ana")
        # Renova a cada 20 h (o refresh dura 1 dia): até o 7º dia a sessão segue.
        for _ in range(8):
            clock.shift(timedelta(hours=20))
            response = _refresh(tokens["refresh"])
            assert response.status_code == HTTPStatus.OK
            tokens = response.json()
        clock.move_to(LOGIN_AT + timedelta(days=7))

        expired = _refresh(tokens["refresh"])

    assert expired.status_code == HTTPStatus.UNAUTHORIZED
    assert expired.json()["error"] == "session_expired"
    assert "access" not in expired.json()


def test_rotation_preserves_the_login_time() -> None:
    make_user("ana")
    with time_machine.travel(LOGIN_AT, tick=False) as clock:
        first = login_pair("ana")
        clock.shift(timedelta(hours=5))
        second = _refresh(first["refresh"]).json()

    assert _claims(second["refresh"])["auth_time"] == int(LOGIN_AT.timestamp())
    assert _claims(second["access"])["auth_time"] == int(LOGIN_AT.timestamp())
    assert _claims(second["refresh"])["iat"] > _claims(first["refresh"])["iat"]


def test_no_access_token_outlives_the_session(settings: Any) -> None:
    settings.JWT_SESSION_MAX_AGE = timedelta(hours=1)
    make_user("ana")
    with time_machine.travel(LOGIN_AT, tick=False) as clock:
        tokens = login_pair("ana")
        clock.shift(timedelta(minutes=55))
        late = _refresh(tokens["refresh"]).json()
        clock.shift(timedelta(minutes=5))

        after_end = bearer(late["access"]).get("/api/auth/me")

    session_end = int((LOGIN_AT + timedelta(hours=1)).timestamp())
    assert _claims(late["access"])["exp"] == session_end
    assert after_end.status_code == HTTPStatus.UNAUTHORIZED


def test_the_maximum_age_is_configurable(settings: Any) -> None:
    settings.JWT_SESSION_MAX_AGE = timedelta(hours=2)
    make_user("ana")
    with time_machine.travel(LOGIN_AT, tick=False) as clock:
        tokens = login_pair("ana")
        clock.shift(timedelta(hours=1, minutes=59))
        inside = _refresh(tokens["refresh"])
        clock.shift(timedelta(minutes=1))
        outside = _refresh(inside.json()["refresh"])

    assert inside.status_code == HTTPStatus.OK
    assert outside.status_code == HTTPStatus.UNAUTHORIZED
    assert outside.json()["error"] == "session_expired"


def test_a_refresh_issued_before_the_claim_existed_counts_from_its_issue_time(settings: Any) -> None:
    settings.JWT_SESSION_MAX_AGE = timedelta(hours=2)
    user = make_user("ana")
    with time_machine.travel(LOGIN_AT, tick=False) as clock:
        legacy = str(RefreshToken.for_user(user))  # sem auth_time, como os emitidos antes
        clock.shift(timedelta(hours=1))
        rotated = _refresh(legacy).json()
        clock.shift(timedelta(hours=1))
        expired = _refresh(rotated["refresh"])

    assert _claims(rotated["refresh"])["auth_time"] == int(LOGIN_AT.timestamp())
    assert expired.json()["error"] == "session_expired"


def test_logging_in_again_starts_a_new_session() -> None:
    make_user("ana")
    with time_machine.travel(LOGIN_AT, tick=False) as clock:
        login_pair("ana")
        clock.shift(timedelta(days=7, hours=1))
        fresh = login_pair("ana")

        response = _refresh(fresh["refresh"])

    assert response.status_code == HTTPStatus.OK


def test_the_refusal_explains_itself_in_the_clients_language(settings: Any) -> None:
    settings.JWT_SESSION_MAX_AGE = timedelta(hours=1)
    make_user("ana")
    with time_machine.travel(LOGIN_AT, tick=False) as clock:
        tokens = login_pair("ana")
        clock.shift(timedelta(hours=1))
        body = {"refresh": tokens["refresh"]}
        portuguese = APIClient().post("/api/auth/refresh", body, format="json").json()
        english = APIClient().post("/api/auth/refresh", body, format="json", HTTP_ACCEPT_LANGUAGE="en").json()

    assert portuguese["detail"].startswith("Sessão expirada")
    assert english == {"error": "session_expired", "detail": english["detail"]}
    assert english["detail"].startswith("Session expired")
