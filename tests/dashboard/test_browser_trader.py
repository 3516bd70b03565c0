"""Página do trader no navegador: números iguais aos da API, Δ, por tipo, eventos ao vivo e links."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import ingest, log_in, post_webhook

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]


def pt_br(value: float) -> str:
    return f"{value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


@pytest.fixture
def history() -> None:
    # Últimas 24 h: 3 eventos da u-ana; 24 h antes: 2 (o período anterior); e outra trader.
    ingest(user_id="u-ana", event_type="deposit", value=1000.0, ago=timedelta(minutes=30))
    ingest(user_id="u-ana", event_type="purchase", value=100.0, ago=timedelta(hours=2))
    ingest(user_id="u-ana", event_type="purchase", value=50.0, ago=timedelta(hours=20))
    ingest(user_id="u-ana", event_type="purchase", value=80.0, ago=timedelta(hours=30))
    ingest(user_id="u-ana", event_type="withdraw", value=20.0, ago=timedelta(hours=40))
    ingest(user_id="u-bia", event_type="purchase", value=999.0, ago=timedelta(minutes=5))


def open_trader(page: Page, user_id: str, query: str = "") -> None:
    page.goto(f"/traders/{quote(user_id, safe='')}{query}")
    expect(page.locator("#kpi-window")).not_to_be_empty()


def test_trader_numbers_equal_the_api_for_the_same_window(page, analyst, history):
    log_in(page, "analista")
    open_trader(page, "u-ana", "?range=7d")

    window = page.locator("#kpi-window")
    start, end = window.get_attribute("data-from"), window.get_attribute("data-to")
    api = page.request.get("/api/events/summary", params={"userId": "u-ana", "from": start, "to": end}).json()

    assert api["window"] == {"from": start, "to": end}
    expect(page.locator("#kpi-count")).to_have_text(str(api["totals"]["count"]))
    expect(page.locator("#kpi-sum")).to_have_text(pt_br(api["totals"]["sum"]))
    expect(page.locator("#kpi-avg")).to_have_text(pt_br(api["totals"]["avgTicket"]))
    assert api["totals"]["count"] == 5
    rows = page.locator("#types-table tbody tr")
    expect(rows).to_have_count(len(api["byType"]))
    for index, row in enumerate(api["byType"]):
        expect(rows.nth(index)).to_contain_text(row["type"])
        expect(rows.nth(index).locator("td").nth(1)).to_have_text(str(row["count"]))


def test_kpis_show_the_change_against_the_previous_period(page, analyst, history):
    log_in(page, "analista")
    open_trader(page, "u-ana")

    expect(page.locator("#kpi-count")).to_have_text("3")
    delta = page.locator("#kpi-count-delta")
    expect(delta).to_have_attribute("data-trend", "up")
    expect(delta).to_have_text("▲ +50% em relação ao período anterior")
    card = page.locator("article.kpi").filter(has=page.locator("#kpi-count"))
    expect(card).to_have_attribute("title", re.compile(r"^Período anterior \(.+ – .+\): 2$"))
    # Valor: 1.150 agora × 100 antes.
    expect(page.locator("#kpi-sum-delta")).to_have_text("▲ +1.050% em relação ao período anterior")
    # Ticket médio: 383,33 × 50 — e um tipo que caiu (withdraw: 0 agora, 1 antes) não aparece na tabela do período.
    expect(page.locator("#kpi-avg-delta")).to_have_attribute("data-trend", "up")
    purchase = page.locator("#types-table tbody tr[data-type=purchase]")
    expect(purchase.locator("td.delta")).to_have_text("+1")
    expect(purchase.locator("td.delta")).to_have_attribute("title", "Período anterior: 1")


def test_a_drop_is_shown_in_its_own_colour_and_arrow(page, analyst):
    ingest(user_id="u-caio", event_type="purchase", value=10.0, ago=timedelta(hours=2))
    for hours in (25, 26, 27, 28):
        ingest(user_id="u-caio", event_type="purchase", value=10.0, ago=timedelta(hours=hours))
    log_in(page, "analista")
    open_trader(page, "u-caio")

    delta = page.locator("#kpi-count-delta")
    expect(delta).to_have_attribute("data-trend", "down")
    expect(delta).to_have_text("▼ -75% em relação ao período anterior")
    colours = page.evaluate(
        "[getComputedStyle(document.getElementById('kpi-count-delta')).color,"
        " getComputedStyle(document.getElementById('kpi-avg-delta')).color]"
    )
    assert colours[0] != colours[1]  # queda × estável


def test_typical_values_and_first_and_last_seen(page, analyst, history):
    log_in(page, "analista")
    open_trader(page, "u-ana")

    typical = page.locator("#typical-table tbody tr")
    expect(typical).to_have_count(3)
    expect(typical.first).to_contain_text("purchase")
    expect(typical.first.locator("td").nth(2)).to_have_text("80,00")
    expect(page.locator("#trader-first-seen")).not_to_have_text("nunca")
    expect(page.locator("#trader-last-seen")).not_to_have_text("nunca")


def test_trader_events_are_paginated_and_new_ones_arrive_live(page, analyst, live_server_url, sign):
    for index in range(30):
        ingest(user_id="u-vivo", event_type="purchase", value=float(index), ago=timedelta(minutes=index + 1))
    log_in(page, "analista")
    open_trader(page, "u-vivo")
    expect(page.locator("#page-info")).to_have_text("Página 1 de 2")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")

    post_webhook(live_server_url, sign, userId="u-outro", type="purchase", value=1.0)
    post_webhook(live_server_url, sign, userId="u-vivo", type="deposit", value=777.0)

    first = page.locator("#events-table tbody tr").first
    expect(first).to_contain_text("777,00")
    expect(first).to_contain_text("deposit")
    expect(page.locator("#table-status")).to_have_text("31 eventos")
    expect(page.locator("#events-table tbody tr")).to_have_count(25)
    expect(page.locator("#events-table")).not_to_contain_text("u-outro")

    page.get_by_role("button", name="Próxima").click()
    expect(page.locator("#events-table tbody tr")).to_have_count(6)
    expect(page.locator("#page-info")).to_have_text("Página 2 de 2")


def test_every_user_id_on_the_dashboard_links_to_the_trader_page(page, analyst, history, live_server_url, sign):
    log_in(page, "analista")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")
    post_webhook(live_server_url, sign, userId="u-ana", type="login", value=0.0)
    expect(page.locator("#feed li")).to_have_count(1)

    links = {
        "tabela": page.locator("#events-table td.cell-user a").first,
        "top por valor": page.locator("#top-by-value a", has_text="u-ana"),
        "top por frequência": page.locator("#top-by-count a", has_text="u-ana"),
        "ao vivo": page.locator("#feed li a").first,
    }
    for where, link in links.items():
        assert link.get_attribute("href") in {"/traders/u-ana", "/traders/u-bia"}, where

    page.locator("#top-by-value a", has_text="u-ana").click()
    expect(page).to_have_url(re.compile(r"/traders/u-ana$"))
    expect(page.locator("#trader-id")).to_have_text("u-ana")
    expect(page.locator("#kpi-count")).to_have_text("4")


def test_the_detail_dialog_links_to_the_trader_page(page, analyst, history):
    log_in(page, "analista")

    page.locator("#events-table tbody tr").first.get_by_role("button", name="Detalhes").click()
    page.get_by_role("dialog").get_by_role("link", name="u-bia").click()

    expect(page).to_have_url(re.compile(r"/traders/u-bia$"))


def test_export_button_downloads_the_trader_view_with_neutralized_cells(page, analyst, tmp_path: Path):
    hostile = '=HYPERLINK("http://x","clique")'
    ingest(user_id=hostile, event_type="purchase", value=-12.5, ago=timedelta(minutes=3))
    ingest(user_id=hostile, event_type="purchase", value=30.0, ago=timedelta(minutes=2))
    ingest(user_id=hostile, event_type="login", value=0.0, ago=timedelta(minutes=1))
    ingest(user_id="u-outro", event_type="purchase", value=5.0, ago=timedelta(minutes=1))
    log_in(page, "analista")
    open_trader(page, hostile, "?type=purchase")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exportar CSV").click()
    target = tmp_path / "export.csv"
    download_info.value.save_as(target)

    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    assert rows[0] == ["id", "userId", "type", "value", "timestamp", "receivedAt", "metadata"]
    assert [(row[1], row[2], row[3]) for row in rows[1:]] == [
        ("'" + hostile, "purchase", "-12.5"),
        ("'" + hostile, "purchase", "30.0"),
    ]
