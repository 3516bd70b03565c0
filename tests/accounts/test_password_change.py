"""POST /api/auth/password: troca a própria senha; tudo o que foi emitido antes cai, e volta um par novo."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.factories import PASSWORD, WRONG, bearer, login_pair, make_user

pytestmark = pytest.mark.django_db

URL = "/api/auth/password"
NEW = "outra-senha-bem-comprida-2718"


def _change(client: APIClient, old: str = PASSWORD, new: str = NEW) -> Any:
    return client.post(URL, {"old_password": old, "new_password": new}, format="json")


def test_changing_the_password_returns_a_fresh_pair_that_works() -> None:
    make_user("ana")
    tokens = login_pair("ana")

    response = _change(bearer(tokens["access"]))

    assert response.status_code == HTTPStatus.OK
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    assert bearer(fresh["access"]).get("/api/auth/me").status_code == HTTPStatus.OK
    rotated = APIClient().post("/api/auth/refresh", {"refresh": fresh["refresh"]}, format="json")
    assert rotated.status_code == HTTPStatus.OK


def test_every_token_issued_before_the_change_stops_working_at_once() -> None:
    make_user("ana")
    laptop, phone = login_pair("ana"), login_pair("ana")

    _change(bearer(laptop["access"]))

    old_access = bearer(phone["access"]).get("/api/auth/me")
    assert old_access.status_code == HTTPStatus.UNAUTHORIZED
    assert old_access.json()["error"] == "token_revoked"
    assert bearer(laptop["access"]).get("/api/auth/me").status_code == HTTPStatus.UNAUTHORIZED
    for refresh in (laptop["refresh"], phone["refresh"]):
        response = APIClient().post("/api/auth/refresh", {"refresh": refresh}, format="json")
        assert response.status_code == HTTPStatus.UNAUTHORIZED
        assert "access" not in response.json()


def test_the_new_password_logs_in_and_the_old_one_does_not() -> None:
    make_user("ana")
    _change(bearer(login_pair("ana")["access"]))

    old = APIClient().post("/api/auth/login", {"username": "ana", "password": PASSWORD}, format="json")
    new = APIClient().post("/api/auth/login", {"username": "ana", "password": NEW}, format="json")

    assert old.status_code == HTTPStatus.UNAUTHORIZED
    assert new.status_code == HTTPStatus.OK


def test_a_wrong_current_password_is_400_naming_the_field_and_changes_nothing() -> None:
    user = make_user("ana")
    tokens = login_pair("ana")

    response = _change(bearer(tokens["access"]), old=WRONG)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["old_password"]
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert bearer(tokens["access"]).get("/api/auth/me").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "new",
    ["curta1", "12345678901234", "password123", "ana@example.com"],
    ids=["too-short", "numeric", "common", "similar-to-email"],
)
def test_the_new_password_goes_through_django_validators(new: str) -> None:
    make_user("ana")

    response = _change(bearer(login_pair("ana")["access"]), new=new)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["new_password"]


def test_the_same_password_again_is_refused() -> None:
    make_user("ana")

    response = _change(bearer(login_pair("ana")["access"]), new=PASSWORD)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == ["new_password"]


@pytest.mark.parametrize("body", [{}, {"old_password": PASSWORD}, {"new_password": NEW}])
def test_missing_fields_are_named(body: dict[str, str]) -> None:
    make_user("ana")

    response = bearer(login_pair("ana")["access"]).post(URL, body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()["fields"]) == {"old_password", "new_password"} - set(body)


def test_anonymous_gets_401() -> None:
    assert _change(APIClient()).status_code == HTTPStatus.UNAUTHORIZED


def test_through_the_dashboard_session_the_calling_session_survives_and_others_end() -> None:
    user = make_user("ana")
    here, elsewhere = APIClient(), APIClient()
    here.force_login(user)
    elsewhere.force_login(user)

    response = here.post(URL, {"old_password": PASSWORD, "new_password": NEW}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert here.get("/api/auth/me").status_code == HTTPStatus.OK
    assert elsewhere.get("/api/auth/me").status_code == HTTPStatus.UNAUTHORIZED


def test_guessing_the_current_password_is_rate_limited_per_user(settings: Any) -> None:
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "default": "1000/m", "auth-password": "3/h"}
    make_user("ana")
    client = bearer(login_pair("ana")["access"])

    statuses = [_change(client, old=f"chute-{n}").status_code for n in range(3)]
    blocked = _change(client)

    assert statuses == [HTTPStatus.BAD_REQUEST] * 3
    assert blocked.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(blocked.headers["Retry-After"]) >= 1
    assert User.objects.get(username="ana").check_password(PASSWORD)
