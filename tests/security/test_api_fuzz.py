"""Schemathesis sobre o esquema OpenAPI do próprio projeto (``/api/schema/``), em processo.

Cada operação do esquema recebe casos positivos e negativos (exemplos, cobertura e
fuzzing) pela aplicação ASGI real, autenticados como administrador e como analista;
o webhook é assinado (Standard Webhooks) com o segredo de teste. Checagens: sem 5xx,
status/Content-Type/corpo conforme o esquema, dados inválidos recusados e
autenticação exigida onde o esquema a declara. Zero falhas: quando uma checagem
acha um problema, corrige-se a API ou o esquema, não a checagem.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import schemathesis
from django.conf import settings as django_settings
from django.test import RequestFactory
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi import checks as openapi_checks
from standardwebhooks.webhooks import Webhook

from events import webhook
from events.domain import IdempotencyKey
from tests.accounts.factories import make_user
from tests.conftest import event_body
from trader_monitor.asgi import application

# O app ASGI roda numa thread do Schemathesis: os dados de teste precisam estar gravados
# (transaction=True) para a outra conexão do SQLite vê-los.
pytestmark = pytest.mark.django_db(transaction=True)

MAX_EXAMPLES = 20
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
        # O estado entre operações (links) não está no esquema; a fase stateful nada acrescenta.
        "phases": {"stateful": {"enabled": False}},
    }
)
schema = schemathesis.openapi.from_asgi("/api/schema/?format=json", application, config=CONFIG)

CHECKS = [
    not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
    openapi_checks.ignored_auth,
]
WEBHOOK_PATH = "/api/webhook/event"
EVENT_ID_PATH = "/api/events/{event_id}"
SEEDED = [f"fuzz-seed-{n}" for n in range(4)]
SEEDED_IDS = [str(IdempotencyKey("webhook-id", key).event_id()) for key in SEEDED]


class StandardWebhookSigner(requests.auth.AuthBase):
    """Assina o corpo exatamente como sai (bytes já serializados) com o segredo de teste."""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        raw = request.body or b""
        assert isinstance(raw, bytes | str)  # corpo JSON já serializado pelo requests
        text = raw.decode() if isinstance(raw, bytes) else raw
        moment = datetime.now(UTC)
        msg_id = str(request.headers["webhook-id"])
        request.headers["webhook-timestamp"] = str(int(moment.timestamp()))
        request.headers["webhook-signature"] = Webhook(django_settings.WEBHOOK_SECRETS[0]).sign(msg_id, moment, text)
        return request


def webhook_signing(case: Any) -> dict[str, Any]:
    """Assina o webhook, a não ser que o caso seja inválido justamente nos cabeçalhos.

    Re-assinar um caso negativo nos cabeçalhos o tornaria válido (e o servidor o aceitaria,
    corretamente); esses seguem como gerados e devem dar 400/401.
    """
    if case.operation.path != WEBHOOK_PATH:
        return {}
    if case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER):
        return {}
    return {"auth": StandardWebhookSigner()}


@schema.hook
def map_path_parameters(context: Any, path_parameters: dict[str, Any]) -> dict[str, Any]:
    """Metade dos ids bem formados vira um evento que existe (200/204 além de 404)."""
    if context.operation.path != EVENT_ID_PATH:
        return path_parameters
    value = path_parameters.get("event_id")
    if isinstance(value, str) and len(value) == 24 and all(ch in "0123456789abcdefABCDEF" for ch in value):
        number = int(value, 16)
        if number % 2 == 0:
            return {**path_parameters, "event_id": SEEDED_IDS[number // 2 % len(SEEDED_IDS)]}
    return path_parameters


@pytest.fixture
def seeded_events(sign: Any) -> list[str]:
    ids = []
    for key in SEEDED:
        body = event_body(userId="u-seed", metadata={"k": key})
        request = RequestFactory().post("/api/webhook/event", body, content_type="application/json")
        delivery = webhook.Delivery(sign(body, msg_id=key), body, "10.0.0.9", len(body), request)
        response = webhook.process_delivery(delivery)
        assert response.status == 201
        ids.append(response.body["id"])
    assert ids == SEEDED_IDS
    return ids


@pytest.fixture
def tokens() -> dict[str, str]:
    return {
        "staff": str(RefreshToken.for_user(make_user("fuzz-admin", staff=True)).access_token),
        "analyst": str(RefreshToken.for_user(make_user("fuzz-analyst")).access_token),
    }


@pytest.mark.slow
@pytest.mark.parametrize("identity", ["staff", "analyst"])
@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_every_operation_conforms_to_its_schema(
    case: Any, identity: str, tokens: dict[str, str], seeded_events: list[str]
) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {tokens[identity]}"}, checks=CHECKS, **webhook_signing(case)
    )
