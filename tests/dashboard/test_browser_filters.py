"""Filtros compartilhados (período, tipo, usuário) e paginação da tabela, no navegador."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import ingest, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]


@pytest.fixture
def history():
    ingest(user_id="u-ana", event_type="purchase", value=100.0, ago=timedelta(minutes=5))
    ingest(user_id="u-ana", event_type="deposit", value=1000.0, ago=timedelta(minutes=30))
    ingest(user_id="u-bia", event_type="purchase", value=40.0, ago=timedelta(hours=2))
    ingest(user_id="u-bia", event_type="login", value=0.0, ago=timedelta(hours=3))
    ingest(user_id="u-caio", event_type="deposit", value=250.0, ago=timedelta(days=3))


def table_users(page: Page) -> list[str]:
    return page.locator("#events-table tbody tr td.cell-user").all_inner_texts()


def test_type_filter_changes_table_kpis_and_url(page, analyst, history):
    log_in(page, "analista")
    expect(page.locator("#events-table tbody tr")).to_have_count(4)

    page.get_by_label("Tipo de evento").select_option("purchase")

    expect(page.locator("#events-table tbody tr")).to_have_count(2)
    assert table_users(page) == ["u-ana", "u-bia"]
    expect(page.locator("#kpi-count")).to_have_text("2")
    expect(page.locator("#kpi-sum")).to_have_text("140,00")
    expect(page.locator("#kpi-users")).to_have_text("2")
    expect(page).to_have_url(re.compile(r"\?type=purchase$"))


def test_range_filter_widens_the_table(page, analyst, history):
    log_in(page, "analista")
    expect(page.locator("#events-table tbody tr")).to_have_count(4)

    page.get_by_label("Período", exact=True).select_option("7d")

    expect(page.locator("#events-table tbody tr")).to_have_count(5)
    expect(page.locator("#kpi-count")).to_have_text("5")


def test_the_detail_dialog_filters_everything_to_that_user(page, analyst, history):
    log_in(page, "analista")

    page.locator("#events-table tbody tr").first.get_by_role("button", name="Detalhes").click()
    page.get_by_role("button", name="Ver eventos deste usuário").click()

    expect(page.get_by_label("Usuário (userId)")).to_have_value("u-ana")
    expect(page.locator("#events-table tbody tr")).to_have_count(2)
    assert table_users(page) == ["u-ana", "u-ana"]
    expect(page.locator("#kpi-count")).to_have_text("2")
    expect(page.locator("#kpi-sum")).to_have_text("1.100,00")
    expect(page.locator("#kpi-users")).to_have_text("1")

    page.get_by_role("link", name="Limpar").click()

    expect(page.locator("#events-table tbody tr")).to_have_count(4)
    expect(page.get_by_label("Usuário (userId)")).to_have_value("")


def test_typing_a_user_and_pressing_enter_applies_the_filter(page, analyst, history):
    log_in(page, "analista")

    page.get_by_label("Usuário (userId)").fill("u-bia")
    page.get_by_label("Usuário (userId)").press("Enter")

    expect(page.locator("#events-table tbody tr")).to_have_count(2)
    assert table_users(page) == ["u-bia", "u-bia"]


def test_filters_in_the_url_survive_a_reload(page, analyst, history):
    log_in(page, "analista")

    page.goto("/?range=7d&type=deposit")

    expect(page.get_by_label("Período", exact=True)).to_have_value("7d")
    expect(page.get_by_label("Tipo de evento")).to_have_value("deposit")
    expect(page.locator("#events-table tbody tr")).to_have_count(2)


def test_table_pages_and_sorts(page, analyst):
    for index in range(30):
        ingest(user_id=f"u-{index:02d}", event_type="purchase", value=float(index), ago=timedelta(minutes=index + 1))
    log_in(page, "analista")
    expect(page.locator("#page-info")).to_have_text("Página 1 de 2")

    page.get_by_role("button", name="Próxima").click()

    expect(page.locator("#events-table tbody tr")).to_have_count(5)
    expect(page.locator("#page-info")).to_have_text("Página 2 de 2")
    expect(page.get_by_role("button", name="Próxima")).to_be_disabled()

    page.get_by_role("button", name="Valor").click()

    expect(page.locator("#page-info")).to_have_text("Página 1 de 2")
    expect(page.locator("#events-table tbody tr").first).to_contain_text("u-29")
    expect(page.locator("#events-table th[data-sort=value]")).to_have_attribute("aria-sort", "descending")
