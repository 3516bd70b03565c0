"""Painel de insight: botão "Gerar insight", texto, fonte e custo; erros mostrados ao analista."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import log_in, seed_day

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("read_api", "live_feed"),
]


@pytest.mark.usefixtures("insights_api")
def test_generate_insight_shows_text_source_and_cost(page, analyst, settings):
    settings.OPENAI_API_KEY = ""
    seed_day(users=3, per_user=4)
    log_in(page, "analista")

    page.get_by_role("button", name="Gerar insight").click()

    expect(page.locator("#insight-output p").first).not_to_be_empty()
    expect(page.locator("#insight-meta")).to_contain_text("Fonte: motor offline")
    expect(page.locator("#insight-meta")).to_contain_text("custo: US$")


@pytest.mark.usefixtures("insights_api")
def test_an_analyst_without_the_paid_model_permission_is_told_why_the_text_is_offline(page, analyst, settings):
    settings.OPENAI_API_KEY = "sk-nunca-usada"  # com chave: só a permissão separa os dois caminhos
    seed_day(users=3, per_user=4)
    log_in(page, "analista")

    page.get_by_role("button", name="Gerar insight").click()

    expect(page.locator("#insight-output p").first).not_to_be_empty()
    expect(page.locator("#insight-meta")).to_contain_text("Fonte: motor offline")
    expect(page.locator("#insight-reason")).to_be_visible()
    expect(page.locator("#insight-reason")).to_contain_text("não tem permissão para usar o modelo pago")


def test_cached_insight_offers_a_forced_refresh(page, analyst):
    bodies = []

    def answer(route):
        bodies.append(route.request.post_data)
        cached = route.request.post_data is None
        route.fulfill(
            json={
                "text": "Compras dominaram o período.\n\nO ticket médio subiu.",
                "source": "openai",
                "model": "gpt-test",
                "usage": {"inputTokens": 1200, "outputTokens": 80, "costUsd": 0.00042},
                "cached": cached,
                "generatedAt": "2026-11-29T12:00:00Z",
            }
        )

    page.route("**/api/insights*", answer)
    log_in(page, "analista")

    page.get_by_role("button", name="Gerar insight").click()

    expect(page.locator("#insight-output p")).to_have_text(["Compras dominaram o período.", "O ticket médio subiu."])
    expect(page.locator("#insight-meta")).to_contain_text("Fonte: OpenAI (gpt-test)")
    expect(page.locator("#insight-meta")).to_contain_text("tokens: 1.200 entrada / 80 saída")
    expect(page.locator("#insight-meta")).to_contain_text("do cache")
    expect(page.locator("#insight-reason")).to_be_hidden()

    page.get_by_role("button", name="Gerar de novo").click()

    expect(page.locator("#insight-meta")).not_to_contain_text("do cache")
    assert bodies == [None, '{"refresh":true}']
    expect(page.get_by_role("button", name="Gerar de novo")).to_be_hidden()


def test_insight_errors_are_shown_to_the_analyst(page, analyst):
    page.route(
        "**/api/insights*",
        lambda route: route.fulfill(
            status=429, json={"error": "rate_limited", "detail": "Limite diário de insights atingido."}
        ),
    )
    log_in(page, "analista")

    page.get_by_role("button", name="Gerar insight").click()

    expect(page.locator("#insight-output")).to_have_text(
        "Não foi possível gerar o insight: Limite diário de insights atingido."
    )
    expect(page.get_by_role("button", name="Gerar insight")).to_be_enabled()


def test_missing_insight_service_is_explained(page, analyst):
    page.route("**/api/insights*", lambda route: route.fulfill(status=404, json={"error": "not_found"}))
    log_in(page, "analista")

    page.get_by_role("button", name="Gerar insight").click()

    expect(page.locator("#insight-output")).to_have_text("Insights ainda não estão disponíveis neste servidor.")
