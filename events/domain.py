"""Modelo de evento: validação da carga recebida e forma pública (JSON).

Os nomes de campo JSON seguem o PROJETO (``userId``, ``type``, ``value``,
``timestamp``, ``metadata``); os identificadores Python ficam em snake_case.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, TypedDict

import bson
import bson.errors
from bson import ObjectId
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from events.windows import isoformat

SCHEMA_VERSION = 1
MAX_METADATA_BYTES = 16 * 1024
MAX_METADATA_DEPTH = 6
MAX_ABS_VALUE = 1e15
# O BSON guarda inteiros de até 64 bits com sinal; além disso o driver nem codifica.
MIN_BSON_INT = -(2**63)
MAX_BSON_INT = 2**63 - 1
MAX_FIELD_ERRORS = 20
# Relógios de remetentes variam um pouco; eventos "do futuro" além disso são erro.
FUTURE_SKEW = timedelta(minutes=5)

IdempotencySource = Literal["webhook-id", "idempotency-key", "body"]
SortField = Literal["timestamp", "value"]


class PayloadError(Exception):
    """Carga inválida; ``fields`` mapeia o campo JSON para as mensagens de erro."""

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


# Um texto que começa assim parece operador ("$gt", "$where") ou documento JSON
# ('{"$ne": ""}') do MongoDB. Recusado na ingestão e nos filtros: nenhum valor guardado
# ou consultado pode ser confundido com um operador por quem montar consultas com ele.
OPERATOR_LIKE_PREFIXES = ("$", "{", "[")


def looks_like_operator(value: str) -> bool:
    return value.startswith(OPERATOR_LIKE_PREFIXES)


def _check_text(value: str) -> str:
    if not _utf8_encodable(value):
        raise ValueError("must be valid Unicode (no lone surrogates such as \\ud800)")
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must not contain control characters")
    if looks_like_operator(value):
        raise ValueError("must not start with '$', '{' or '['")
    return value


def _utf8_encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_metadata_node(node: Any, depth: int) -> None:
    if depth > MAX_METADATA_DEPTH:
        raise ValueError(f"nesting deeper than {MAX_METADATA_DEPTH} levels")
    if isinstance(node, dict):
        for key, child in node.items():
            # Chaves com "$" ou "." seriam operadores/caminhos no Mongo.
            if not key or key.startswith("$") or "." in key or "\x00" in key:
                raise ValueError(f"invalid key {key[:40]!r}: must be non-empty, no '.', no leading '$'")
            _check_metadata_node(child, depth + 1)
    elif isinstance(node, list):
        for child in node:
            _check_metadata_node(child, depth + 1)
    elif isinstance(node, float) and not math.isfinite(node):
        raise ValueError("numbers must be finite")
    elif isinstance(node, int) and not isinstance(node, bool) and not MIN_BSON_INT <= node <= MAX_BSON_INT:
        raise ValueError("integers must fit in 64 bits (-2^63 to 2^63-1); send larger numbers as strings")


class EventPayload(BaseModel):
    """Corpo aceito por ``POST /api/webhook/event``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    user_id: Annotated[str, Field(alias="userId", min_length=1, max_length=128, strict=True)]
    type: Annotated[str, Field(min_length=1, max_length=64, strict=True)]
    value: Annotated[float, Field(strict=True, allow_inf_nan=False)]
    timestamp: AwareDatetime | None = None
    metadata: dict[str, Any] | None = None

    @field_validator("user_id", "type")
    @classmethod
    def _text(cls, value: str) -> str:
        return _check_text(value)

    @field_validator("value")
    @classmethod
    def _magnitude(cls, value: float) -> float:
        if abs(value) > MAX_ABS_VALUE:
            raise ValueError(f"absolute value must be <= {MAX_ABS_VALUE:.0e}")
        return float(value)

    @field_validator("timestamp", mode="before")
    @classmethod
    def _timestamp_is_text(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError("must be an ISO-8601 string with timezone, e.g. 2026-11-29T12:00:00Z")
        return value

    @field_validator("timestamp")
    @classmethod
    def _timestamp_range(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        try:
            value = to_storage_precision(value)
        except OverflowError:
            # Ex.: 9999-12-31T23:59:59-14:00 passa do ano 9999 em UTC.
            raise ValueError("out of range once converted to UTC") from None
        if value > datetime.now(UTC) + FUTURE_SKEW:
            raise ValueError("must not be more than 5 minutes in the future")
        if value.year < 1970:
            raise ValueError("must not be before 1970")
        return value

    @field_validator("metadata")
    @classmethod
    def _metadata_bounds(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        _check_metadata_node(value, 1)
        if len(canonical_json(value)) > MAX_METADATA_BYTES:
            raise ValueError(f"must be at most {MAX_METADATA_BYTES} bytes once serialized")
        try:
            # O que o MongoDB não guarda é erro de quem enviou (400), nunca um 500 na gravação.
            bson.encode({"metadata": value})
        except (bson.errors.BSONError, OverflowError, UnicodeEncodeError) as exc:
            raise ValueError(f"cannot be stored: {exc}") from None
        return value


def to_storage_precision(moment: datetime) -> datetime:
    """O BSON guarda milissegundos em UTC; normalizamos já na entrada."""
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_payload(raw: bytes) -> tuple[EventPayload, dict[str, Any]]:
    """Valida o corpo bruto; devolve o modelo e o objeto JSON como recebido."""
    try:
        data = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        # "[[[[…" com milhares de níveis estoura a pilha do parser (seria um 500).
        raise PayloadError("body is not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise PayloadError("body must be a JSON object")
    try:
        return EventPayload.model_validate(data), data
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False):
            loc = error["loc"]
            name = str(loc[0]) if loc else "body"
            if name not in fields and len(fields) >= MAX_FIELD_ERRORS:
                # Milhares de chaves extras num corpo de 64 KiB não viram uma resposta enorme.
                continue
            message = error["msg"].removeprefix("Value error, ")
            fields.setdefault(name, []).append(message)
        raise PayloadError("invalid event: " + ", ".join(sorted(fields)), fields) from None


@dataclass(frozen=True)
class IdempotencyKey:
    """Chave de idempotência; o ``_id`` do documento é derivado dela."""

    source: IdempotencySource
    value: str

    def event_id(self) -> ObjectId:
        digest = hashlib.sha256(f"{self.source}\x00{self.value}".encode()).digest()
        return ObjectId(digest[:12])


def body_hash(data: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(data)).hexdigest()


class EventDocument(TypedDict, total=False):
    _id: ObjectId
    userId: str
    type: str
    value: float
    timestamp: datetime
    metadata: dict[str, Any]
    receivedAt: datetime
    seq: int
    idempotencySource: str
    idempotencyKey: str
    bodyHash: str
    ingestId: str
    schemaVersion: int


def build_document(
    payload: EventPayload,
    *,
    event_id: ObjectId,
    received_at: datetime,
    key: IdempotencyKey | None,
    payload_hash: str,
    ingest_id: str,
) -> EventDocument:
    received_at = to_storage_precision(received_at)
    doc: EventDocument = {
        "_id": event_id,
        "userId": payload.user_id,
        "type": payload.type,
        "value": payload.value,
        "timestamp": payload.timestamp or received_at,
        "receivedAt": received_at,
        "bodyHash": payload_hash,
        "ingestId": ingest_id,
        "schemaVersion": SCHEMA_VERSION,
    }
    if payload.metadata is not None:
        doc["metadata"] = payload.metadata
    if key is not None:
        doc["idempotencySource"] = key.source
        doc["idempotencyKey"] = key.value
    return doc


@dataclass(frozen=True)
class EventFilter:
    """Filtros de listagem e de agregação, já validados: tipos, usuário e ``[start, end)``."""

    types: tuple[str, ...] = ()
    user_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    def matches(self, doc: dict[str, Any]) -> bool:
        """O mesmo filtro avaliado em Python (feed ao vivo, armazenamento em memória)."""
        if self.types and doc.get("type") not in self.types:
            return False
        if self.user_id is not None and doc.get("userId") != self.user_id:
            return False
        timestamp = doc.get("timestamp")
        if self.start is not None and (timestamp is None or timestamp < self.start):
            return False
        return not (self.end is not None and (timestamp is None or timestamp >= self.end))

    def within(self, start: datetime | None, end: datetime | None) -> EventFilter:
        """Os mesmos tipos e usuário, noutra janela."""
        return EventFilter(types=self.types, user_id=self.user_id, start=start, end=end)


@dataclass(frozen=True)
class KeysetPosition:
    """Posição de paginação por chave: valor do campo de ordenação e ``_id`` do último item."""

    value: Any
    event_id: ObjectId


def event_to_json(doc: EventDocument | dict[str, Any]) -> dict[str, Any]:
    """Forma pública do evento (REST e WebSocket)."""
    return {
        "id": str(doc["_id"]),
        "userId": doc["userId"],
        "type": doc["type"],
        "value": doc["value"],
        "timestamp": isoformat(doc["timestamp"]),
        "metadata": doc.get("metadata"),
        "receivedAt": isoformat(doc["receivedAt"]),
    }


def parse_event_id(value: str) -> ObjectId | None:
    return ObjectId(value) if ObjectId.is_valid(value) and len(value) == 24 else None
