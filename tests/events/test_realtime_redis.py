"""Entrega entre processos pelo Redis real (``channels_redis``).

Um servidor uvicorn de verdade roda em outro processo do SO, com ``REDIS_URL`` e um
prefixo de camada de canais exclusivo desta execução. Cobre só a entrega AO VIVO:
cada processo tem o próprio armazenamento mongomock (em memória), então a
retomada entre processos exigiria um MongoDB real compartilhado.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from channels.layers import channel_layers, get_channel_layer
from django.conf import settings
from django.test import override_settings
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken
from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Origin

from accounts.models import User
from tests.conftest import Signer, event_body, require_service
from tests.events import ws_support as ws

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

user = ws.user
connect = ws.connect

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 30.0
SERVER_USER = "servidor"


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    base_url: str
    ws_url: str
    origin: str
    prefix: str
    user_id: str


@pytest.fixture(scope="module")
def prefix() -> str:
    return f"tm-test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="module")
def server(prefix: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn + Redis em outro processo, com banco SQLite próprio (migrado, com um usuário)."""
    require_service(_redis_available(), f"Redis indisponível em {REDIS_URL}")
    database = tmp_path_factory.mktemp("ws-server") / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_FORCE_REDIS_URL": REDIS_URL,
        "CHANNEL_LAYER_PREFIX": prefix,
        "DATABASE_URL": f"sqlite:///{database}",
        "MONGO_URI": "mongomock://localhost/ws_server",
        "LOG_LEVEL": "WARNING",
    }
    setup = (
        "import django; django.setup();"
        "from django.core.management import call_command; call_command('migrate', verbosity=0);"
        "from django.contrib.auth import get_user_model;"
        f"print(get_user_model().objects.create_user('{SERVER_USER}', password='x-9f8e7d6c').pk)"
    )
    done = subprocess.run(  # noqa: S603 - comando fixo, sem entrada externa
        [sys.executable, "-c", setup], env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    user_id = done.stdout.strip().splitlines()[-1]
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - comando fixo, sem entrada externa
        [
            sys.executable,
            "-m",
            "uvicorn",
            "trader_monitor.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_ready(process, base_url)
        yield Server(base_url, f"ws://127.0.0.1:{port}/ws/events/", base_url, prefix, user_id)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen[bytes], base_url: str) -> None:
    """Espera o servidor subir (sondagem de /api/health), sem asserção de tempo."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"o servidor uvicorn não subiu:\n{stderr[-2000:]}")
        try:
            if httpx.get(f"{base_url}/api/health", timeout=1).status_code == HTTPStatus.OK:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("o servidor uvicorn não respondeu a /api/health a tempo")


@pytest.fixture
async def redis_layer(server: Server) -> AsyncIterator[None]:
    """Este processo (o dos testes) passa a usar o mesmo Redis e o mesmo prefixo do servidor."""
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": server.prefix, "capacity": 1000, "expiry": 30},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        channel_layers.backends.clear()
        layer = get_channel_layer()
        try:
            yield
        finally:
            # Remove só as chaves deste prefixo (nunca FLUSHALL/FLUSHDB: o Redis é compartilhado).
            await layer.flush()
            channel_layers.backends.clear()


def _server_token(server: Server) -> str:
    token = AccessToken()
    token[jwt_settings.USER_ID_CLAIM] = server.user_id
    return str(token)


async def _recv(socket_client) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket_client.recv(), timeout=ws.WAIT * 2))


async def test_event_ingested_here_reaches_socket_held_by_another_process(
    server: Server, redis_layer: None, asgi_client: httpx.AsyncClient, sign: Signer
) -> None:
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"
    async with ws_connect(server.ws_url, origin=Origin(server.origin)) as client:
        await client.send(json.dumps({"type": "auth", "token": _server_token(server)}))
        hello = await _recv(client)

        event_id = await ws.ingest(asgi_client, sign, userId="u-redis", type="deposit", value=99.5)
        message = await _recv(client)

    assert hello["type"] == "hello"
    assert hello["user"] == SERVER_USER
    assert message["type"] == "new_event"
    assert message["event"]["id"] == event_id
    assert message["event"]["userId"] == "u-redis"
    assert message["event"]["value"] == 99.5
    assert message["cursor"] == 1


async def test_event_ingested_by_another_process_reaches_socket_held_here(
    server: Server, redis_layer: None, connect: ws.Connect, user: User, sign: Signer
) -> None:
    communicator, _ = await ws.authenticated(connect, user)
    body = event_body(userId="u-remote", type="login", value=0)

    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.post("/api/webhook/event", content=body, headers=sign(body))
    message = await ws.receive(communicator)

    assert response.status_code == HTTPStatus.CREATED
    assert message["type"] == "new_event"
    assert message["event"]["id"] == response.json()["id"]
    assert message["event"]["userId"] == "u-remote"
