"""Alertas no MongoDB: os alertas gravados e o estado da avaliação (intervalos e estatísticas).

Volume baixo: os dois adaptadores usam este mesmo código (o de memória, sobre o mongomock).
Todo estado compartilhado entre processos muda por operação atômica de um documento:

* ``alerts`` — ``_id`` derivado de (regra, usuário, gatilho) (``events.alerts.domain.alert_id``):
  a gravação duplicada esbarra na chave primária e é descartada — exatamente uma vez.
* ``alert_cooldowns`` — um documento por (regra, usuário) com ``next`` (quando pode disparar
  de novo). Reivindicar é um ``find_one_and_update`` com ``upsert`` filtrado por
  ``next <= t``: se o documento existe e ainda está no intervalo, o upsert tenta inserir o
  mesmo ``_id`` e falha com ``DuplicateKeyError`` — só um processo leva. ``claim`` marca
  quem reivindicou, para que a nova tentativa de uma escrita cuja confirmação se perdeu
  se reconheça.
* ``alert_stats`` — média e variância (Welford) por (tipo, usuário), trocadas por
  comparar-e-trocar no ``n``: quem leu um ``n`` velho relê e refaz a conta. O documento
  guarda o último evento somado e o estado de antes dele (``prev``), e assim uma nova
  tentativa do mesmo evento não soma duas vezes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from events.alerts.domain import AlertFilter, AlertPosition
from events.alerts.rules import Stats

ALERTS = "alerts"
COOLDOWNS = "alert_cooldowns"
STATS = "alert_stats"
# Comparar-e-trocar perde só para outra escrita no mesmo (tipo, usuário); nunca em laço sem fim.
MAX_CAS_ATTEMPTS = 50

StatsTuple = tuple[int, float, float]


class AlertStore:
    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self.alerts: Collection[dict[str, Any]] = db[ALERTS]
        self.cooldowns: Collection[dict[str, Any]] = db[COOLDOWNS]
        self.stats: Collection[dict[str, Any]] = db[STATS]

    def declare_indexes(self) -> list[str]:
        alerts = self.alerts
        return [
            alerts.create_index([("triggeredAt", DESCENDING), ("_id", DESCENDING)]),
            alerts.create_index([("state", ASCENDING), ("triggeredAt", DESCENDING), ("_id", DESCENDING)]),
            alerts.create_index([("ruleId", ASCENDING), ("triggeredAt", DESCENDING), ("_id", DESCENDING)]),
            alerts.create_index([("userId", ASCENDING), ("triggeredAt", DESCENDING), ("_id", DESCENDING)]),
        ]

    # --- gravação ------------------------------------------------------------------------

    def insert(self, alert: dict[str, Any]) -> bool:
        """Grava o alerta; ``False`` se este ``_id`` (mesma regra, usuário e gatilho) já existe."""
        try:
            self.alerts.insert_one(dict(alert))
        except DuplicateKeyError:
            return False
        return True

    def claim_cooldown(self, key: str, *, at: datetime, cooldown: timedelta, claim: str) -> bool:
        """Reivindica o disparo de ``key`` no instante ``at``; ``False`` se ainda está no intervalo."""
        try:
            self.cooldowns.find_one_and_update(
                {"_id": key, "next": {"$lte": at}},
                {"$set": {"next": at + cooldown, "firedAt": at, "claim": claim}},
                upsert=True,
            )
        except DuplicateKeyError:
            current = self.cooldowns.find_one({"_id": key}, {"claim": 1})
            return current is not None and current.get("claim") == claim
        return True

    def add_sample(self, key: str, value: float, *, sample_id: str) -> StatsTuple:
        """Soma ``value`` à estatística de ``key`` e devolve a de ANTES (n, média, m2)."""
        for _attempt in range(MAX_CAS_ATTEMPTS):
            current = self.stats.find_one({"_id": key})
            if current is not None and current.get("last") == sample_id:
                prev = current["prev"]
                return int(prev[0]), float(prev[1]), float(prev[2])
            before = Stats() if current is None else Stats(int(current["n"]), current["mean"], current["m2"])
            after = before.add(value)
            update = {
                "$set": {
                    "n": after.n,
                    "mean": after.mean,
                    "m2": after.m2,
                    "last": sample_id,
                    "prev": [before.n, before.mean, before.m2],
                }
            }
            try:
                # Sem documento, o filtro por n=0 vira a inserção; com outro n, esbarra no _id e relê.
                self.stats.find_one_and_update({"_id": key, "n": before.n}, update, upsert=True)
            except DuplicateKeyError:
                continue
            return before.n, before.mean, before.m2
        raise RuntimeError(f"estatística {key!r} disputada demais; amostra {sample_id} não somada")

    def acknowledge(self, alert_id: ObjectId, *, by: str, at: datetime) -> dict[str, Any] | None:
        """Marca como reconhecido (só se aberto); devolve o alerta como ficou, ou ``None`` se não existe."""
        updated: dict[str, Any] | None = self.alerts.find_one_and_update(
            {"_id": alert_id, "state": "open"},
            {"$set": {"state": "acknowledged", "ackBy": by, "ackAt": at}},
            return_document=ReturnDocument.AFTER,
        )
        return updated if updated is not None else self.get(alert_id)

    # --- leitura -------------------------------------------------------------------------

    def get(self, alert_id: ObjectId) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.alerts.find_one({"_id": alert_id})
        return found

    def page(self, alert_filter: AlertFilter, *, limit: int, after: AlertPosition | None) -> list[dict[str, Any]]:
        """Mais recentes primeiro (``triggeredAt``, desempate por ``_id``), depois de ``after``."""
        query = alert_filter.query()
        if after is not None:
            query = {
                "$and": [
                    query,
                    {
                        "$or": [
                            {"triggeredAt": {"$lt": after.triggered_at}},
                            {"triggeredAt": after.triggered_at, "_id": {"$lt": after.alert_id}},
                        ]
                    },
                ]
            }
        cursor = self.alerts.find(query).sort([("triggeredAt", DESCENDING), ("_id", DESCENDING)]).limit(limit)
        return list(cursor)
