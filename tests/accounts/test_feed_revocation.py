"""Revogação (logout geral, troca de senha) chegando aos sockets abertos do feed ``/ws/events/``.

Só pelo contrato do feed: sessão por cookie ou JWT na primeira mensagem, fechamento 4401,
reconferência a cada ``WS_RECHECK_SECONDS``.

* Sockets de sessão fecham: a versão das credenciais entra no hash da sessão, que o
  feed reconfere.
* Sockets de JWT fecham: o feed guarda o claim ``ver`` na autenticação e, na
  reconferência, pergunta a ``accounts.selectors.atoken_version_valid``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings

from accounts.models import User
from accounts.services import user_tokens_revoke
from tests.accounts.factories import PASSWORD, login_pair, make_user

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 2.0
ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture
async def sockets() -> AsyncIterator[list[WebsocketCommunicator]]:
    opened: list[WebsocketCommunicator] = []
    yield opened
    for communicator in opened:
        # Um socket cuja espera esgotou já teve a aplicação cancelada: nada a desconectar.
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await communicator.disconnect(timeout=WAIT)


async def _open(opened: list[WebsocketCommunicator], *headers: tuple[bytes, bytes]) -> WebsocketCommunicator:
    from trader_monitor.asgi import application

    communicator = WebsocketCommunicator(application, "/ws/events/", headers=[ORIGIN, *headers])
    opened.append(communicator)
    accepted, detail = await communicator.connect(timeout=WAIT)
    assert accepted, detail
    return communicator


async def _closes_with_4401(communicator: WebsocketCommunicator) -> dict[str, Any]:
    """Mensagens até o fechamento; devolve o frame de fechamento."""
    while True:
        output: dict[str, Any] = await communicator.receive_output(timeout=WAIT)
        if output["type"] == "websocket.close":
            return output


def _session_cookie(user: User) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


async def test_logout_everywhere_closes_the_dashboard_socket_on_recheck(
    sockets: list[WebsocketCommunicator],
) -> None:
    user = await sync_to_async(make_user)("ana")
    cookie = await sync_to_async(_session_cookie)(user)
    with override_settings(WS_RECHECK_SECONDS=0.05):
        communicator = await _open(sockets, cookie)
        hello = await communicator.receive_json_from(timeout=WAIT)
        assert hello["type"] == "hello"

        await sync_to_async(user_tokens_revoke)(user=user)

        close = await _closes_with_4401(communicator)
    assert close["code"] == 4401


async def test_a_password_change_closes_the_dashboard_socket_on_recheck(
    sockets: list[WebsocketCommunicator],
) -> None:
    user = await sync_to_async(make_user)("ana")
    cookie = await sync_to_async(_session_cookie)(user)
    with override_settings(WS_RECHECK_SECONDS=0.05):
        communicator = await _open(sockets, cookie)
        await communicator.receive_json_from(timeout=WAIT)

        def change() -> None:
            fresh = User.objects.get(pk=user.pk)
            fresh.set_password(PASSWORD + "-nova")
            fresh.save()

        await sync_to_async(change)()

        close = await _closes_with_4401(communicator)
    assert close["code"] == 4401


async def test_logout_everywhere_closes_a_jwt_socket_on_recheck(sockets: list[WebsocketCommunicator]) -> None:
    user = await sync_to_async(make_user)("ana")
    tokens = await sync_to_async(login_pair)("ana")
    with override_settings(WS_RECHECK_SECONDS=0.05):
        communicator = await _open(sockets)
        await communicator.send_json_to({"type": "auth", "token": tokens["access"]})
        hello = await communicator.receive_json_from(timeout=WAIT)
        assert hello["type"] == "hello"

        await sync_to_async(user_tokens_revoke)(user=user)

        close = await _closes_with_4401(communicator)
    assert close["code"] == 4401
