"""Alertas no navegador: painel dos abertos, reconhecer, selo, ao vivo, marcas, filtro e página do trader.

Os alertas vêm da API de alertas (``/api/alerts``) e do feed (``{"type": "alert"}``). Os
gravados direto no armazenamento (``insert_alert``) fixam o cenário; o teste ao vivo usa uma
regra de verdade e um webhook assinado que a cruza (avaliação na ingestão + difusão).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from playwright.sync_api import Page, expect

from events.store import get_store
from tests.dashboard.conftest import ingest, log_in, post_webhook
from tests.dashboard.test_browser_accessibility import axe_source, blocking_violations  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed", "alerts_api"),
]


@pytest.fixture
def alerts_api() -> None:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/alerts")
    except Resolver404:
        pytest.skip("API de alertas (feat/alerts-core) ainda não integrada neste código")


def store_alert(
    *,
    user_id: str,
    event_ids: list[str],
    rule_name: str,
    severity: str = "critical",
    state: str = "open",
    ago: timedelta = timedelta(minutes=1),
    rule_id: int = 1,
) -> str:
    """Grava um alerta pelo armazenamento (o mesmo documento que a avaliação grava)."""
    alert_id = ObjectId()
    doc: dict[str, Any] = {
        "_id": alert_id,
        "ruleId": rule_id,
        "ruleName": rule_name,
        "kind": "threshold",
        "severity": severity,
        "userId": user_id,
        "eventIds": event_ids,
        "triggeredAt": datetime.now(UTC).replace(microsecond=0) - ago,
        "state": state,
        "ackBy": "colega" if state != "open" else None,
        "ackAt": datetime.now(UTC).replace(microsecond=0) if state != "open" else None,
        "message": f"{rule_name}: valor acima do limite",
    }
    assert get_store().insert_alert(doc)
    return str(alert_id)


@pytest.fixture
def scenario() -> dict[str, Any]:
    """Três eventos com alerta (dois abertos, um reconhecido) e três sem."""
    big = ingest(user_id="u-ana", event_type="withdraw", value=9000.0, ago=timedelta(minutes=10))
    burst = ingest(user_id="u-bia", event_type="login_failed", value=0.0, ago=timedelta(minutes=20))
    old = ingest(user_id="u-ana", event_type="deposit", value=7000.0, ago=timedelta(minutes=40))
    quiet = [
        ingest(user_id=f"u-calmo-{n}", event_type="purchase", value=10.0 + n, ago=timedelta(minutes=30 + n))
        for n in range(3)
    ]
    return {
        "events": {"big": big["id"], "burst": burst["id"], "old": old["id"], "quiet": [e["id"] for e in quiet]},
        "critical": store_alert(user_id="u-ana", event_ids=[big["id"]], rule_name="Saque alto", rule_id=1),
        "warning": store_alert(
            user_id="u-bia",
            event_ids=[burst["id"]],
            rule_name="Logins falhos",
            severity="warning",
            rule_id=2,
            ago=timedelta(minutes=2),
        ),
        "acked": store_alert(
            user_id="u-ana",
            event_ids=[old["id"]],
            rule_name="Depósito alto",
            severity="info",
            state="acknowledged",
            rule_id=3,
            ago=timedelta(minutes=30),
        ),
    }


def wait_online(page: Page) -> None:
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")


def open_dashboard(page: Page) -> None:
    log_in(page, "analista")
    expect(page.locator("#events-table tbody tr[data-id]")).to_have_count(6)
    expect(page.locator("#alerts-count")).not_to_be_empty()


def test_panel_lists_open_alerts_by_severity_newest_first(page, analyst, scenario):
    open_dashboard(page)

    cards = page.locator("#alerts-list > li")
    expect(cards).to_have_count(2)
    expect(cards.nth(0)).to_have_class("alert-card severity-critical")
    expect(cards.nth(0)).to_contain_text("Crítico")
    expect(cards.nth(0)).to_contain_text("Saque alto")
    expect(cards.nth(0)).to_contain_text("u-ana")
    expect(cards.nth(1)).to_have_class("alert-card severity-warning")
    expect(cards.nth(1)).to_contain_text("Atenção")
    expect(page.locator("#alerts-list")).not_to_contain_text("Depósito alto")  # reconhecido
    expect(page.locator("#alerts-count")).to_have_text("(2)")
    border = cards.nth(0).evaluate("node => getComputedStyle(node).borderLeftColor")
    other = cards.nth(1).evaluate("node => getComputedStyle(node).borderLeftColor")
    assert border != other


def test_header_badge_counts_open_alerts_and_leads_to_the_panel(page, analyst, scenario):
    open_dashboard(page)

    badge = page.get_by_role("link", name="Alertas abertos 2")
    expect(badge).to_be_visible()
    expect(badge).to_have_attribute("data-count", "2")
    badge.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/#alerts-panel")


def test_ack_by_keyboard_calls_the_api_and_updates_panel_and_badge(page, analyst, scenario):
    open_dashboard(page)
    ack = page.get_by_role("button", name="Reconhecer o alerta Saque alto de u-ana")

    ack.focus()
    page.keyboard.press("Enter")

    expect(page.locator("#alerts-list > li")).to_have_count(1)
    expect(page.locator("#alerts-status")).to_have_text("Alerta Saque alto de u-ana reconhecido.")
    expect(page.locator("#alerts-badge-count")).to_have_text("1")
    # O foco foi ao próximo alerta (não se perde no documento).
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "Reconhecer o alerta Logins falhos de u-bia"
    stored = page.request.get(f"/api/alerts/{scenario['critical']}").json()
    assert stored["state"] == "acknowledged"
    assert stored["ackBy"] == "analista"


def test_flagged_rows_in_the_table_say_why(page, analyst, scenario):
    open_dashboard(page)
    events = scenario["events"]

    for key, rule in [("big", "Saque alto"), ("burst", "Logins falhos"), ("old", "Depósito alto")]:
        row = page.locator(f'#events-table tr[data-id="{events[key]}"]')
        expect(row).to_have_class("is-flagged")
        expect(row.locator(".event-flag .visually-hidden")).to_have_text(f"Com alerta: {rule}")
    for event_id in events["quiet"]:
        expect(page.locator(f'#events-table tr[data-id="{event_id}"] .event-flag')).to_have_count(0)


def test_filter_only_events_with_alerts_and_by_one_alert(page, analyst, scenario):
    open_dashboard(page)
    events = scenario["events"]
    rows = page.locator("#events-table tbody tr[data-id]")

    page.get_by_label("Alertas", exact=True).select_option("*")
    expect(rows).to_have_count(3)
    assert set(rows.evaluate_all("rows => rows.map((r) => r.dataset.id)")) == {
        events["big"],
        events["burst"],
        events["old"],
    }
    expect(page.locator("#table-status")).to_have_text("3 eventos")

    page.get_by_role("button", name="Ver eventos do alerta Logins falhos de u-bia").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", events["burst"])
    expect(page.get_by_label("Alertas", exact=True)).to_be_focused()
    expect(page.locator("#alert-filter-note")).to_have_text("Só os eventos do alerta Logins falhos de u-bia.")

    page.get_by_label("Alertas", exact=True).select_option("")
    expect(rows).to_have_count(6)


def test_filter_with_alerts_respects_the_page_filters(page, analyst, scenario):
    log_in(page, "analista")
    page.goto("/?userId=u-ana")
    expect(page.locator("#events-table tbody tr[data-id]")).to_have_count(2)

    page.get_by_label("Alertas", exact=True).select_option("*")

    rows = page.locator("#events-table tbody tr[data-id]")
    expect(rows).to_have_count(2)
    assert set(rows.evaluate_all("rows => rows.map((r) => r.dataset.id)")) == {
        scenario["events"]["big"],
        scenario["events"]["old"],
    }


@pytest.fixture
def withdraw_rule() -> Iterator[Any]:
    """Uma regra de limite de verdade; apagada pelo ORM no fim (o sinal limpa o cache de regras do processo)."""
    from events.alerts.models import AlertRule

    rule = AlertRule.objects.create(
        name="Saque acima de 5 mil",
        kind="threshold",
        severity="critical",
        event_type="withdraw",
        op=">",
        threshold=5000,
        cooldown_seconds=0,
    )
    yield rule
    rule.delete()


def test_live_alert_updates_panel_badge_and_flags_the_feed(page, analyst, live_server_url, sign, withdraw_rule):
    log_in(page, "analista")
    wait_online(page)
    expect(page.locator("#alerts-list")).to_contain_text("Nenhum alerta aberto.")
    expect(page.locator("#alerts-badge-count")).to_have_text("0")

    post_webhook(live_server_url, sign, userId="u-ao-vivo", type="withdraw", value=100.0)
    crossing = post_webhook(live_server_url, sign, userId="u-ao-vivo", type="withdraw", value=9000.0)

    card = page.locator("#alerts-list > li")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Saque acima de 5 mil")
    expect(card).to_contain_text("u-ao-vivo")
    expect(page.locator("#alerts-badge-count")).to_have_text("1")
    expect(page.locator("#alerts-status")).to_have_text("Novo alerta (Crítico): Saque acima de 5 mil de u-ao-vivo.")
    flagged = page.locator("#feed li.is-flagged")
    expect(flagged).to_have_count(1)
    expect(flagged).to_have_attribute("data-id", crossing["id"])
    expect(flagged.locator(".event-flag .visually-hidden")).to_have_text("Com alerta: Saque acima de 5 mil")


def test_reconnect_reloads_open_alerts_from_the_api(page, analyst, scenario):
    open_dashboard(page)
    wait_online(page)
    expect(page.locator("#alerts-list > li")).to_have_count(2)

    page.evaluate("window.traderMonitor.live.stop()")
    # Enquanto o feed está fora, um colega reconhece um alerta e outro dispara.
    get_store().acknowledge_alert(ObjectId(scenario["warning"]), by="colega", at=datetime.now(UTC))
    store_alert(user_id="u-novo", event_ids=[], rule_name="Regra nova", rule_id=9)
    page.evaluate("window.traderMonitor.live.start()")

    wait_online(page)
    cards = page.locator("#alerts-list > li")
    expect(cards).to_have_count(2)
    expect(page.locator("#alerts-list")).to_contain_text("Regra nova")
    expect(page.locator("#alerts-list")).not_to_contain_text("Logins falhos")


def test_trader_page_lists_the_traders_alerts_with_ack(page, analyst, scenario):
    log_in(page, "analista")
    page.goto("/traders/u-ana")

    items = page.locator("#trader-alerts > li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("Saque alto")
    expect(items.nth(1)).to_contain_text("Depósito alto")
    expect(items.nth(1)).to_contain_text("reconhecido por colega")
    expect(page.locator("#trader-alerts")).not_to_contain_text("Logins falhos")  # de outra trader
    expect(page.locator("#alerts-badge-count")).to_have_text("2")
    expect(page.locator(f'#events-table tr[data-id="{scenario["events"]["big"]}"]')).to_have_class("is-flagged")

    page.get_by_role("button", name="Reconhecer o alerta Saque alto de u-ana").click()

    expect(page.locator("#alerts-status")).to_have_text("Alerta Saque alto de u-ana reconhecido.")
    expect(page.locator("#trader-alerts .alert-ack")).to_have_count(0)
    expect(items.nth(0)).to_contain_text("reconhecido por analista")


def test_pages_with_alerts_have_no_serious_or_critical_violations(page, analyst, scenario, axe_source):  # noqa: F811
    open_dashboard(page)
    expect(page.locator("#alerts-list > li")).to_have_count(2)
    assert blocking_violations(page, axe_source) == []

    page.goto("/traders/u-ana")
    expect(page.locator("#trader-alerts > li")).to_have_count(2)
    assert blocking_violations(page, axe_source) == []


def test_trader_page_receives_the_traders_live_alert_and_flags_the_row(
    page, analyst, live_server_url, sign, withdraw_rule
):
    log_in(page, "analista")
    page.goto("/traders/u-ao-vivo")
    wait_online(page)
    expect(page.locator("#trader-alerts")).to_contain_text("Nenhum alerta deste trader.")

    post_webhook(live_server_url, sign, userId="u-outro", type="withdraw", value=9500.0)
    crossing = post_webhook(live_server_url, sign, userId="u-ao-vivo", type="withdraw", value=9000.0)

    items = page.locator("#trader-alerts > li")
    expect(items).to_have_count(1)
    expect(items).to_contain_text("Saque acima de 5 mil")
    expect(page.locator("#alerts-status")).to_have_text("Novo alerta (Crítico): Saque acima de 5 mil de u-ao-vivo.")
    row = page.locator(f'#events-table tr[data-id="{crossing["id"]}"]')
    expect(row).to_have_class(re.compile(r"\bis-flagged\b"))  # e "is-new", recém-chegada
    expect(row.locator(".event-flag .visually-hidden")).to_have_text("Com alerta: Saque acima de 5 mil")
