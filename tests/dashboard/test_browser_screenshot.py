"""Captura do painel com histórico semeado e feed ao vivo (a imagem do README).

Sempre grava em ``test-artifacts/dashboard.png``; com ``UPDATE_DOCS_SCREENSHOT=1``
grava também ``docs/dashboard.png``:

    UPDATE_DOCS_SCREENSHOT=1 .venv/bin/pytest tests/dashboard/test_browser_screenshot.py
"""

from __future__ import annotations

import math
import os
import random
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import ARTIFACTS, ingest, log_in, post_webhook

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]

DOCS_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
KINDS = [("purchase", 0.45, 250.0), ("login", 0.3, 0.0), ("deposit", 0.15, 1200.0), ("withdraw", 0.1, 600.0)]


def seed_realistic(total: int = 400) -> None:
    """Um dia de movimento com ciclo diário (mais eventos à tarde), semente fixa."""
    rng = random.Random(42)
    users = [f"trader-{index:02d}" for index in range(1, 31)]
    weights = [1 / (rank + 1) for rank in range(len(users))]
    for _ in range(total):
        while True:
            # Até 23h50 atrás: a janela de 24 h do painel é exata (termina quando a página
            # carrega), e todos os 400 eventos têm de estar dentro dela.
            minutes = rng.uniform(1, 24 * 60 - 10)
            hour_of_day = (24 - minutes / 60) % 24
            if rng.random() < 0.35 + 0.65 * max(0.0, math.sin((hour_of_day - 8) / 14 * math.pi)):
                break
        kind, _share, base = rng.choices(KINDS, weights=[share for _, share, _ in KINDS])[0]
        value = round(base * rng.lognormvariate(0, 0.6), 2) if base else 0.0
        ingest(
            user_id=rng.choices(users, weights=weights)[0],
            event_type=kind,
            value=value,
            ago=timedelta(minutes=minutes),
            metadata={"asset": rng.choice(["PETR4", "VALE3", "ITUB4", "BBAS3"]), "channel": rng.choice(["app", "web"])},
        )


def test_dashboard_screenshot_with_history_and_live_feed(page, staff_user, live_server_url, sign, page_probe):
    seed_realistic(400)
    log_in(page, "admin")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")
    expect(page.locator("#kpi-count")).to_have_text("400")

    live = [("trader-04", "purchase", 1520.0), ("trader-07", "deposit", 2500.0), ("trader-02", "login", 0.0)]
    for user_id, kind, value in live:
        post_webhook(live_server_url, sign, userId=user_id, type=kind, value=value, metadata={"asset": "PETR4"})
    expect(page.locator("#feed li")).to_have_count(len(live))
    expect(page.locator("#events-table tbody tr")).to_have_count(25)

    if _insights_routed():
        page.get_by_role("button", name="Gerar insight").click()
        expect(page.locator("#insight-meta")).to_contain_text("Fonte:")

    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / "dashboard.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 20_000
    assert page_probe.errors == []
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        DOCS_IMAGE.parent.mkdir(exist_ok=True)
        shutil.copyfile(target, DOCS_IMAGE)


def _insights_routed() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/insights")
    except Resolver404:
        return False
    return True
