"""Fixtures dos insights: relógio fixo, eventos semeados, usuário com JWT e a
OpenAI simulada com respx (o SDK real monta, envia, repete e interpreta tudo)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
import time_machine
from bson import ObjectId
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from events.store import EventStore
from insights import openai_client

NOW = datetime(2026, 11, 29, 15, 37, 12, tzinfo=UTC)
BASE_URL = "https://api.openai.test/v1"
MODEL = "gpt-5.4-mini"
ANSWERED_MODEL = "gpt-5.4-mini-2026-03-17"

# (idade, userId, tipo, valor): atual = últimas 24h; anterior = 24h antes, alinhado.
EVENTS: list[tuple[timedelta, str, str, float]] = [
    # período atual
    (timedelta(hours=1), "u-1", "purchase", 300.0),
    (timedelta(hours=2), "u-1", "purchase", 200.0),
    (timedelta(hours=3), "u-2", "purchase", 100.0),
    (timedelta(hours=4), "u-2", "deposit", 500.0),
    (timedelta(hours=5), "u-3", "withdraw", 800.0),
    (timedelta(hours=6), "u-3", "login", 0.0),
    (timedelta(hours=7), "u-1", "login", 0.0),
    # período anterior: 27/11 (janela alinhada ao dia por causa dos baldes diários de usuários)
    (timedelta(hours=40), "u-1", "purchase", 100.0),
    (timedelta(hours=42), "u-2", "purchase", 100.0),
    (timedelta(hours=44), "u-2", "deposit", 1000.0),
    (timedelta(hours=46), "u-2", "login", 0.0),
]


def seed_events(store: EventStore, events: list[tuple[timedelta, str, str, float]] = EVENTS) -> None:
    docs = [
        {
            "_id": ObjectId(),
            "userId": user_id,
            "type": kind,
            "value": value,
            "timestamp": NOW - age,
            "receivedAt": NOW - age,
            "bodyHash": "x",
            "ingestId": "x",
            "schemaVersion": 1,
        }
        for age, user_id, kind, value in events
    ]
    store.insert_events_bulk(docs)  # type: ignore[arg-type]


@pytest.fixture
def frozen(store: EventStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    """Relógio parado em NOW (Django, ledger e o relógio do armazenamento)."""
    monkeypatch.setattr(store, "now", lambda: NOW)
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def seeded(store: EventStore, frozen: datetime) -> EventStore:
    seed_events(store)
    return store


def grant_paid_model(user: User) -> User:
    """Dá ao usuário a permissão de chamar o modelo pago (como a equipe faz no admin)."""
    user.user_permissions.add(Permission.objects.get(codename="use_paid_model", content_type__app_label="insights"))
    # O cache de permissões do objeto foi preenchido antes da concessão? Relê do banco.
    return User.objects.get(pk=user.pk)


@pytest.fixture
def analyst(db: None) -> User:
    """Analista com a permissão do modelo pago: os testes do caminho OpenAI partem dele."""
    return grant_paid_model(User.objects.create_user(username="ana", password="x-strong-pass-1"))


@pytest.fixture
def unprivileged(db: None) -> User:
    """Analista comum (ex.: cadastro aberto): sem equipe, sem a permissão do modelo pago."""
    return User.objects.create_user(username="leo", password="x-strong-pass-3")


@pytest.fixture
def api(analyst: User, frozen: datetime) -> APIClient:
    """Cliente com JWT emitido já no relógio parado (o token vale 10 min)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(analyst).access_token}")
    return client


@pytest.fixture
def insight_settings(settings: Any) -> Any:
    """Chave e URL base de teste; limite por usuário desligado (testes próprios o ligam)."""
    settings.OPENAI_API_KEY = "sk-test-key"
    settings.OPENAI_BASE_URL = BASE_URL
    settings.OPENAI_MODEL = MODEL
    settings.INSIGHT_RATE_LIMIT = ""
    settings.INSIGHT_FALLBACK = "offline"
    settings.INSIGHT_NUMBER_POLICY = "reject"
    settings.INSIGHT_DAILY_BUDGET_USD = "1.00"
    settings.INSIGHT_MAX_RETRIES = 1
    return settings


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Esperas pedidas pelo SDK entre tentativas (registradas, sem dormir de verdade).

    Só as da thread do teste (onde o SDK roda): threads de fundo — o monitor do pymongo
    contra um MongoDB de verdade, por exemplo — continuam dormindo normalmente.
    """
    waits: list[float] = []
    real_sleep = time.sleep
    test_thread = threading.get_ident()

    def sleep(seconds: float) -> None:
        if threading.get_ident() == test_thread:
            waits.append(seconds)
        else:
            real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    return waits


@pytest.fixture
def openai_mock(insight_settings: Any, sleeps: list[float], monkeypatch: pytest.MonkeyPatch) -> Iterator[respx.Router]:
    """respx na URL base; todo pedido não roteado falha (nada sai para a rede).

    O SDK 3.x usa httpx2 por padrão, que o respx não intercepta; o SDK aceita um
    ``httpx.Client`` como ``http_client`` e é esse que os testes injetam.
    """
    monkeypatch.setattr(openai_client, "http_client_factory", httpx.Client)
    monkeypatch.setattr(openai_client, "_clients", {})
    with respx.mock(base_url=BASE_URL, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def completion_body(
    content: dict[str, Any] | str,
    *,
    prompt_tokens: int = 1200,
    completion_tokens: int = 300,
    cached_tokens: int = 0,
    finish_reason: str = "stop",
    model: str = ANSWERED_MODEL,
) -> dict[str, Any]:
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(NOW.timestamp()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": text, "refusal": None},
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


def reply(content: dict[str, Any] | str, **kwargs: Any) -> httpx.Response:
    return httpx.Response(200, json=completion_body(content, **kwargs), headers={"x-request-id": "req_test_123"})


# Só números do digest de EVENTS (7 eventos, +75%, +58,33%, u-3 com 800 = 42,11%…).
GOOD_DRAFT: dict[str, Any] = {
    "summary": "Nas últimas 24 horas foram 7 eventos, alta de 75% sobre o período anterior, e o valor subiu 58,3%.",
    "highlights": [
        "u-3 lidera em valor com 800,00 (42,1% do total).",
        "Os saques (800,00) superaram os depósitos (500,00), com fluxo líquido de −300,00.",
        "withdraw apareceu neste período.",
    ],
}


def sent_bodies(route: respx.Route) -> list[dict[str, Any]]:
    return [json.loads(call.request.content) for call in route.calls]
