"""Páginas com a API de alertas instalada: selo, painel e filtro no HTML; textos traduzidos."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = pytest.mark.django_db


def page_config(html: str) -> dict[str, object]:
    match = re.search(r'<script id="dashboard-config" type="application/json">(.*?)</script>', html, re.S)
    assert match is not None
    config: dict[str, object] = json.loads(match.group(1))
    return config


def test_dashboard_renders_badge_panel_and_alert_filter(client, analyst):
    client.force_login(analyst)

    html = client.get("/").content.decode()

    assert page_config(html)["alertsApi"] == "/api/alerts"
    assert 'id="alerts-badge"' in html
    assert 'href="/#alerts-panel"' in html
    assert 'id="alerts-panel"' in html
    assert '<select id="filter-alert">' in html
    assert "Só eventos com alerta" in html


def test_trader_page_has_the_badge_and_the_traders_alert_list(client, analyst):
    client.force_login(analyst)

    html = client.get("/traders/u-ana").content.decode()

    assert page_config(html)["alertsApi"] == "/api/alerts"
    assert 'id="alerts-badge"' in html
    assert 'id="trader-alerts"' in html
    assert 'id="alerts-panel"' not in html


def test_alert_texts_are_translated_to_english(client, analyst):
    client.force_login(analyst)
    english_js = client.get("/jsi18n/", headers={"accept-language": "en"}).content.decode()
    english_html = client.get("/", headers={"accept-language": "en"}).content.decode()

    assert '"Acknowledge"' in english_js
    assert '"Critical"' in english_js
    assert "Open alerts" in english_html
    assert "Only events with alerts" in english_html
