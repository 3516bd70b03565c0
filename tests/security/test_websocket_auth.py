"""WebSocket: o que falta em tests/events/test_consumer_auth.py (sessão, JWT na 1ª mensagem,
tokens inválidos/expirados, Origin estrangeira ou ausente, prazos): credencial fora do
protocolo é ignorada — nem na URL (vai para logs de acesso) nem no cabeçalho do handshake."""

from __future__ import annotations

import pytest

from accounts.models import User
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect


async def _is_still_anonymous(communicator) -> None:
    await communicator.send_json_to({"type": "subscribe", "types": ["login"]})
    error, close = await ws.closed_with(communicator)
    assert (error["code"], close["code"]) == ("unauthenticated", 4401)


@pytest.mark.parametrize("parameter", ["token", "access", "jwt", "access_token"])
async def test_a_token_in_the_url_is_ignored(connect: ws.Connect, user: User, parameter: str) -> None:
    communicator = await connect(path=f"{ws.WS_PATH}?{parameter}={ws.access_token(user)}")

    await _is_still_anonymous(communicator)


async def test_an_authorization_header_on_the_handshake_is_ignored(connect: ws.Connect, user: User) -> None:
    communicator = await connect((b"authorization", f"Bearer {ws.access_token(user)}".encode()))

    await _is_still_anonymous(communicator)
