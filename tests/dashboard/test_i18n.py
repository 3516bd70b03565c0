"""Textos do painel em português por padrão, inglês disponível (servidor e JavaScript)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_login_page_is_portuguese_by_default(client):
    html = client.get("/login/").content.decode()

    assert '<html lang="pt-br">' in html
    assert "Nome de usuário" in html
    assert "Senha" in html


def test_login_page_follows_accept_language_english(client):
    html = client.get("/login/", headers={"accept-language": "en"}).content.decode()

    assert '<html lang="en">' in html
    assert "Username" in html
    assert "Password" in html
    assert "Senha" not in html


def test_set_language_switches_the_dashboard_to_english(client, analyst):
    client.force_login(analyst)

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert response.status_code == HTTPStatus.FOUND
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get("/").content.decode()
    assert "Generate insight" in html
    assert "Top users by value" in html
    assert "Gerar insight" not in html


def test_javascript_catalog_translates_dashboard_strings_to_english(client):
    english = client.get("/jsi18n/", headers={"accept-language": "en"}).content.decode()
    portuguese = client.get("/jsi18n/").content.decode()

    assert '"Sem eventos no per\\u00edodo."' in english
    assert '"No events in the period."' in english
    assert "No events in the period." not in portuguese


def test_admin_mongo_screens_are_translated(client, staff_user):
    client.force_login(staff_user)

    html = client.get("/admin/events/rejectedwebhook/", headers={"accept-language": "en"}).content.decode()

    assert "Rejected webhooks" in html
    assert "No rejected deliveries." in html


def test_the_insight_fallback_reasons_are_translated_to_english(client):
    english = client.get("/jsi18n/", headers={"accept-language": "en"}).content.decode()

    assert "Your user is not allowed to use the paid model (OpenAI)" in english
    assert "The daily insight budget is spent" in english
