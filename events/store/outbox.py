"""Caixa de saída (outbox) das notificações de alertas: uma entrega por (alerta, destino).

A gravação da entrega é durável e independente do envio: quem dispara o alerta só
enfileira; o remetente (``manage.py deliver_notifications``) reivindica as entregas
vencidas com uma concessão (``leaseUntil``) num ``find_one_and_update`` atômico — dois
remetentes nunca enviam a mesma tentativa ao mesmo tempo, e a concessão de um remetente
que caiu vence sozinha. O registro da tentativa só vale para quem ainda detém a
concessão (``leaseOwner``).

Volume baixo (um documento por alerta e destino): os dois adaptadores usam este
mesmo código, o de memória sobre o mongomock. O enfileiramento é idempotente por
(``alertId``, ``endpointId``): o ``_id`` da entrega é derivado do par (``delivery_id``),
então a repetição é recusada pela chave primária mesmo antes do ``ensure_indexes``; o
índice único sobre o par declara a mesma regra para quem lê a coleção. Entregas
terminadas (``finishedAt``) expiram pelo índice TTL depois de ``NOTIFY_OUTBOX_TTL_DAYS``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any, Literal

from bson import ObjectId
from django.conf import settings
from pymongo import ASCENDING, DESCENDING, ReturnDocument
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

OUTBOX = "notification_outbox"

DeliveryStatus = Literal["pending", "delivered", "failed"]
PENDING: DeliveryStatus = "pending"


def delivery_id(alert_id: str, endpoint_id: int) -> ObjectId:
    """Id determinístico da entrega de um alerta a um destino (é também o ``webhook-id``)."""
    digest = hashlib.sha256(f"notification\x00{alert_id}\x00{endpoint_id}".encode()).digest()
    return ObjectId(digest[:12])


class Outbox:
    def __init__(self, collection: Collection[dict[str, Any]]) -> None:
        self.collection = collection

    def declare_indexes(self) -> list[str]:
        ttl = int(timedelta(days=settings.NOTIFY_OUTBOX_TTL_DAYS).total_seconds())
        return [
            # Só entregas terminadas têm ``finishedAt``: as pendentes nunca expiram.
            self.collection.create_index([("finishedAt", ASCENDING)], expireAfterSeconds=ttl),
            self.collection.create_index([("alertId", ASCENDING), ("endpointId", ASCENDING)], unique=True),
            # Busca do remetente: pendentes por vencimento.
            self.collection.create_index([("status", ASCENDING), ("nextAttemptAt", ASCENDING)]),
            # Listagem por destino (API e admin), mais novas primeiro.
            self.collection.create_index([("endpointId", ASCENDING), ("createdAt", DESCENDING)]),
        ]

    def enqueue(self, alert: dict[str, Any], endpoint_ids: list[int], *, now: datetime) -> list[ObjectId]:
        """Uma entrega pendente por destino; devolve os ids das criadas (as repetidas não contam)."""
        created: list[ObjectId] = []
        for endpoint_id in dict.fromkeys(endpoint_ids):
            document: dict[str, Any] = {
                "_id": delivery_id(str(alert["id"]), int(endpoint_id)),
                "alertId": str(alert["id"]),
                "endpointId": int(endpoint_id),
                "alert": dict(alert),
                "status": PENDING,
                "attempts": [],
                "nextAttemptAt": now,
                "leaseUntil": None,
                "leaseOwner": None,
                "createdAt": now,
                "updatedAt": now,
            }
            try:
                self.collection.insert_one(document)
            except DuplicateKeyError:
                continue
            created.append(document["_id"])
        return created

    def claim(
        self, *, now: datetime, lease_seconds: float, owner: str, only: ObjectId | None = None
    ) -> dict[str, Any] | None:
        """Reivindica a entrega pendente vencida mais antiga (atômico); ``None`` se não houver.

        ``only`` restringe a uma entrega (o adaptador em memória já sabe qual venceu).
        """
        query: dict[str, Any] = {
            "status": PENDING,
            "nextAttemptAt": {"$lte": now},
            "$or": [{"leaseUntil": None}, {"leaseUntil": {"$lte": now}}],
        }
        if only is not None:
            query["_id"] = only
        claimed: dict[str, Any] | None = self.collection.find_one_and_update(
            query,
            {"$set": {"leaseUntil": now + timedelta(seconds=lease_seconds), "leaseOwner": owner}},
            sort=None if only is not None else [("nextAttemptAt", ASCENDING), ("_id", ASCENDING)],
            return_document=ReturnDocument.AFTER,
        )
        return claimed

    def finish_attempt(
        self,
        delivery_id: ObjectId,
        *,
        owner: str,
        attempt: dict[str, Any],
        status: DeliveryStatus,
        next_attempt_at: datetime | None,
        now: datetime,
    ) -> bool:
        """Registra a tentativa e solta a concessão; ``False`` se ela já não era de ``owner``."""
        result = self.collection.update_one(
            {"_id": delivery_id, "leaseOwner": owner, "status": PENDING},
            {
                "$push": {"attempts": dict(attempt)},
                "$set": {
                    "status": status,
                    "nextAttemptAt": next_attempt_at,
                    "leaseUntil": None,
                    "leaseOwner": None,
                    "updatedAt": now,
                    **({} if status == PENDING else {"finishedAt": now}),
                },
            },
        )
        return result.modified_count == 1

    def page(self, *, endpoint_id: int, limit: int, skip: int) -> list[dict[str, Any]]:
        cursor = self.collection.find({"endpointId": endpoint_id}, {"alert": 0})
        return list(cursor.sort([("createdAt", DESCENDING), ("_id", DESCENDING)]).skip(skip).limit(limit))

    def count(self, *, endpoint_id: int) -> int:
        return int(self.collection.count_documents({"endpointId": endpoint_id}))

    def get(self, delivery_id: ObjectId) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.collection.find_one({"_id": delivery_id})
        return found
