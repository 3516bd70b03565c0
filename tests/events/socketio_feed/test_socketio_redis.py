"""/socket.io/ com vários processos: ``REDIS_URL`` e dois servidores uvicorn de verdade.

Cada processo tem o seu hub (um canal no grupo ``events`` da camada Redis) e os seus
clientes Socket.IO; não há gerenciador de clientes do python-socketio entre processos.
Um cliente em cada processo recebe cada evento exatamente uma vez, em ordem, tenha o
evento entrado por qual processo for. Os dois servidores são processos separados (portas
próprias) para que o teste saiba onde cada cliente está — com ``uvicorn --workers 2`` o
núcleo escolhe; o bench (``bench/fanout.py --protocol socketio``) mede essa configuração.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest
import redis
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from tests.conftest import Signer, event_body, require_service
from tests.events.socketio_feed.conftest import FeedClient, free_port, wait_until_healthy

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ROOT = Path(__file__).resolve().parents[3]
SERVER_USER = "servidor"


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], str]]:
    """Dois uvicorn (1 processo cada) no mesmo Redis e prefixo, e o mesmo banco SQLite; devolve URLs e user id."""
    require_service(_redis_available(), f"Redis indisponível em {REDIS_URL}")
    prefix = f"tm-test-sio-{uuid.uuid4().hex[:12]}"
    database = tmp_path_factory.mktemp("sio-servers") / "db.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "TEST_FORCE_REDIS_URL": REDIS_URL,
        "CHANNEL_LAYER_PREFIX": prefix,
        "DATABASE_URL": f"sqlite:///{database}",
        "MONGO_URI": "mongomock://localhost/sio_servers",
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
    processes: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(2):
            port = free_port()
            command = [sys.executable, "-m", "uvicorn", "trader_monitor.asgi:application"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--lifespan", "off", "--log-level", "warning"]
            process = subprocess.Popen(  # noqa: S603 - comando fixo, sem entrada externa
                command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
            wait_until_healthy(process, urls[-1])
        yield urls, user_id
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Só as chaves deste prefixo (nunca FLUSHALL: o Redis é compartilhado).
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)


def _token(user_id: str) -> str:
    token = AccessToken()
    token[jwt_settings.USER_ID_CLAIM] = user_id
    return str(token)


async def test_a_client_on_each_process_receives_every_event_exactly_once_in_order(
    servers: tuple[list[str], str], sign: Signer
) -> None:
    urls, user_id = servers
    clients = []
    for url in urls:
        client = FeedClient()
        await client.sio.connect(url, auth={"token": _token(user_id)}, transports=["websocket"], wait_timeout=5)
        await client.expect("hello")
        clients.append(client)

    ids: list[str] = []
    async with httpx.AsyncClient() as http:
        # Entram pelos dois processos, alternando.
        for index in range(6):
            body = event_body(userId=f"u-{index}", value=float(index))
            response = await http.post(f"{urls[index % 2]}/api/webhook/event", content=body, headers=sign(body))
            assert response.status_code == HTTPStatus.CREATED
            ids.append(response.json()["id"])
        # Sentinela: chega depois de qualquer cópia repetida dos anteriores (mesmo canal, em ordem).
        body = event_body(userId="u-fim", value=0)
        response = await http.post(f"{urls[0]}/api/webhook/event", content=body, headers=sign(body))
        sentinel = response.json()["id"]

    received: list[list[str]] = []
    for client in clients:
        events: list[str] = []
        while not events or events[-1] != sentinel:
            event, _ = await client.expect("new_event")
            events.append(event["id"])
        received.append(events)
        await client.sio.disconnect()

    # Cada processo tem o próprio armazenamento em memória: a ordem entre processos é a de
    # chegada na camada; dentro de cada origem, a de ingestão.
    for events in received:
        assert sorted(events) == sorted([*ids, sentinel])
        assert len(events) == len(set(events))
        assert [e for e in events if e in ids[0::2]] == ids[0::2]
        assert [e for e in events if e in ids[1::2]] == ids[1::2]
