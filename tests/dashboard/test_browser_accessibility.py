"""Acessibilidade: o axe-core (npm, ``package.json``) no Chromium não acha violação séria nem crítica.

Roda no painel e na página do trader, com dados, com o período personalizado aberto e
com o diálogo de detalhe aberto. O axe entra pela avaliação do Playwright (protocolo de
depuração), que não passa pela CSP da página — a página continua sem script inline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import require_service
from tests.dashboard.conftest import log_in, seed_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def axe_source() -> str:
    require_service(AXE.is_file(), "axe-core não instalado: rode `npm ci` na raiz do projeto")
    return AXE.read_text(encoding="utf-8")


def blocking_violations(page: Page, axe_source: str) -> list[dict[str, Any]]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    violations: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, { resultTypes: ["violations"] });
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map((node) => node.target.join(" ")),
            }));
        }"""
    )
    return [violation for violation in violations if violation["impact"] in BLOCKING]


@pytest.fixture
def seeded() -> None:
    seed_day(users=4, per_user=6)


def test_dashboard_has_no_serious_or_critical_violations(page, analyst, seeded, axe_source):
    log_in(page, "analista")
    expect(page.locator("#events-table tbody tr")).to_have_count(24)
    expect(page.locator("#kpi-count-delta")).not_to_be_empty()

    assert blocking_violations(page, axe_source) == []

    page.get_by_label("Período", exact=True).select_option("custom")
    expect(page.get_by_label("De", exact=True)).to_be_visible()
    assert blocking_violations(page, axe_source) == []

    page.locator("#events-table").get_by_role("button", name="Detalhes").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert blocking_violations(page, axe_source) == []


def test_trader_page_has_no_serious_or_critical_violations(page, analyst, seeded, axe_source):
    log_in(page, "analista")
    page.goto("/traders/trader-01")
    expect(page.locator("#events-table tbody tr")).to_have_count(6)
    expect(page.locator("#kpi-count-delta")).not_to_be_empty()

    assert blocking_violations(page, axe_source) == []

    page.get_by_label("Período", exact=True).select_option("custom")
    expect(page.get_by_label("De", exact=True)).to_be_visible()
    assert blocking_violations(page, axe_source) == []

    page.locator("#events-table").get_by_role("button", name="Detalhes").first.click()
    expect(page.get_by_role("dialog")).to_be_visible()
    assert blocking_violations(page, axe_source) == []


def test_the_check_does_catch_a_critical_violation(page, analyst, axe_source):
    log_in(page, "analista")
    expect(page.locator("#kpi-count")).to_have_text("0")

    page.evaluate("document.querySelector('main').append(document.createElement('img'))")

    assert [violation["id"] for violation in blocking_violations(page, axe_source)] == ["image-alt"]
