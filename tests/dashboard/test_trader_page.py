"""Página do trader (``/traders/<userId>``) no servidor: acesso, perfil, filtros da URL e configuração."""

from __future__ import annotations

import json
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import pytest

from events.store import EventStore, StoreUnavailable
from events.windows import RANGE_PRESETS
from tests.dashboard.conftest import ingest

pytestmark = pytest.mark.django_db


def page_config(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    marker = '<script id="dashboard-config" type="application/json">'
    start = html.index(marker) + len(marker)
    config: dict[str, Any] = json.loads(html[start : html.index("</script>", start)])
    return config


@pytest.fixture
def history() -> list[dict[str, Any]]:
    return [
        ingest(user_id="u-ana", event_type="deposit", value=500.0, ago=timedelta(days=9)),
        ingest(user_id="u-ana", event_type="deposit", value=700.0, ago=timedelta(days=2)),
        ingest(user_id="u-ana", event_type="deposit", value=900.0, ago=timedelta(hours=5)),
        ingest(user_id="u-ana", event_type="purchase", value=120.0, ago=timedelta(minutes=30)),
        ingest(user_id="u-bia", event_type="purchase", value=5.0, ago=timedelta(minutes=1)),
    ]


def test_signed_out_visitor_is_sent_to_login(client):
    response = client.get("/traders/u-ana")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/login/?next=/traders/u-ana"


def test_trader_page_shows_first_and_last_seen_and_typical_values(client, analyst, history):
    client.force_login(analyst)

    response = client.get("/traders/u-ana")

    assert response.status_code == HTTPStatus.OK
    profile = response.context["trader"]
    assert profile.first_seen.isoformat().startswith(history[0]["timestamp"][:19])
    assert profile.last_seen.isoformat().startswith(history[3]["timestamp"][:19])
    assert [(row.type, row.count, row.median, row.low, row.high) for row in profile.typical] == [
        ("deposit", 3, 700.0, 600.0, 800.0),
        ("purchase", 1, 120.0, 120.0, 120.0),
    ]
    html = response.content.decode()
    assert "Valores típicos" in html
    assert 'id="trader-first-seen"' in html


def test_a_trader_without_events_still_has_a_page(client, analyst):
    client.force_login(analyst)

    response = client.get("/traders/u-novo")

    assert response.status_code == HTTPStatus.OK
    assert "Nenhum evento deste trader ainda." in response.content.decode()


def test_user_ids_with_slashes_and_spaces_reach_their_page(client, analyst):
    ingest(user_id="mesa/ana maria", event_type="login", value=0.0)
    client.force_login(analyst)

    response = client.get("/traders/mesa/ana%20maria")

    assert response.status_code == HTTPStatus.OK
    assert page_config(response)["userId"] == "mesa/ana maria"
    assert response.context["trader"].sample_size == 1


@pytest.mark.parametrize("user_id", ["$where", "%7B%22a%22%3A1%7D", "x" * 129, "%20espaco"])
def test_user_ids_the_api_would_refuse_are_404(client, analyst, user_id):
    client.force_login(analyst)

    assert client.get(f"/traders/{user_id}").status_code == HTTPStatus.NOT_FOUND


def test_filters_from_the_url_open_the_same_view(client, analyst):
    client.force_login(analyst)

    config = page_config(
        client.get(
            "/traders/u-ana",
            {"from": "2026-11-01T00:00:00-03:00", "to": "2026-11-02T00:00:00Z", "type": "deposit", "limit": "50"},
        )
    )

    assert config["userId"] == "u-ana"
    assert config["initial"] == {
        "range": "",
        "from": "2026-11-01T03:00:00.000Z",
        "to": "2026-11-02T00:00:00.000Z",
        "type": "deposit",
        "userId": "u-ana",
        "sort": "-timestamp",
        "limit": 50,
    }


def test_invalid_filters_fall_back_one_by_one(client, analyst):
    client.force_login(analyst)

    config = page_config(client.get("/traders/u-ana", {"range": "24h", "from": "2026-11-01T00:00:00Z", "type": "$ne"}))

    assert (config["initial"]["range"], config["initial"]["from"], config["initial"]["type"]) == (
        "",
        "2026-11-01T00:00:00.000Z",
        "",
    )


def test_range_presets_come_from_the_windows_module(client, analyst):
    client.force_login(analyst)

    response = client.get("/traders/u-ana")

    assert page_config(response)["rangePresets"] == [[value, str(label)] for value, label in RANGE_PRESETS]
    html = response.content.decode()
    for value, _label in RANGE_PRESETS:
        assert f'<option value="{value}"' in html
    assert '<option value="custom"' in html


def test_a_valid_range_outside_the_presets_is_kept(client, analyst):
    client.force_login(analyst)

    response = client.get("/traders/u-ana", {"range": "3h"})

    assert page_config(response)["initial"]["range"] == "3h"
    assert '<option value="3h" selected>' in response.content.decode()


def test_page_sends_the_strict_content_security_policy_and_no_inline_script(client, analyst):
    client.force_login(analyst)

    response = client.get("/traders/u-ana")

    assert "script-src 'self'" in response["Content-Security-Policy"]
    for script in response.content.decode().split("<script")[1:]:
        opening = script.split(">", 1)[0]
        assert "src=" in opening or 'type="application/json"' in opening


def test_hostile_user_id_is_escaped(client, analyst):
    client.force_login(analyst)

    html = client.get("/traders/<script>alert(1)<%2Fscript>").content.decode()

    assert "<script>alert(1)</script>" not in html


def test_store_outage_still_opens_the_page_and_says_so(client, analyst, store: EventStore, monkeypatch):
    def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailable("fora do ar")

    monkeypatch.setattr(store, "list_events", down)
    client.force_login(analyst)

    response = client.get("/traders/u-ana")

    assert response.status_code == HTTPStatus.OK
    assert "Armazenamento indisponível" in response.content.decode()


def test_alerts_section_appears_only_when_the_alerts_api_exists(client, analyst):
    from django.urls import Resolver404, resolve

    client.force_login(analyst)
    try:
        resolve("/api/alerts")
        routed = True
    except Resolver404:
        routed = False

    response = client.get("/traders/u-ana")

    assert (page_config(response)["alertsApi"] is not None) is routed
    assert ('id="trader-alerts"' in response.content.decode()) is routed


def test_trader_page_is_in_portuguese_and_translated_to_english(client, analyst):
    client.force_login(analyst)

    portuguese = client.get("/traders/u-ana").content.decode()
    english = client.get("/traders/u-ana", headers={"accept-language": "en"}).content.decode()
    catalog = client.get("/jsi18n/", headers={"accept-language": "en"}).content.decode()

    assert "Valores típicos" in portuguese
    assert "Exportar CSV" in portuguese
    assert "Typical values" in english
    assert "Export CSV" in english
    assert "Custom (from/to)" in english
    assert "Valores típicos" not in english
    assert '"compared with the previous period"' in catalog
