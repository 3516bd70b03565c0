"""Quarentena: entregas de webhook rejeitadas, para quem opera investigar (admin, métricas).

A coleção é limitada em tamanho (``QUARANTINE_MAX_DOCS``, aparada a cada 100
gravações) e em idade (índice TTL de ``QUARANTINE_TTL_DAYS``). Volume baixo: os dois
adaptadores usam este mesmo código (o de memória, sobre o mongomock).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bson import ObjectId
from django.conf import settings
from pymongo import ASCENDING, DESCENDING
from pymongo.collection import Collection

REJECTED = "rejected_webhooks"
TRIM_EVERY = 100


class Quarantine:
    def __init__(self, collection: Collection[dict[str, Any]]) -> None:
        self.collection = collection
        self._since_trim = 0

    def declare_indexes(self) -> list[str]:
        ttl = int(timedelta(days=settings.QUARANTINE_TTL_DAYS).total_seconds())
        return [
            self.collection.create_index([("receivedAt", ASCENDING)], expireAfterSeconds=ttl),
            self.collection.create_index([("reason", ASCENDING), ("receivedAt", DESCENDING)]),
        ]

    def record(self, record: dict[str, Any]) -> None:
        """Grava uma entrega rejeitada; mantém a coleção limitada em tamanho."""
        self.collection.insert_one(dict(record))
        self._since_trim += 1
        if self._since_trim >= TRIM_EVERY:
            self._since_trim = 0
            self.trim(settings.QUARANTINE_MAX_DOCS)

    def trim(self, keep: int) -> None:
        cutoff = list(self.collection.find({}, {"receivedAt": 1}).sort("receivedAt", DESCENDING).skip(keep).limit(1))
        if cutoff:
            self.collection.delete_many({"receivedAt": {"$lte": cutoff[0]["receivedAt"]}})

    def reset(self) -> None:
        self._since_trim = 0

    def page(self, *, reason: str | None, limit: int, skip: int) -> list[dict[str, Any]]:
        query = {"reason": reason} if reason else {}
        return list(self.collection.find(query).sort("receivedAt", DESCENDING).skip(skip).limit(limit))

    def count(self, *, reason: str | None) -> int:
        return int(self.collection.count_documents({"reason": reason} if reason else {}))

    def get(self, rejection_id: ObjectId) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.collection.find_one({"_id": rejection_id})
        return result

    def by_reason(self) -> dict[str, int]:
        rows = self.collection.aggregate([{"$group": {"_id": "$reason", "n": {"$sum": 1}}}])
        return {row["_id"]: row["n"] for row in rows}
