"""``/metrics`` sem token: só as redes de ``METRICS_ALLOWED_NETWORKS``, com o cliente que o servidor viu.

``ipaddress.is_private`` aceitava faixas de documentação (203.0.113.0/24…), link-local e
outras; um ``X-Forwarded-For: 203.0.113.5`` repassado por um proxy confiável dava 200.
"""

from __future__ import annotations

import os
import subprocess
import sys
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest
from django.test import Client, override_settings
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_metrics_token(settings):
    settings.METRICS_TOKEN = ""


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "::1",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.20",
        "fd12:3456:789a::1",
        "::ffff:10.0.0.5",
    ],
)
def test_loopback_rfc1918_and_rfc4193_clients_scrape_without_token(client: Client, address: str) -> None:
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    "address",
    [
        "203.0.113.5",  # TEST-NET-3 (documentação): is_private dizia que sim
        "198.51.100.7",  # TEST-NET-2
        "192.0.2.10",  # TEST-NET-1
        "169.254.169.254",  # link-local (metadados de nuvem)
        "100.64.0.1",  # CGNAT (RFC 6598)
        "172.32.0.1",  # logo fora de 172.16/12
        "2001:db8::1",  # documentação IPv6
        "fe80::1",  # link-local IPv6
        "::ffff:203.0.113.5",
        "8.8.8.8",
        "",
        "unix-socket",
    ],
)
def test_other_addresses_are_refused_even_when_python_calls_them_private(client: Client, address: str) -> None:
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == HTTPStatus.FORBIDDEN


def test_debug_does_not_open_metrics_to_the_world(client: Client) -> None:
    with override_settings(DEBUG=True):
        response = client.get("/metrics", REMOTE_ADDR="203.0.113.5")

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_a_forwarded_for_header_sent_by_the_client_is_ignored(client: Client) -> None:
    response = client.get("/metrics", REMOTE_ADDR="8.8.8.8", HTTP_X_FORWARDED_FOR="10.0.0.1")

    assert response.status_code == HTTPStatus.FORBIDDEN


def test_configured_networks_replace_the_defaults(client: Client, settings) -> None:
    settings.METRICS_ALLOWED_NETWORKS = ["10.9.0.0/16"]

    assert client.get("/metrics", REMOTE_ADDR="10.9.1.1").status_code == HTTPStatus.OK
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == HTTPStatus.FORBIDDEN
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == HTTPStatus.FORBIDDEN


def test_the_token_still_opens_metrics_from_anywhere(client: Client, settings) -> None:
    settings.METRICS_TOKEN = "segredo-das-metricas"

    response = client.get("/metrics", REMOTE_ADDR="203.0.113.5", HTTP_AUTHORIZATION="Bearer segredo-das-metricas")

    assert response.status_code == HTTPStatus.OK


async def _scrape_through_proxy_headers(peer: str, forwarded_for: str) -> int:
    """Como na imagem Docker: uvicorn ``--proxy-headers``, proxy confiável padrão 127.0.0.1."""
    from trader_monitor.asgi import application

    app = ProxyHeadersMiddleware(application, trusted_hosts="127.0.0.1")
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.get("/metrics", headers={"X-Forwarded-For": forwarded_for})
    return response.status_code


async def test_documentation_address_forwarded_by_a_trusted_proxy_is_refused() -> None:
    assert await _scrape_through_proxy_headers("127.0.0.1", "203.0.113.5") == HTTPStatus.FORBIDDEN


async def test_internal_address_forwarded_by_a_trusted_proxy_is_admitted() -> None:
    assert await _scrape_through_proxy_headers("127.0.0.1", "10.0.0.7") == HTTPStatus.OK


async def test_forwarded_for_from_an_untrusted_peer_does_not_change_the_client() -> None:
    assert await _scrape_through_proxy_headers("8.8.8.8", "10.0.0.7") == HTTPStatus.FORBIDDEN


@pytest.mark.slow
def test_an_invalid_network_stops_the_application_at_startup() -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,banana"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS" in result.stderr
    assert "banana" in result.stderr
