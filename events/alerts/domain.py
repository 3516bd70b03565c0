"""Alertas como dados: o documento no MongoDB, a forma pública (JSON) e os filtros da listagem.

Módulo puro (sem Django nem pymongo), importado pelo ``events.store`` e pela API.

* O ``_id`` de um alerta é derivado de (regra, usuário, gatilho): dois processos que
  avaliam o mesmo gatilho tentam gravar o mesmo ``_id`` e só um consegue — a garantia
  "exatamente uma vez" é a chave primária, como a idempotência dos eventos.
* O gatilho é o que disparou: o id do evento (``threshold``, ``frequency``, ``anomaly``)
  ou o par de eventos (``sequence``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bson import ObjectId

from events.windows import isoformat

AlertState = Literal["open", "acknowledged", "resolved"]
ALERT_STATES: tuple[AlertState, ...] = ("open", "acknowledged", "resolved")
SEVERITIES = ("info", "warning", "critical")
KINDS = ("threshold", "frequency", "anomaly", "sequence")


def alert_id(*, rule_id: int, user_id: str, trigger: str) -> ObjectId:
    """``_id`` determinístico do alerta de ``rule_id`` para ``user_id`` neste gatilho."""
    digest = hashlib.sha256(f"alert\x00{rule_id}\x00{user_id}\x00{trigger}".encode()).digest()
    return ObjectId(digest[:12])


def cooldown_key(*, rule_id: int, user_id: str) -> str:
    """Chave do intervalo sem repetição; o id da regra (inteiro) não tem ``:``, então não há ambiguidade."""
    return f"{rule_id}:{user_id}"


def stats_key(*, event_type: str, user_id: str) -> str:
    """Chave da média/variância de um usuário num tipo (compartilhada pelas regras de anomalia do tipo)."""
    return f"{len(event_type)}:{event_type}:{user_id}"


@dataclass(frozen=True)
class AlertFilter:
    """Filtros da listagem de alertas, já validados; ``[start, end)`` sobre ``triggeredAt``."""

    state: str | None = None
    severity: str | None = None
    rule_id: int | None = None
    user_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def matches(self, doc: dict[str, Any]) -> bool:
        """O mesmo filtro avaliado em Python (armazenamento em memória)."""
        expected = (
            ("state", self.state),
            ("severity", self.severity),
            ("ruleId", self.rule_id),
            ("userId", self.user_id),
        )
        if any(value is not None and doc.get(field) != value for field, value in expected):
            return False
        moment = doc["triggeredAt"]
        if self.start is not None and moment < self.start:
            return False
        return not (self.end is not None and moment >= self.end)

    def query(self) -> dict[str, Any]:
        """A consulta do MongoDB equivalente (só igualdades e intervalo: nada do cliente vira operador)."""
        query: dict[str, Any] = {}
        if self.state is not None:
            query["state"] = self.state
        if self.severity is not None:
            query["severity"] = self.severity
        if self.rule_id is not None:
            query["ruleId"] = self.rule_id
        if self.user_id is not None:
            query["userId"] = self.user_id
        moment: dict[str, datetime] = {}
        if self.start is not None:
            moment["$gte"] = self.start
        if self.end is not None:
            moment["$lt"] = self.end
        if moment:
            query["triggeredAt"] = moment
        return query


@dataclass(frozen=True)
class AlertPosition:
    """Posição da paginação por chave: ``triggeredAt`` e ``_id`` do último alerta da página."""

    triggered_at: datetime
    alert_id: ObjectId


def alert_to_json(doc: dict[str, Any]) -> dict[str, Any]:
    """Forma pública do alerta (REST e tempo real), exatamente estes campos."""
    ack_at = doc.get("ackAt")
    return {
        "id": str(doc["_id"]),
        "ruleId": doc["ruleId"],
        "ruleName": doc["ruleName"],
        "kind": doc["kind"],
        "severity": doc["severity"],
        "userId": doc["userId"],
        "eventIds": [str(event_id) for event_id in doc["eventIds"]],
        "triggeredAt": isoformat(doc["triggeredAt"]),
        "state": doc["state"],
        "ackBy": doc.get("ackBy"),
        "ackAt": isoformat(ack_at) if ack_at is not None else None,
        "message": doc["message"],
    }


def parse_alert_id(value: str) -> ObjectId | None:
    return ObjectId(value) if ObjectId.is_valid(value) and len(value) == 24 else None
