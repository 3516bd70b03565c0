"""O livro-caixa no admin: visível para administradores, só leitura."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.test import Client

from accounts.models import User
from insights.models import InsightCall
from tests.insights.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_frozen(frozen) -> Client:
    admin = User.objects.create_superuser(username="root", password="x-strong-pass-3", email="r@example.com")
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def call(frozen) -> InsightCall:
    return InsightCall.objects.create(
        range_label="range=24h",
        window_start=NOW - timedelta(hours=24),
        window_end=NOW,
        model="gpt-5.4-mini-2026-03-17",
        outcome=InsightCall.Outcome.OK,
        input_tokens=1200,
        output_tokens=300,
        cost_usd=Decimal("0.002115"),
        latency_ms=850,
        fingerprint="a" * 64,
    )


def test_admin_lists_the_calls_with_todays_spend(admin_client_frozen, call):
    response = admin_client_frozen.get("/admin/insights/insightcall/")

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "gpt-5.4-mini-2026-03-17" in page
    assert "0,00211500" in page or "0.00211500" in page
    assert "Gasto de hoje: US$ 0.0021 de US$ 1.00" in page


def test_admin_is_read_only(admin_client_frozen, call):
    url = f"/admin/insights/insightcall/{call.pk}/change/"

    assert admin_client_frozen.get(url).status_code == HTTPStatus.OK
    assert admin_client_frozen.post(url, {"cost_usd": "0"}).status_code == HTTPStatus.FORBIDDEN
    assert admin_client_frozen.get("/admin/insights/insightcall/add/").status_code == HTTPStatus.FORBIDDEN
    assert admin_client_frozen.post(f"/admin/insights/insightcall/{call.pk}/delete/").status_code == (
        HTTPStatus.FORBIDDEN
    )
    call.refresh_from_db()
    assert call.cost_usd == Decimal("0.00211500")
