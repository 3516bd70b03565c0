"""Detalhe do evento: metadados exibidos como texto (nada vira HTML); exclusão pela equipe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from events.domain import parse_event_id
from tests.dashboard.conftest import ingest, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]

HOSTILE_USER = "<img src=x onerror=window.__xss=1>"


def test_hostile_metadata_is_shown_as_text(page, analyst, page_probe):
    ingest(
        user_id=HOSTILE_USER,
        event_type="purchase",
        value=10.0,
        ago=timedelta(minutes=1),
        metadata={"note": "<script>window.__xss=2</script>", "nested": {"html": "<b>negrito</b>"}},
    )
    log_in(page, "analista")

    page.get_by_role("button", name="Detalhes").click()

    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-field=userId]")).to_have_text(HOSTILE_USER)
    expect(page.locator("#event-metadata")).to_contain_text('"note": "<script>window.__xss=2</script>"')
    expect(page.locator("#event-metadata")).to_contain_text('"html": "<b>negrito</b>"')
    assert page.locator("#event-dialog img, #event-dialog script, #event-dialog b").count() == 0
    assert page.locator("#events-table img, #top-by-value img").count() == 0
    assert page.evaluate("window.__xss") is None
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page_probe.errors == []


def test_analyst_has_no_delete_button(page, analyst):
    ingest(user_id="u-1", event_type="login", value=0.0)
    log_in(page, "analista")

    page.get_by_role("button", name="Detalhes").click()

    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("button", name="Excluir evento")).to_have_count(0)


def test_staff_deletes_an_event_from_the_detail(page, staff_user, store):
    keep = ingest(user_id="u-fica", event_type="login", value=0.0, ago=timedelta(minutes=10))
    doomed = ingest(user_id="u-sai", event_type="purchase", value=99.0, ago=timedelta(minutes=1))
    log_in(page, "admin")
    expect(page.locator("#events-table tbody tr")).to_have_count(2)
    page.on("dialog", lambda confirm: confirm.accept())

    page.locator("#events-table tbody tr").first.get_by_role("button", name="Detalhes").click()
    page.get_by_role("button", name="Excluir evento").click()

    expect(page.locator("#events-table tbody tr")).to_have_count(1)
    expect(page.locator("#events-table tbody tr").first).to_contain_text("u-fica")
    assert store.get_event(parse_event_id(doomed["id"])) is None
    assert store.get_event(parse_event_id(keep["id"])) is not None


def test_detail_dialog_works_from_the_keyboard_and_returns_focus(page, analyst):
    ingest(user_id="u-teclado", event_type="login", value=0.0)
    log_in(page, "analista")
    details = page.locator("#events-table").get_by_role("button", name="Detalhes")

    details.focus()
    page.keyboard.press("Enter")

    expect(page.get_by_role("dialog")).to_be_visible()
    expect(page.get_by_role("button", name="Fechar")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    expect(details).to_be_focused()
