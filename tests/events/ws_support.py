"""Apoio aos testes do feed WebSocket: conexão pela aplicação ASGI real, JWT, ingestão."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import httpx
import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from tests.conftest import Signer, event_body

WS_PATH = "/ws/events/"
ORIGIN = (b"origin", b"http://testserver")
# Espera máxima por uma mensagem que já deveria estar a caminho (não é medida de tempo).
WAIT = 2.0

Connect = Callable[..., Awaitable[WebsocketCommunicator]]


def access_token(user: User, lifetime: timedelta | None = None) -> str:
    token = AccessToken.for_user(user)
    if lifetime is not None:
        token.set_exp(lifetime=lifetime)
    return str(token)


@pytest.fixture
def user(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(username="ana", password="s3nha-forte-123")


@pytest.fixture
def session_cookie(user: User) -> tuple[bytes, bytes]:
    """Cabeçalho ``Cookie`` de uma sessão do painel já autenticada como ``user``."""
    client = Client()
    client.force_login(user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


@pytest.fixture
async def connect() -> AsyncIterator[Connect]:
    """Abre sockets contra ``trader_monitor.asgi.application``; fecha todos no fim do teste.

    ``connect(*headers)`` exige o aceite; ``connect(*headers, handshake=True)``
    devolve ``(aceito, código)`` sem exigir nada.
    """
    from trader_monitor.asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _connect(
        *headers: tuple[bytes, bytes], path: str = WS_PATH, origin: bool = True, handshake: bool = False
    ) -> Any:
        all_headers = [ORIGIN, *headers] if origin else list(headers)
        communicator = WebsocketCommunicator(application, path, headers=all_headers)
        opened.append(communicator)
        accepted, detail = await communicator.connect(timeout=WAIT)
        if handshake:
            return accepted, detail
        assert accepted, detail
        return communicator

    yield _connect
    for communicator in opened:
        await communicator.disconnect(timeout=WAIT)


async def authenticated(connect: Connect, user: User, **auth: Any) -> tuple[WebsocketCommunicator, dict[str, Any]]:
    """Socket autenticado por JWT (primeira mensagem) e o ``hello`` recebido."""
    communicator = await connect()
    await communicator.send_json_to({"type": "auth", "token": access_token(user), **auth})
    hello = await communicator.receive_json_from(timeout=WAIT)
    assert hello["type"] == "hello"
    return communicator, hello


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    message: dict[str, Any] = await communicator.receive_json_from(timeout=WAIT)
    return message


async def closed_with(communicator: WebsocketCommunicator) -> tuple[dict[str, Any], dict[str, Any]]:
    """A mensagem de erro e o frame de fechamento que a seguem."""
    error = await receive(communicator)
    close = await communicator.receive_output(timeout=WAIT)
    assert close["type"] == "websocket.close"
    return error, close


async def ingest(client: httpx.AsyncClient, sign: Signer, **fields: Any) -> str:
    """Posta um evento pelo webhook real; devolve o id."""
    body = event_body(**fields)
    response = await client.post("/api/webhook/event", content=body, headers=sign(body))
    assert response.status_code == HTTPStatus.CREATED
    event_id: str = response.json()["id"]
    return event_id
