"""Regras no admin: as mesmas exigências por tipo da API, no campo do formulário."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import User
from events.alerts.models import AlertRule

pytestmark = pytest.mark.django_db

URL = "/admin/alerts/alertrule/add/"


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("raiz", "raiz@example.com", "senha-bem-comprida-123"))
    return client


def form(**fields: str) -> dict[str, str]:
    data = {
        "name": "Saque alto",
        "kind": "threshold",
        "severity": "warning",
        "enabled": "on",
        "cooldown_seconds": "300",
    }
    data.update(fields)
    return data


def test_the_add_form_opens(admin_client: Client) -> None:
    assert admin_client.get(URL).status_code == HTTPStatus.OK
    assert admin_client.get("/admin/alerts/alertrule/").status_code == HTTPStatus.OK


def test_a_threshold_rule_without_its_fields_is_refused_on_those_fields(admin_client: Client) -> None:
    response = admin_client.post(URL, form(event_type="withdraw"))

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"op", "threshold"}
    assert not AlertRule.objects.exists()


def test_a_complete_rule_is_saved_with_its_author(admin_client: Client) -> None:
    response = admin_client.post(URL, form(event_type="withdraw", op=">", threshold="5000"))

    assert response.status_code == HTTPStatus.FOUND
    rule = AlertRule.objects.get()
    assert (rule.threshold, rule.created_by.username if rule.created_by else None) == (5000.0, "raiz")
