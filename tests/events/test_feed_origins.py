"""Origens aceitas pelos feeds ao vivo: ``ALLOWED_HOSTS`` + ``CORS_ALLOWED_ORIGINS``, uma regra nos dois transportes."""

from __future__ import annotations

import pytest
from channels.testing import WebsocketCommunicator
from django.test import override_settings

from events.feed.origins import allowed_origin_patterns, origin_allowed

pytestmark = pytest.mark.django_db(transaction=True)


@override_settings(ALLOWED_HOSTS=["monitor.example.com", ".corretora.example"], CORS_ALLOWED_ORIGINS=[])
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://monitor.example.com", True),
        ("http://monitor.example.com:8443", True),
        ("https://painel.corretora.example", True),
        ("https://corretora.example", True),
        ("https://monitor.example.com.evil.example", False),
        ("https://evil.example", False),
        ("null", False),
        ("", False),
        (None, False),
    ],
)
def test_a_host_in_allowed_hosts_is_accepted_with_any_scheme_and_port(origin: str | None, allowed: bool) -> None:
    assert origin_allowed(origin) is allowed


@override_settings(ALLOWED_HOSTS=["monitor.example.com"], CORS_ALLOWED_ORIGINS=["https://painel.example.com"])
@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://painel.example.com", True),
        ("https://painel.example.com:443", True),
        ("http://painel.example.com", False),
        ("https://painel.example.com:8443", False),
    ],
)
def test_a_cors_origin_is_accepted_only_with_its_scheme_and_port(origin: str, allowed: bool) -> None:
    assert origin_allowed(origin) is allowed


@override_settings(DEBUG=True, ALLOWED_HOSTS=[], CORS_ALLOWED_ORIGINS=[])
def test_debug_without_allowed_hosts_accepts_the_local_hosts_like_channels_does() -> None:
    assert allowed_origin_patterns() == ["localhost", "127.0.0.1", "[::1]"]
    assert origin_allowed("http://localhost:8000") is True


async def test_websocket_feed_accepts_a_page_from_a_cors_origin_and_refuses_others() -> None:
    from trader_monitor.asgi import application

    with override_settings(CORS_ALLOWED_ORIGINS=["https://painel.example.com"]):
        results = []
        for origin in (b"https://painel.example.com", b"https://evil.example"):
            communicator = WebsocketCommunicator(application, "/ws/events/", headers=[(b"origin", origin)])
            accepted, _ = await communicator.connect(timeout=2)
            results.append(accepted)
            await communicator.disconnect()

    assert results == [True, False]
