"""Consultas e pipelines do MongoDB, montados num só lugar (funções puras, sem I/O).

Os testes de oráculo (``tests/events/test_pipelines_oracle.py``) executam cada
pipeline daqui contra dados gerados e comparam com o mesmo cálculo em Python puro.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from events.buckets import Family, Segment
from events.domain import EventFilter, KeysetPosition, SortField

# Nenhum evento é anterior a 1970 (validação da carga). Uma condição em ``timestamp``
# em toda consulta de eventos deixa de fora as lápides (sem ``timestamp``) e usa o índice.
MIN_TIMESTAMP = datetime(1970, 1, 1, tzinfo=UTC)
DIMENSION = {"type": "type", "userId": "userId"}


def event_match(event_filter: EventFilter) -> dict[str, Any]:
    """``$match`` dos eventos (nunca das lápides) que passam no filtro."""
    query: dict[str, Any] = {}
    if event_filter.types:
        types = event_filter.types
        query["type"] = types[0] if len(types) == 1 else {"$in": list(types)}
    if event_filter.user_id is not None:
        query["userId"] = event_filter.user_id
    span: dict[str, datetime] = {"$gte": event_filter.start or MIN_TIMESTAMP}
    if event_filter.end is not None:
        span["$lt"] = event_filter.end
    query["timestamp"] = span
    return query


def keyset_match(
    query: dict[str, Any], sort_field: SortField, descending: bool, after: KeysetPosition
) -> dict[str, Any]:
    """Acrescenta a condição "depois de ``after``" na ordem ``(sort_field, _id)``."""
    op = "$lt" if descending else "$gt"
    keyset = {"$or": [{sort_field: {op: after.value}}, {sort_field: after.value, "_id": {op: after.event_id}}]}
    return {"$and": [query, keyset]}


def sort_spec(sort_field: SortField, descending: bool) -> list[tuple[str, int]]:
    direction = -1 if descending else 1
    return [(sort_field, direction), ("_id", direction)]


def rollup_match(segment: Segment, event_filter: EventFilter, family: Family) -> dict[str, Any]:
    """``$match`` dos baldes do segmento na família, com os filtros de tipo e usuário."""
    query: dict[str, Any] = {"bucket": {"$gte": segment.start, "$lt": segment.end}}
    if event_filter.types:
        types = event_filter.types
        query["type"] = types[0] if len(types) == 1 else {"$in": list(types)}
    if family is Family.USER and event_filter.user_id is not None:
        query["userId"] = event_filter.user_id
    return query


def group_pipeline(match: dict[str, Any], by: str) -> list[dict[str, Any]]:
    """Contagem e soma por ``by``. Em baldes, ``count``/``sum`` já são parciais: somam-se."""
    return [
        {"$match": match},
        {"$group": {"_id": f"${DIMENSION[by]}", "count": {"$sum": "$count"}, "sum": {"$sum": "$sum"}}},
        {"$match": {"count": {"$gt": 0}}},
    ]


def raw_group_pipeline(match: dict[str, Any], by: str) -> list[dict[str, Any]]:
    """Contagem e soma por ``by`` direto dos eventos."""
    return [
        {"$match": match},
        {"$group": {"_id": f"${DIMENSION[by]}", "count": {"$sum": 1}, "sum": {"$sum": "$value"}}},
    ]


def series_pipeline(match: dict[str, Any]) -> list[dict[str, Any]]:
    """Contagem e soma por (balde, tipo), em ordem de balde."""
    return [
        {"$match": match},
        {
            "$group": {
                "_id": {"bucket": "$bucket", "type": "$type"},
                "count": {"$sum": "$count"},
                "sum": {"$sum": "$sum"},
            }
        },
        {"$match": {"count": {"$gt": 0}}},
        {"$sort": {"_id.bucket": 1, "_id.type": 1}},
    ]


def rollup_id(family: Family, bucket: datetime, event_type: str, user_id: str | None) -> str:
    """``_id`` determinístico do documento de agregação (um por balde e chave).

    O tamanho do tipo vai na frente dele: ``|`` dentro de um tipo ou de um ``userId``
    não faz duas chaves diferentes colidirem.
    """
    # Segundos desde a época: bem mais barato que formatar a data (roda por evento em memória).
    stamp = int(bucket.timestamp())
    head = f"{stamp}|{len(event_type)}|{event_type}"
    return head if family is Family.TYPE else f"{head}|{user_id}"


def rollup_keys(family: Family, bucket: datetime, event_type: str, user_id: str | None) -> dict[str, Any]:
    """Campos fixos do documento de agregação (gravados só na criação)."""
    keys: dict[str, Any] = {"bucket": bucket, "type": event_type}
    if family is Family.USER:
        keys["userId"] = user_id
    return keys
