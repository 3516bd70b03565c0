"""Os números do painel batem entre si: KPIs, total da tabela e gráficos cobrem a mesma janela.

O resumo fixa a janela exata de um período pronto (``window`` da resposta) e a série e a
tabela pedem exatamente esse ``[from, to)``, com os mesmos filtros.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import ingest, log_in, seed_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]


def _numbers(page: Page) -> dict[str, Any]:
    overview = page.wait_for_function("() => window.traderMonitor && window.traderMonitor.overview").json_value()
    status = page.locator("#table-status").inner_text()
    table_total = int(re.sub(r"\D", "", status) or 0)
    series = overview["series"]
    return {
        "kpi": int(page.locator("#kpi-count").inner_text().replace(".", "")),
        "summary": overview["summary"]["totals"]["count"],
        "table": table_total,
        "series": sum(point["count"] for point in series["points"]),
        "summary_window": overview["summary"]["window"],
        "series_window": series["window"],
    }


@pytest.mark.parametrize("query", ["", "?type=purchase", "?userId=trader-02", "?range=7d&type=deposit"])
def test_kpis_table_and_charts_count_the_same_events(page: Page, analyst: Any, query: str) -> None:
    seed_day()
    # Eventos antigos: fora de 24 h, dentro de 7 d.
    ingest(user_id="trader-02", event_type="deposit", value=10.0, ago=timedelta(days=3))
    ingest(user_id="user-9", event_type="deposit", value=20.0, ago=timedelta(days=5))
    # Logo além da borda de 24 h e da de 7 d: fora das janelas exatas (baldes arredondados
    # para fora, como era, os contavam no resumo mas não na tabela).
    ingest(user_id="trader-03", event_type="purchase", value=5.0, ago=timedelta(hours=24, seconds=5))
    ingest(user_id="trader-02", event_type="deposit", value=7.0, ago=timedelta(days=7, seconds=5))
    log_in(page, "analista")
    page.goto(f"/{query}")
    expect(page.locator(".kpis")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#events-table")).not_to_have_attribute("aria-busy", "true")

    numbers = _numbers(page)

    assert numbers["kpi"] == numbers["summary"] == numbers["table"] == numbers["series"] > 0
    assert numbers["series_window"] == numbers["summary_window"]
