"""KPIs, gráficos, tops e tabela renderizados com dados semeados, no navegador real."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import log_in, seed_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]


def chart_total(page, canvas_id: str, dataset: int = 0) -> float:
    return page.evaluate(
        "([id, index]) => Chart.getChart(document.getElementById(id)).data.datasets[index].data"
        ".reduce((total, value) => total + (value || 0), 0)",
        [canvas_id, dataset],
    )


def test_kpis_and_charts_render_the_seeded_history(page, analyst, page_probe):
    events = seed_day(users=3, per_user=4)
    total_value = sum(event["value"] for event in events)

    log_in(page, "analista")

    expect(page.locator("#kpi-count")).to_have_text("12")
    expect(page.locator("#kpi-sum")).to_have_text(
        f"{total_value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")
    )
    expect(page.locator("#kpi-users")).to_have_text("3")
    expect(page.locator("#series-caption")).to_contain_text("Pico de")
    assert chart_total(page, "chart-series") == 12
    assert chart_total(page, "chart-series", 1) == pytest.approx(total_value)
    assert chart_total(page, "chart-types") == 12
    expect(page.locator("#types-table tbody tr")).to_have_count(4)
    expect(page.locator("#top-by-value li").first).to_contain_text("trader-03")
    expect(page.locator("#events-table tbody tr")).to_have_count(12)
    expect(page.locator("#table-status")).to_have_text("12 eventos")
    assert page_probe.errors == []


def test_dashboard_loads_without_csp_violations_or_script_errors(page, analyst, page_probe):
    log_in(page, "analista")

    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")
    expect(page.locator("#kpi-count")).to_have_text("0")
    expect(page.locator("#series-caption")).to_have_text("Sem eventos no período.")
    assert page_probe.errors == []


def test_english_interface_through_the_language_switcher(page, analyst):
    seed_day(users=1, per_user=2)
    log_in(page, "analista")

    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Mudar idioma").click()

    expect(page.get_by_role("button", name="Generate insight")).to_be_visible()
    expect(page.locator("#table-status")).to_have_text("2 events")
    expect(page.locator("#live-status")).to_contain_text("Live")


def test_phone_sized_screen_has_no_horizontal_overflow(browser, live_server_url, analyst):
    seed_day(users=2, per_user=3)
    context = browser.new_context(
        base_url=live_server_url, viewport={"width": 390, "height": 844}, locale="pt-BR", timezone_id="UTC"
    )
    try:
        page = context.new_page()
        log_in(page, "analista")
        expect(page.locator("#events-table tbody tr")).to_have_count(6)

        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")

        assert widths[0] <= widths[1]
    finally:
        context.close()


def test_skip_link_is_the_first_stop_for_keyboard_users(page, analyst):
    log_in(page, "analista")

    page.keyboard.press("Tab")

    expect(page.get_by_role("link", name="Pular para o conteúdo")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()
