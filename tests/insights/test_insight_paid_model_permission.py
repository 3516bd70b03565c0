"""Chamadas pagas ao modelo só para a equipe ou quem tem ``insights.use_paid_model``.

Antes, qualquer conta (inclusive as do cadastro aberto) disparava chamadas à OpenAI: três
usuários autocadastrados gastaram o orçamento do dia inteiro. Os demais recebem o motor
offline, com ``fallbackReason=not_permitted``, sem nenhuma chamada nem registro de custo.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from insights.models import InsightCall
from tests.insights.conftest import GOOD_DRAFT, reply

pytestmark = pytest.mark.django_db

REFRESH = {"refresh": True}


def _client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def model_route(openai_mock: Any) -> Any:
    return openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))


def test_a_user_without_permission_gets_the_offline_engine_and_costs_nothing(
    unprivileged: User, seeded: Any, frozen: Any, model_route: Any
) -> None:
    response = _client(unprivileged).post("/api/insights", REFRESH, format="json")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["source"] == "offline"
    assert body["fallbackReason"] == "not_permitted"
    assert body["usage"]["costUsd"] == 0
    assert model_route.call_count == 0
    assert not InsightCall.objects.exists()


def test_not_permitted_is_not_an_error_even_in_error_mode(
    unprivileged: User, seeded: Any, frozen: Any, model_route: Any, insight_settings: Any
) -> None:
    insight_settings.INSIGHT_FALLBACK = "error"

    response = _client(unprivileged).get("/api/insights")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["fallbackReason"] == "not_permitted"
    assert model_route.call_count == 0


def test_staff_calls_the_model(seeded: Any, frozen: Any, model_route: Any) -> None:
    staff = User.objects.create_user(username="chefe", password="x-strong-pass-9", is_staff=True)

    body = _client(staff).post("/api/insights", REFRESH, format="json").json()

    assert body["source"] == "openai"
    assert model_route.call_count == 1


def test_the_permission_granted_directly_or_through_a_group_calls_the_model(
    unprivileged: User, seeded: Any, frozen: Any, model_route: Any
) -> None:
    permission = Permission.objects.get(codename="use_paid_model", content_type__app_label="insights")
    direct = User.objects.create_user(username="dora", password="x-strong-pass-4")
    direct.user_permissions.add(permission)
    group = Group.objects.create(name="Analistas com OpenAI")
    group.permissions.add(permission)
    member = User.objects.create_user(username="gil", password="x-strong-pass-5")
    member.groups.add(group)

    sources = [
        _client(user).post("/api/insights", REFRESH, format="json").json()["source"] for user in (direct, member)
    ]

    assert sources == ["openai", "openai"]
    assert model_route.call_count == 2


def test_a_cached_answer_is_shared_because_it_costs_nothing(
    analyst: User, unprivileged: User, seeded: Any, frozen: Any, model_route: Any
) -> None:
    _client(analyst).get("/api/insights")

    body = _client(unprivileged).get("/api/insights").json()

    assert (body["source"], body["cached"]) == ("openai", True)
    assert model_route.call_count == 1


def test_three_self_registered_users_cannot_spend_the_budget(seeded: Any, frozen: Any, model_route: Any) -> None:
    strangers = [User.objects.create_user(username=f"novo{n}", password="x-strong-pass-6") for n in range(3)]

    for stranger in strangers:
        for _ in range(5):
            _client(stranger).post("/api/insights", REFRESH, format="json")

    assert model_route.call_count == 0
    assert not InsightCall.objects.exists()
