"""Login e logout no navegador real (sessão do Django, formulário padrão)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_signed_out_visitor_is_sent_to_the_login_form(page):
    page.goto("/")

    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    expect(page.get_by_label("Nome de usuário")).to_be_visible()
    expect(page.get_by_label("Senha")).to_be_visible()


def test_wrong_password_shows_an_error_and_stays_on_login(page, analyst):
    page.goto("/login/")
    page.get_by_label("Nome de usuário").fill("analista")
    page.get_by_label("Senha").fill("senha-errada")
    page.get_by_role("button", name="Entrar").click()

    expect(page.get_by_role("alert")).to_contain_text("Usuário ou senha incorretos")
    expect(page).to_have_url(re.compile(r"/login/$"))


def test_analyst_logs_in_sees_the_dashboard_and_logs_out(page, analyst):
    log_in(page, "analista")

    expect(page.get_by_role("heading", name="Eventos", exact=True).first).to_be_visible()
    expect(page.get_by_role("button", name="Gerar insight")).to_be_visible()
    expect(page.get_by_role("link", name="Administração")).to_have_count(0)

    page.get_by_role("button", name="Sair").click()

    expect(page).to_have_url(re.compile(r"/login/$"))
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
