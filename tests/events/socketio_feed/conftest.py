"""Fixtures do feed Socket.IO: servidor uvicorn de verdade no laço do teste e clientes python-socketio.

O servidor serve ``trader_monitor.asgi.application`` (o mesmo roteamento da produção)
com um ``SocketIOFeed`` novo por teste, nos dois transportes. Ele roda no laço de
eventos do teste: a ingestão pelo ``asgi_client`` publica na camada em memória deste
laço e o hub a repassa aos clientes, como num processo de produção.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from http import HTTPStatus
from typing import Any

import httpx
import pytest
import socketio
import uvicorn
from django.test import Client
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from events.domain import EventPayload
from events.feed.socketio import NAMESPACES, SocketIOFeed
from events.services import event_ingest
from tests.conftest import Signer, event_body

# Espera máxima por algo que já deveria estar a caminho (não é medida de tempo).
WAIT = 3.0
ORIGIN = "http://testserver"
STARTUP_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_healthy(process: subprocess.Popen[bytes], base_url: str) -> None:
    """Espera um servidor em outro processo responder a /api/health (prontidão, sem asserção de tempo)."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"o servidor não subiu:\n{stderr[-2000:]}")
        try:
            if httpx.get(f"{base_url}/api/health", timeout=1).status_code == HTTPStatus.OK:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"o servidor em {base_url} não respondeu a /api/health a tempo")


class FeedClient:
    """Um ``socketio.AsyncClient`` que guarda, em ordem e por namespace, tudo o que chega.

    Cada item é ``(evento, argumentos)``; a desconexão pelo servidor entra como
    ``("disconnect", (motivo,))`` e a recusa do handshake fica em ``refusals``.
    """

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.inbox: dict[str, asyncio.Queue[tuple[str, tuple[Any, ...]]]] = {ns: asyncio.Queue() for ns in NAMESPACES}
        self.refusals: dict[str, Any] = {}

        for namespace in NAMESPACES:
            self.sio.on("*", self._received(namespace), namespace=namespace)
            self.sio.on("connect_error", self._refused(namespace), namespace=namespace)
            self.sio.on("disconnect", self._disconnected(namespace), namespace=namespace)

    def _received(self, namespace: str) -> Callable[..., None]:
        def handler(event: str, *args: Any) -> None:
            self.inbox[namespace].put_nowait((event, args))

        return handler

    def _refused(self, namespace: str) -> Callable[[Any], None]:
        def handler(data: Any) -> None:
            self.refusals[namespace] = data

        return handler

    def _disconnected(self, namespace: str) -> Callable[..., None]:
        def handler(reason: Any = None) -> None:
            self.inbox[namespace].put_nowait(("disconnect", (reason,)))

        return handler

    async def next(self, namespace: str = "/") -> tuple[str, Any]:
        """O próximo evento do namespace: ``(nome, argumento)`` ou ``(nome, (args…))`` se vierem vários."""
        event, args = await asyncio.wait_for(self.inbox[namespace].get(), timeout=WAIT)
        return event, args[0] if len(args) == 1 else args

    async def expect(self, event: str, namespace: str = "/") -> Any:
        name, data = await self.next(namespace)
        assert name == event, (name, data)
        return data

    async def call(self, event: str, data: Any, namespace: str = "/") -> Any:
        """Emite com ack e devolve a resposta do servidor."""
        return await self.sio.call(event, data, namespace=namespace, timeout=WAIT)


Connect = Callable[..., Awaitable[FeedClient]]
Ingest = Callable[..., Awaitable[str]]
Token = Callable[..., str]
Record = Callable[[int], list[tuple[dict[str, Any], int]]]


@pytest.fixture
def user(django_user_model: type[User]) -> User:
    return django_user_model.objects.create_user(username="ana", password="s3nha-forte-123")


@pytest.fixture
def token() -> Token:
    """JWT de acesso de um usuário (``lifetime`` opcional)."""

    def _token(user: User, lifetime: timedelta | None = None) -> str:
        access = AccessToken.for_user(user)
        if lifetime is not None:
            access.set_exp(lifetime=lifetime)
        return str(access)

    return _token


@pytest.fixture
def session_cookie(user: User) -> str:
    """Cabeçalho ``Cookie`` de uma sessão do painel já autenticada como ``user``."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


@pytest.fixture
async def socketio_feed(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SocketIOFeed]:
    """Um ``SocketIOFeed`` novo (long-polling e WebSocket) no lugar do da aplicação."""
    import trader_monitor.asgi

    feed = SocketIOFeed(transports=["polling", "websocket"])
    monkeypatch.setattr(trader_monitor.asgi, "socketio_feed", feed)
    yield feed
    await feed.shutdown()


@pytest.fixture
async def live_url(socketio_feed: SocketIOFeed) -> AsyncIterator[str]:
    """uvicorn servindo a aplicação ASGI completa numa porta livre, no laço do teste."""
    from trader_monitor.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        application, lifespan="off", log_level="warning", access_log=False, timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    # Espera de prontidão (não de tempo): o uvicorn marca ``started`` ao escutar.
    while not server.started:
        if task.done():
            task.result()
            pytest.fail("o uvicorn parou antes de escutar")
        await asyncio.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
async def connect(live_url: str, socketio_feed: SocketIOFeed) -> AsyncIterator[Connect]:
    """Conecta clientes ao servidor de teste; desconecta todos no fim.

    ``connect(auth=…, namespaces=…, transports=…, headers=…, origin=…)``; com ``refused=True``
    espera a recusa do handshake e devolve o cliente (ver ``FeedClient.refusals``).
    """
    opened: list[FeedClient] = []

    async def _connect(
        *,
        auth: dict[str, Any] | None = None,
        namespaces: tuple[str, ...] = ("/",),
        transports: tuple[str, ...] = ("websocket",),
        headers: dict[str, str] | None = None,
        origin: str | None = ORIGIN,
        refused: bool = False,
    ) -> FeedClient:
        client = FeedClient()
        opened.append(client)
        try:
            await client.sio.connect(
                live_url,
                auth=auth,
                namespaces=list(namespaces),
                transports=list(transports),
                headers={**({"Origin": origin} if origin else {}), **(headers or {})},
                wait_timeout=WAIT,
            )
        except socketio.exceptions.ConnectionError:
            if not refused:
                raise
            return client
        assert not refused, "o handshake deveria ter sido recusado"
        return client

    yield _connect
    for client in opened:
        if client.sio.connected and client.sio.transport() == "polling":
            # O servidor fecha primeiro: o cliente python-socketio em long-polling que sai
            # sozinho espera o GET pendente voltar (o Engine.IO só o solta no próximo ping).
            await socketio_feed.server.eio.disconnect(client.sio.eio.sid)
        await client.sio.disconnect()


@pytest.fixture
def ingest(asgi_client: httpx.AsyncClient, sign: Signer) -> Ingest:
    """Posta um evento assinado pelo webhook real; devolve o id."""

    async def _ingest(**fields: Any) -> str:
        body = event_body(**fields)
        response = await asgi_client.post("/api/webhook/event", content=body, headers=sign(body))
        assert response.status_code == HTTPStatus.CREATED
        event_id: str = response.json()["id"]
        return event_id

    return _ingest


@pytest.fixture
def record() -> Record:
    """Grava eventos SEM difundir (o teste decide quando o hub os vê); devolve ``(evento, cursor)``."""

    def _record(count: int) -> list[tuple[dict[str, Any], int]]:
        stored = []
        for index in range(count):
            data = {"userId": "u-1", "type": "purchase", "value": float(index)}
            result = event_ingest(payload=EventPayload.model_validate(data), data=data, key=None)
            stored.append((result.event, result.cursor))
        return stored

    return _record
