"""Alertas no feed Socket.IO com o ``socket.io-client`` real (``tests/node/socketio_alerts.test.mjs``).

Cria uma regra de limite de verdade, sobe o servidor de teste e roda o Node: um webhook
que cruza a regra chega como ``alert`` nos namespaces ``/`` e ``/dashboard``, igual ao
``GET /api/alerts/<id>``. Sem ``node`` ou ``node_modules``, pula (falha com ``CI=true``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from django.conf import settings

from accounts.models import User
from events.alerts.models import AlertRule
from tests.conftest import require_service
from tests.events.socketio_feed.conftest import Token
from tests.events.socketio_feed.test_socketio_node import ROOT, _node, run_node_tests

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def withdraw_rule() -> AsyncIterator[AlertRule]:
    rule = await AlertRule.objects.acreate(
        name="Saque acima de 5 mil",
        kind="threshold",
        severity="critical",
        event_type="withdraw",
        op=">",
        threshold=5000,
    )
    yield rule
    # Pelo ORM: o sinal limpa o cache de regras do processo para os testes seguintes.
    await rule.adelete()


async def test_socket_io_client_receives_the_alert_of_a_webhook_that_crosses_a_rule(
    live_url: str, user: User, token: Token, withdraw_rule: AlertRule
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
        "ALERT_EVENT_TYPE": "withdraw",
        "ALERT_EVENT_VALUE": "9000",
        "NODE_NO_WARNINGS": "1",
    }
    returncode, report = await run_node_tests(node, "socketio_alerts.test.mjs", env)

    assert returncode == 0, report
    assert "Saque acima de 5 mil" in report
    assert "pass 1" in report
    assert "skipped 0" in report
