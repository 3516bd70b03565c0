"""O feed Socket.IO com o ``socket.io-client`` real (Node), o cliente dos frontends.

Roda ``node --test tests/node/`` contra o servidor de teste (uvicorn no laço do teste):
conecta com JWT, recebe ``new_event`` depois de um webhook assinado nos namespaces ``/``
e ``/dashboard``, é recusado sem token (``connect_error`` com o motivo) e retoma pelo
cursor. As dependências vêm do ``package-lock.json`` (``npm ci``, feito pelo ``.ci/run``);
sem ``node`` ou sem ``node_modules`` o teste pula localmente e falha com ``CI=true``.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from accounts.models import User
from tests.conftest import require_service
from tests.events.socketio_feed.conftest import Token

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
NODE_TESTS = ROOT / "tests" / "node"
# Limite do processo inteiro (não é medida de desempenho): subir o Node e quatro testes curtos.
NODE_TIMEOUT_SECONDS = 120


def _node() -> str | None:
    return shutil.which("node")


async def run_node_tests(node: str, script: str, env: dict[str, str]) -> tuple[int | None, str]:
    """Roda ``tests/node/<script>`` com o ``node --test``; devolve o código de saída e o relatório."""
    process = await asyncio.create_subprocess_exec(
        node,
        "--test",
        "--test-reporter=spec",
        str(NODE_TESTS / script),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=NODE_TIMEOUT_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    report = output.decode(errors="replace")
    print(report)
    return process.returncode, report


@pytest.mark.parametrize(
    "transports",
    [
        pytest.param("websocket", id="websocket"),
        # O padrão do socket.io-client: começa em long-polling e sobe para WebSocket.
        pytest.param("polling,websocket", id="polling-then-upgrade"),
    ],
)
async def test_socket_io_client_connects_receives_new_event_and_is_refused_without_token(
    live_url: str, user: User, token: Token, transports: str
) -> None:
    node = _node()
    require_service(node is not None, "node não encontrado (apt-get install nodejs npm)")
    require_service(
        (ROOT / "node_modules" / "socket.io-client").is_dir(),
        "socket.io-client não instalado: rode `npm ci` na raiz do projeto",
    )
    assert node is not None
    env = {
        **os.environ,
        "SOCKETIO_URL": live_url,
        "SOCKETIO_TOKEN": token(user),
        "WEBHOOK_SECRET": settings.WEBHOOK_SECRETS[0],
        "SOCKETIO_TRANSPORTS": transports,
        "NODE_NO_WARNINGS": "1",
    }
    returncode, report = await run_node_tests(node, "socketio_feed.test.mjs", env)

    assert returncode == 0, report
    assert "new_event" in report
    assert "connect_error: unauthenticated" in report
