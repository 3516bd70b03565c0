"""Fixtures compartilhadas: armazenamento limpo, assinatura de webhooks, cliente ASGI."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.core.cache import cache
from django_ratelimit import core as ratelimit_core
from hypothesis import settings as hypothesis_settings
from standardwebhooks.webhooks import Webhook

from events.alerts.cache import rule_cache
from events.store import EventStore, get_store

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Hypothesis: em CI os exemplos são sempre os mesmos (derandomize) — uma falha em CI
# se reproduz em qualquer máquina e nunca aparece "por acaso" numa rodada. Localmente a
# exploração segue aleatória; todo exemplo que já falhou vira um teste de regressão
# explícito. ``HYPOTHESIS_PROFILE=long`` explora bem mais (rodada longa documentada no README).
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("dev", print_blob=True)
hypothesis_settings.register_profile("long", max_examples=2000, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if ON_CI else "dev"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Com MONGO_URI de um servidor real (job de CI), pula os testes ``mongomock_only``."""
    real_mongo = not settings.MONGO_URI.startswith("mongomock://")
    if real_mongo and item.get_closest_marker("mongomock_only"):
        pytest.skip("substitui métodos do mongomock; não se aplica a um MongoDB real")


def require_service(available: bool, reason: str) -> None:
    """Pula localmente quando o serviço real falta; em CI (CI=true) falha."""
    if available:
        return
    if ON_CI:
        pytest.fail(f"serviço obrigatório em CI ausente: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def store() -> Iterator[EventStore]:
    """Cada teste começa com o MongoDB (mongomock) vazio e o cache limpo."""
    instance = get_store()
    instance.drop_all()
    cache.clear()
    # As regras de alerta em cache no processo: as de um teste não valem no seguinte.
    rule_cache.clear()
    # Uma camada de canais nova por teste (filas presas ao laço de eventos do teste).
    channel_layers.backends.clear()
    clock = instance.now
    yield instance
    # Testes que fixam o relógio do singleton não podem vazá-lo para os seguintes.
    instance.now = clock
    instance.drop_all()


class RatelimitClock:
    """Relógio parado do django-ratelimit; ``shift`` avança (ex.: para a janela seguinte).

    As janelas do django-ratelimit são fixas: com o relógio de verdade, pedidos de um
    teste que cruzam a virada da janela caem em contadores diferentes e o teste
    falharia por acaso (visto uma vez numa rodada do ``make test``).
    """

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def shift(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def ratelimit_clock(monkeypatch: pytest.MonkeyPatch) -> RatelimitClock:
    clock = RatelimitClock()
    monkeypatch.setattr(ratelimit_core, "time", clock)
    return clock


Signer = Callable[..., dict[str, str]]


@pytest.fixture
def sign() -> Signer:
    """Gera cabeçalhos Standard Webhooks para um corpo (com o 1º segredo, por padrão)."""
    counter = {"n": 0}

    def _sign(
        body: bytes | str,
        *,
        msg_id: str | None = None,
        timestamp: datetime | None = None,
        secret: str | None = None,
    ) -> dict[str, str]:
        counter["n"] += 1
        text = body.decode() if isinstance(body, bytes) else body
        moment = timestamp or datetime.now(UTC)
        msg = msg_id or f"msg_test_{counter['n']}_{id(counter)}"
        signature = Webhook(secret or settings.WEBHOOK_SECRETS[0]).sign(msg, moment, text)
        return {
            "webhook-id": msg,
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": signature,
            "content-type": "application/json",
        }

    return _sign


def event_body(**overrides: Any) -> bytes:
    payload: dict[str, Any] = {"userId": "u-1", "type": "purchase", "value": 10.5}
    payload.update(overrides)
    return json.dumps({k: v for k, v in payload.items() if v is not None}).encode()


@pytest.fixture
async def asgi_client() -> AsyncIterator[httpx.AsyncClient]:
    """Cliente HTTP contra a aplicação ASGI real (o mesmo caminho do servidor)."""
    from trader_monitor.asgi import application

    transport = httpx.ASGITransport(app=application, client=("10.0.0.1", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
