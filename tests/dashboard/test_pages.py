"""Páginas do painel: acesso, CSP, configuração do JavaScript e logout."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def page_config(response: Any) -> dict[str, Any]:
    html = response.content.decode()
    start = html.index('<script id="dashboard-config" type="application/json">') + len(
        '<script id="dashboard-config" type="application/json">'
    )
    config: dict[str, Any] = json.loads(html[start : html.index("</script>", start)])
    return config


def test_signed_out_visitor_is_redirected_to_login(client):
    response = client.get("/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/login/?next=/"


def test_login_page_is_django_form_with_username_and_password(client):
    response = client.get("/login/")

    assert response.status_code == HTTPStatus.OK
    html = response.content.decode()
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_login_with_valid_credentials_lands_on_dashboard(client, analyst):
    response = client.post("/login/", {"username": "analista", "password": "senha-de-teste-123"})

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/"


def test_signed_in_user_visiting_login_goes_to_dashboard(client, analyst):
    client.force_login(analyst)

    response = client.get("/login/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/"


@pytest.mark.parametrize("url", ["/", "/login/"])
def test_pages_send_a_strict_content_security_policy(client, analyst, url):
    client.force_login(analyst)

    response = client.get(url, follow=True)

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy


def test_dashboard_has_no_inline_scripts(client, analyst):
    client.force_login(analyst)

    html = client.get("/").content.decode()

    scripts = html.split("<script")[1:]
    assert scripts
    for script in scripts:
        opening = script.split(">", 1)[0]
        assert "src=" in opening or 'type="application/json"' in opening


def test_dashboard_config_carries_api_paths_and_user_role(client, analyst, staff_user):
    client.force_login(analyst)
    analyst_config = page_config(client.get("/"))
    client.force_login(staff_user)
    staff_config = page_config(client.get("/"))

    assert analyst_config["api"]["events"] == "/api/events"
    assert analyst_config["api"]["summary"] == "/api/events/summary"
    assert analyst_config["ws"] == "/ws/events/"
    assert analyst_config["isStaff"] is False
    assert staff_config["isStaff"] is True
    assert staff_config["adminEventUrl"] == reverse("admin:events_event_list")


def test_filters_from_the_url_are_kept_when_valid(client, analyst):
    client.force_login(analyst)

    config = page_config(client.get("/", {"range": "7d", "type": "purchase", "userId": "u-9", "limit": "50"}))

    assert config["initial"] == {
        "range": "7d",
        "from": "",
        "to": "",
        "type": "purchase",
        "userId": "u-9",
        "sort": "-timestamp",
        "limit": 50,
    }


def test_invalid_filters_from_the_url_fall_back_to_defaults(client, analyst):
    client.force_login(analyst)

    config = page_config(client.get("/", {"range": "99y", "sort": "drop", "limit": "9999", "userId": "x" * 500}))

    assert config["initial"] == {
        "range": "24h",
        "from": "",
        "to": "",
        "type": "",
        "userId": "",
        "sort": "-timestamp",
        "limit": 25,
    }


def test_filter_values_are_escaped_in_the_page(client, analyst):
    client.force_login(analyst)

    html = client.get("/", {"type": '"><script>alert(1)</script>'}).content.decode()

    assert "<script>alert(1)</script>" not in html


def test_staff_sees_admin_link_and_analyst_does_not(client, analyst, staff_user):
    client.force_login(analyst)
    assert 'href="/admin/"' not in client.get("/").content.decode()

    client.force_login(staff_user)
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_logout_is_post_only_and_ends_the_session(client, analyst):
    client.force_login(analyst)

    assert client.get("/logout/").status_code == HTTPStatus.METHOD_NOT_ALLOWED
    response = client.post("/logout/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == "/login/"
    assert client.get("/").status_code == HTTPStatus.FOUND
