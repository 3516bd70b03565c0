"""Fixtures dos alertas: armazenamento em memória isolado, eventos e regras prontas, clientes da API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId
from rest_framework.test import APIClient

from events.alerts.models import AlertRule
from events.store.memory import InMemoryStore
from tests.accounts.factories import bearer_client, make_user

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)

EventFactory = Callable[..., dict[str, Any]]


@pytest.fixture
def memory_store() -> InMemoryStore:
    """Um ``InMemoryStore`` só deste teste, com o relógio parado em ``T0``."""
    return InMemoryStore(f"alerts_{ObjectId()}", clock=lambda: T0)


@pytest.fixture
def make_event() -> EventFactory:
    """Documento de evento como o ``build_document`` produz (``number`` define ``_id`` e a ordem)."""

    def _make(number: int, *, user: str = "u1", type: str = "withdraw", value: float = 10.0, at: float = 0) -> Any:
        return {
            "_id": ObjectId(f"{number:024x}"),
            "userId": user,
            "type": type,
            "value": float(value),
            "timestamp": T0 + timedelta(seconds=at),
            "receivedAt": T0,
            "bodyHash": f"h{number}",
            "ingestId": f"i{number}",
            "schemaVersion": 1,
        }

    return _make


@pytest.fixture
def staff() -> APIClient:
    return bearer_client(make_user("boss", staff=True))


@pytest.fixture
def analyst() -> APIClient:
    return bearer_client(make_user("analyst"))


@pytest.fixture
def threshold_rule() -> AlertRule:
    """Saque acima de 5.000 (sem intervalo sem repetição)."""
    return AlertRule.objects.create(
        name="Saque alto", kind="threshold", severity="critical", event_type="withdraw", op=">", threshold=5000,
        cooldown_seconds=0,
    )  # fmt: skip


@pytest.fixture
def metric() -> Callable[..., float]:
    """Valor atual de uma série do Prometheus deste processo (0 se ainda não existe)."""
    from prometheus_client import REGISTRY

    def _value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    return _value
