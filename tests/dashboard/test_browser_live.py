"""Feed ao vivo: webhook assinado → linha nova sem recarregar; pausa; retomada sem lacunas."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import log_in, post_webhook

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]


def wait_online(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")


def test_signed_webhook_appears_live_without_reload(page, analyst, live_server_url, sign):
    log_in(page, "analista")
    wait_online(page)
    page.evaluate("window.__sameDocument = true")

    post_webhook(live_server_url, sign, userId="u-ao-vivo", type="purchase", value=321.5)

    row = page.locator("#feed li").first
    expect(row).to_contain_text("u-ao-vivo")
    expect(row).to_contain_text("purchase")
    expect(row).to_contain_text("321,50")
    assert page.evaluate("window.__sameDocument") is True
    new_rows = page.locator("#table-new")
    expect(new_rows).to_have_text("1 evento novo — atualizar tabela")
    new_rows.click()
    expect(page.locator("#events-table tbody tr").first).to_contain_text("u-ao-vivo")


def test_paused_feed_holds_events_until_resumed(page, analyst, live_server_url, sign):
    log_in(page, "analista")
    wait_online(page)

    page.get_by_role("button", name="Pausar").click()
    post_webhook(live_server_url, sign, userId="u-pausado")

    expect(page.locator("#feed-note")).to_have_text("Pausado — 1 evento novo aguardando.")
    expect(page.locator("#feed li")).to_have_count(0)
    page.get_by_role("button", name="Retomar").click()
    expect(page.locator("#feed li").first).to_contain_text("u-pausado")


def test_feed_resumes_from_last_cursor_without_gaps(page, analyst, live_server_url, sign):
    log_in(page, "analista")
    wait_online(page)
    post_webhook(live_server_url, sign, userId="u-antes")
    expect(page.locator("#feed li")).to_have_count(1)

    # Queda: o socket cai e, enquanto isso, chegam dois eventos.
    page.evaluate("window.traderMonitor.live.stop()")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "paused")
    post_webhook(live_server_url, sign, userId="u-durante-1")
    post_webhook(live_server_url, sign, userId="u-durante-2")
    page.evaluate("window.traderMonitor.live.start()")

    wait_online(page)
    expect(page.locator("#feed li")).to_have_count(3)
    expect(page.locator("#feed li").nth(0)).to_contain_text("u-durante-2")
    expect(page.locator("#feed li").nth(1)).to_contain_text("u-durante-1")
    post_webhook(live_server_url, sign, userId="u-depois")
    expect(page.locator("#feed li")).to_have_count(4)


def test_dropped_connection_reconnects_by_itself(page, analyst, live_server_url, sign):
    log_in(page, "analista")
    wait_online(page)

    page.evaluate("window.traderMonitor.live.socket.close()")

    expect(page.locator("#live-status")).to_have_attribute("data-state", "offline")
    expect(page.locator("#live-status")).to_contain_text("Sem conexão")
    wait_online(page)
    post_webhook(live_server_url, sign, userId="u-reconectado")
    expect(page.locator("#feed li").first).to_contain_text("u-reconectado")


def test_type_filter_applies_to_the_live_feed(page, analyst, live_server_url, sign):
    log_in(page, "analista")
    wait_online(page)
    page.goto("/?type=deposit")
    wait_online(page)

    post_webhook(live_server_url, sign, userId="u-compra", type="purchase")
    post_webhook(live_server_url, sign, userId="u-deposito", type="deposit")

    expect(page.locator("#feed li").first).to_contain_text("u-deposito")
    expect(page.locator("#feed li")).to_have_count(1)
