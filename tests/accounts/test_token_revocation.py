"""Troca de senha (por qualquer caminho), desativação e logout geral derrubam tokens e sessões emitidos.

Antes, refresh tokens sobreviviam a uma troca de senha: quem tinha roubado um continuava
renovando. Cada caminho que muda credenciais é exercitado aqui pela porta de verdade
(API, formulário do Django, admin, ``set_password`` + ``save``).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

import trader_monitor.settings as production
from accounts.models import User
from tests.accounts.factories import PASSWORD, bearer, login_pair, make_user

pytestmark = pytest.mark.django_db

NEW = "outra-senha-bem-comprida-2718"


def _refresh(refresh: str) -> Any:
    return APIClient().post("/api/auth/refresh", {"refresh": refresh}, format="json")


def assert_revoked(tokens: dict[str, str]) -> None:
    access = bearer(tokens["access"]).get("/api/auth/me")
    assert access.status_code == HTTPStatus.UNAUTHORIZED
    assert _refresh(tokens["refresh"]).status_code == HTTPStatus.UNAUTHORIZED


def assert_valid(tokens: dict[str, str]) -> None:
    assert bearer(tokens["access"]).get("/api/auth/me").status_code == HTTPStatus.OK
    assert _refresh(tokens["refresh"]).status_code == HTTPStatus.OK


def test_djangos_password_change_form_revokes_tokens_and_keeps_that_session() -> None:
    user = make_user("ana")
    tokens = login_pair("ana")
    browser, other_browser = Client(), Client()
    browser.force_login(user)
    other_browser.force_login(user)

    response = browser.post("/password_change/", {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})

    assert response.status_code == HTTPStatus.FOUND
    assert_revoked(tokens)
    assert browser.get("/api/auth/me").status_code == HTTPStatus.OK
    assert other_browser.get("/api/auth/me").status_code == HTTPStatus.UNAUTHORIZED


def test_an_admin_setting_the_password_revokes_the_users_tokens() -> None:
    make_user("ana")
    tokens = login_pair("ana")
    admin = Client()
    admin.force_login(User.objects.create_superuser("raiz", "raiz@example.com", PASSWORD))
    target = User.objects.get(username="ana")

    response = admin.post(
        f"/admin/accounts/user/{target.pk}/password/",
        {"password1": NEW, "password2": NEW, "usable_password": "true"},
    )

    assert response.status_code == HTTPStatus.FOUND, response.content[:500]
    assert User.objects.get(pk=target.pk).check_password(NEW)
    assert_revoked(tokens)


def test_set_password_and_save_as_changepassword_does_revokes_tokens() -> None:
    user = make_user("ana")
    tokens = login_pair("ana")

    user.set_password(NEW)
    user.save()

    assert_revoked(tokens)


def test_deactivating_the_account_revokes_access_at_once() -> None:
    user = make_user("ana")
    tokens = login_pair("ana")

    user.is_active = False
    user.save()

    assert bearer(tokens["access"]).get("/api/auth/me").status_code == HTTPStatus.UNAUTHORIZED
    assert _refresh(tokens["refresh"]).status_code == HTTPStatus.UNAUTHORIZED
    assert BlacklistedToken.objects.filter(token__user=user).exists()


def test_every_outstanding_refresh_of_the_user_is_blacklisted() -> None:
    user = make_user("ana")
    make_user("bia")
    for _ in range(3):
        login_pair("ana")
    login_pair("bia")

    user.set_password(NEW)
    user.save()

    assert OutstandingToken.objects.filter(user=user).count() == 3
    assert BlacklistedToken.objects.filter(token__user=user).count() == 3
    assert not BlacklistedToken.objects.filter(token__user__username="bia").exists()


def test_logout_all_revokes_every_token_and_session_of_the_user_only() -> None:
    user = make_user("ana")
    make_user("bia")
    laptop, phone, other = login_pair("ana"), login_pair("ana"), login_pair("bia")
    browser = Client()
    browser.force_login(user)

    response = bearer(laptop["access"]).post("/api/auth/logout-all")

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert_revoked(laptop)
    assert_revoked(phone)
    assert browser.get("/api/auth/me").status_code == HTTPStatus.UNAUTHORIZED
    assert_valid(other)
    assert_valid(login_pair("ana"))


def test_a_revoked_access_token_says_why() -> None:
    make_user("ana")
    tokens = login_pair("ana")
    bearer(tokens["access"]).post("/api/auth/logout-all")

    response = bearer(tokens["access"]).get("/api/auth/me")
    refresh = _refresh(tokens["refresh"])

    assert response.json()["error"] == "token_revoked"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert refresh.status_code == HTTPStatus.UNAUTHORIZED


def test_saving_the_same_password_again_revokes_nothing() -> None:
    user = make_user("ana")
    tokens = login_pair("ana")

    user.set_password(PASSWORD)
    user.save()

    assert_valid(tokens)


@override_settings(PASSWORD_HASHERS=production.PASSWORD_HASHERS)
def test_a_hash_upgrade_on_login_is_not_a_password_change() -> None:
    user = make_user("ana")
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, hasher="pbkdf2_sha256"))
    earlier = login_pair("ana")  # este login já atualiza o hash para Argon2

    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert_valid(earlier)


def test_saving_a_stale_copy_of_the_user_does_not_bring_revoked_tokens_back() -> None:
    stale = make_user("ana")
    tokens = login_pair("ana")
    bearer(tokens["access"]).post("/api/auth/logout-all")

    stale.first_name = "Ana"
    stale.save()

    assert_revoked(tokens)
    assert User.objects.get(pk=stale.pk).first_name == "Ana"


def test_tokens_minted_without_the_version_claim_die_with_the_first_revocation() -> None:
    # Tokens emitidos antes do claim "ver" (ou fora do login) contam como versão 0.
    from rest_framework_simplejwt.tokens import RefreshToken

    user = make_user("ana")
    legacy = RefreshToken.for_user(user)
    tokens = {"access": str(legacy.access_token), "refresh": str(legacy)}
    assert bearer(tokens["access"]).get("/api/auth/me").status_code == HTTPStatus.OK

    user.set_password(NEW)
    user.save()

    assert_revoked(tokens)
