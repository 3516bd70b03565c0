"""Só com o teclado: filtros, tabela (ordenação, páginas) e diálogo, no painel e na página do trader."""

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
def history() -> None:
    for index in range(30):
        ingest(
            user_id="u-ana" if index % 3 else "u-bia",
            event_type="purchase" if index % 2 else "deposit",
            value=float(index),
            ago=timedelta(minutes=index + 1),
        )
    ingest(user_id="u-caio", event_type="login", value=0.0, ago=timedelta(days=3))


def tab_to(page: Page, locator, limit: int = 60) -> None:
    """Tab até o foco chegar no elemento (falha se ele não estiver na ordem de tabulação)."""
    for _ in range(limit):
        if locator.evaluate("node => node === document.activeElement"):
            return
        page.keyboard.press("Tab")
    pytest.fail(f"{locator} não é alcançável com Tab")


def test_filters_work_from_the_keyboard(page, analyst, history):
    log_in(page, "analista")
    expect(page.locator("#events-table tbody tr")).to_have_count(25)

    tab_to(page, page.get_by_label("Período", exact=True))
    page.keyboard.press("ArrowDown")  # 24 h → 7 dias
    expect(page).to_have_url(re.compile(r"\?range=7d$"))
    expect(page.locator("#table-status")).to_have_text("31 eventos")

    tab_to(page, page.get_by_label("Tipo de evento"))
    page.keyboard.press("ArrowDown")
    expect(page).to_have_url(re.compile(r"type="))
    chosen = page.get_by_label("Tipo de evento").input_value()
    assert chosen in {"deposit", "login", "purchase"}

    tab_to(page, page.get_by_label("Usuário (userId)"))
    page.keyboard.type("u-bia")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"userId=u-bia"))
    expect(page.locator("#events-table")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#events-table tbody td.cell-user")).not_to_have_count(0)
    for user in page.locator("#events-table tbody td.cell-user").all_inner_texts():
        assert user == "u-bia"


def test_a_custom_window_is_chosen_and_applied_from_the_keyboard(page, analyst, history):
    log_in(page, "analista")
    expect(page.locator("#events-table tbody tr")).to_have_count(25)

    tab_to(page, page.get_by_label("Período", exact=True))
    page.keyboard.press("End")  # a última opção: personalizado
    expect(page.get_by_label("De", exact=True)).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_label("De", exact=True)).to_be_focused()
    # O formato dos segmentos de datetime-local depende do idioma do navegador: o valor entra
    # pelo campo; o resto (foco, envio com Enter) é só teclado.
    page.get_by_label("De", exact=True).fill("2020-01-01T00:00:00")
    page.keyboard.press("Enter")  # sem "até": até agora

    expect(page).to_have_url(re.compile(r"\?from=2020-01-01T00%3A00%3A00\.000Z$|\?from=2020-01-01T00:00:00\.000Z$"))
    expect(page.locator("#table-status")).to_have_text("31 eventos")


def test_table_sorts_and_pages_from_the_keyboard(page, analyst, history):
    log_in(page, "analista")
    expect(page.locator("#page-info")).to_have_text("Página 1 de 2")

    tab_to(page, page.get_by_role("button", name="Valor", exact=True))
    page.keyboard.press("Enter")
    expect(page.locator("#events-table th[data-sort=value]")).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#events-table tbody tr").first).to_contain_text("29,00")

    tab_to(page, page.get_by_role("button", name="Próxima"))
    page.keyboard.press("Enter")
    expect(page.locator("#page-info")).to_have_text("Página 2 de 2")
    expect(page.locator("#events-table tbody tr")).to_have_count(5)


def test_detail_dialog_on_the_trader_page_is_keyboard_operable(page, analyst, history):
    log_in(page, "analista")
    page.goto("/traders/u-bia")
    details = page.locator("#events-table").get_by_role("button", name="Detalhes").first
    expect(details).to_be_visible()

    tab_to(page, details)
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(page.get_by_role("button", name="Fechar")).to_be_focused()
    # O resto da página fica inerte: o Tab percorre só o diálogo.
    for _ in range(4):
        page.keyboard.press("Tab")
        assert page.evaluate(
            "document.getElementById('event-dialog').contains(document.activeElement) "
            "|| document.activeElement === document.body"
        )
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(details).to_be_focused()


def test_trader_filters_work_from_the_keyboard(page, analyst, history):
    log_in(page, "analista")
    page.goto("/traders/u-ana")
    expect(page.locator("#table-status")).to_have_text("20 eventos")

    tab_to(page, page.get_by_label("Tipo de evento"))
    page.keyboard.press("ArrowDown")

    expect(page).to_have_url(re.compile(r"/traders/u-ana\?type=(deposit|purchase)$"))
    expect(page.locator("#table-status")).to_have_text("10 eventos")
