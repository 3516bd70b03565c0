"""Leitura e escrita das mensagens do protocolo de rede do MongoDB (OP_MSG, OP_QUERY, OP_REPLY).

Só o módulo público ``bson`` que vem com o pymongo é usado para (de)codificar documentos.
Referência: https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass, field
from typing import Any

import bson
from bson.codec_options import CodecOptions, DatetimeConversion
from bson.errors import BSONError

# Códigos de operação (opCode) do cabeçalho.
OP_REPLY = 1
OP_QUERY = 2004
OP_COMPRESSED = 2012
OP_MSG = 2013

# Bits de flag do OP_MSG. Os bits 0-15 são "obrigatórios": um bit desconhecido ali é erro.
FLAG_CHECKSUM_PRESENT = 1 << 0
FLAG_MORE_TO_COME = 1 << 1
FLAG_EXHAUST_ALLOWED = 1 << 16
_KNOWN_REQUIRED_FLAGS = FLAG_CHECKSUM_PRESENT | FLAG_MORE_TO_COME

# Flag do OP_REPLY para falha de consulta (só em OP_QUERY fora de ``$cmd``).
REPLY_FLAG_QUERY_FAILURE = 1 << 1

HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode
HEADER_SIZE = HEADER.size
_INT32 = struct.Struct("<i")
_UINT32 = struct.Struct("<I")
_OP_QUERY_COUNTS = struct.Struct("<ii")  # numberToSkip, numberToReturn
_OP_REPLY_PREFIX = struct.Struct("<iqii")  # responseFlags, cursorID, startingFrom, numberReturned

# Limites anunciados no ``hello`` (os mesmos de um servidor 7.0).
MAX_BSON_OBJECT_SIZE = 16 * 1024 * 1024
MAX_MESSAGE_SIZE_BYTES = 48_000_000
MAX_WRITE_BATCH_SIZE = 100_000

# Documentos chegam com datetimes "ingênuos" em UTC (como o mongomock guarda); na volta,
# o ``bson`` trata datetime sem fuso como UTC e o cliente decide se quer ``tz_aware``.
# ``DATETIME_AUTO`` evita que datas fora do alcance do ``datetime`` derrubem a decodificação.
CODEC: CodecOptions[dict[str, Any]] = CodecOptions(
    document_class=dict,
    tz_aware=False,
    datetime_conversion=DatetimeConversion.DATETIME_AUTO,
)

_request_ids = itertools.count(1)


class ProtocolError(Exception):
    """Mensagem malformada: a conexão não tem como continuar sincronizada."""


class InvalidRequestError(Exception):
    """Mensagem bem enquadrada mas com conteúdo inválido (ex.: BSON ruim): responde com erro.

    ``more_to_come``: o cliente não espera resposta (não se pode responder, ou a conexão
    sai de sincronia).
    """

    def __init__(self, message: str, *, more_to_come: bool = False) -> None:
        super().__init__(message)
        self.more_to_come = more_to_come


@dataclass(frozen=True)
class Header:
    """Cabeçalho padrão de toda mensagem."""

    length: int
    request_id: int
    response_to: int
    op_code: int

    @classmethod
    def parse(cls, data: bytes) -> Header:
        length, request_id, response_to, op_code = HEADER.unpack(data)
        return cls(length, request_id, response_to, op_code)


@dataclass
class MsgRequest:
    """Um OP_MSG decodificado: o comando (corpo + sequências de documentos) e as flags."""

    flags: int
    command: dict[str, Any] = field(default_factory=dict)

    @property
    def more_to_come(self) -> bool:
        """Cliente não espera resposta (escrita com ``w: 0``)."""
        return bool(self.flags & FLAG_MORE_TO_COME)

    @property
    def exhaust_allowed(self) -> bool:
        return bool(self.flags & FLAG_EXHAUST_ALLOWED)


@dataclass
class QueryRequest:
    """Um OP_QUERY legado (hoje só o aperto de mão em ``admin.$cmd`` faz sentido)."""

    flags: int
    full_collection_name: str
    number_to_skip: int
    number_to_return: int
    query: dict[str, Any]

    @property
    def database(self) -> str:
        return self.full_collection_name.partition(".")[0]

    @property
    def is_command(self) -> bool:
        return self.full_collection_name.endswith(".$cmd")

    def command(self) -> dict[str, Any]:
        """O comando propriamente dito (tira o envelope ``$query``, se houver) com ``$db``."""
        inner = self.query.get("$query", self.query)
        command = dict(inner) if isinstance(inner, dict) else {}
        command["$db"] = self.database
        return command


def _read_cstring(data: bytes, offset: int) -> tuple[str, int]:
    """Lê uma string terminada em zero; devolve o texto e a posição seguinte."""
    end = data.find(b"\x00", offset)
    if end < 0:
        raise ProtocolError("cstring sem terminador")
    try:
        return data[offset:end].decode("utf-8"), end + 1
    except UnicodeDecodeError as exc:
        raise ProtocolError("cstring com UTF-8 inválido") from exc


def _decode_document(data: bytes) -> dict[str, Any]:
    try:
        return bson.decode(data, codec_options=CODEC)
    except (BSONError, ValueError, TypeError, OverflowError) as exc:
        raise InvalidRequestError(f"BSON inválido: {exc}") from exc


def parse_op_msg(body: bytes) -> MsgRequest:
    """Decodifica o corpo de um OP_MSG (sem o cabeçalho).

    Seção tipo 0: o documento do comando (exatamente uma). Seção tipo 1: sequência de
    documentos com identificador (o pymongo manda ``documents``/``updates``/``deletes``
    assim), que vira uma lista no comando. Com ``checksumPresent``, os 4 bytes finais são
    um CRC-32C, que é descartado sem validação (o TCP já protege o transporte local).

    O enquadramento externo (tamanho da mensagem) já foi lido: qualquer defeito aqui
    dentro vira ``InvalidRequestError`` (responde com erro e a conexão continua).
    """
    if len(body) < 5:
        raise InvalidRequestError("OP_MSG curto demais")
    (flags,) = _UINT32.unpack_from(body, 0)
    more_to_come = bool(flags & FLAG_MORE_TO_COME)
    unknown_required = flags & 0xFFFF & ~_KNOWN_REQUIRED_FLAGS
    if unknown_required:
        message = f"OP_MSG com flag obrigatória desconhecida: 0x{unknown_required:x}"
        raise InvalidRequestError(message, more_to_come=more_to_come)
    try:
        return _parse_op_msg_sections(body, flags)
    except ProtocolError as exc:
        raise InvalidRequestError(str(exc), more_to_come=more_to_come) from exc
    except InvalidRequestError as exc:
        exc.more_to_come = more_to_come
        raise


def _parse_op_msg_sections(view: bytes, flags: int) -> MsgRequest:
    end = len(view)
    if flags & FLAG_CHECKSUM_PRESENT:
        end -= 4
    offset = 4
    body_document: dict[str, Any] | None = None
    sequences: list[tuple[str, list[dict[str, Any]]]] = []
    while offset < end:
        kind = view[offset]
        offset += 1
        if offset + 4 > end:
            raise ProtocolError("seção do OP_MSG truncada")
        (size,) = _INT32.unpack_from(view, offset)
        if size < 5 or offset + size > end:
            raise ProtocolError("tamanho de seção do OP_MSG inválido")
        if kind == 0:
            if body_document is not None:
                raise ProtocolError("OP_MSG com mais de uma seção de corpo")
            body_document = _decode_document(view[offset : offset + size])
        elif kind == 1:
            identifier, documents_start = _read_cstring(view, offset + 4)
            documents_end = offset + size
            if documents_start > documents_end:
                raise ProtocolError("sequência de documentos truncada")
            try:
                documents = bson.decode_all(view[documents_start:documents_end], codec_options=CODEC)
            except (BSONError, ValueError, TypeError, OverflowError) as exc:
                raise InvalidRequestError(f"BSON inválido na sequência {identifier!r}: {exc}") from exc
            sequences.append((identifier, documents))
        else:
            raise ProtocolError(f"tipo de seção do OP_MSG desconhecido: {kind}")
        offset += size
    if body_document is None:
        raise ProtocolError("OP_MSG sem seção de corpo")
    for identifier, documents in sequences:
        existing = body_document.get(identifier)
        if isinstance(existing, list):
            existing.extend(documents)
        else:
            body_document[identifier] = documents
    return MsgRequest(flags=flags, command=body_document)


def parse_op_query(body: bytes) -> QueryRequest:
    """Decodifica o corpo de um OP_QUERY (sem o cabeçalho); o seletor de campos é ignorado."""
    try:
        return _parse_op_query(body)
    except ProtocolError as exc:
        raise InvalidRequestError(str(exc)) from exc


def _parse_op_query(view: bytes) -> QueryRequest:
    if len(view) < 4:
        raise ProtocolError("OP_QUERY curto demais")
    (flags,) = _INT32.unpack_from(view, 0)
    full_collection_name, offset = _read_cstring(view, 4)
    if offset + 8 + 5 > len(view):
        raise ProtocolError("OP_QUERY truncado")
    number_to_skip, number_to_return = _OP_QUERY_COUNTS.unpack_from(view, offset)
    offset += 8
    (size,) = _INT32.unpack_from(view, offset)
    if size < 5 or offset + size > len(view):
        raise ProtocolError("documento do OP_QUERY com tamanho inválido")
    query = _decode_document(view[offset : offset + size])
    return QueryRequest(flags, full_collection_name, number_to_skip, number_to_return, query)


def next_request_id() -> int:
    """Identificador das mensagens que o servidor envia (cabe num int32 positivo)."""
    return next(_request_ids) & 0x7FFFFFFF


def encode_op_msg(response_to: int, payload: bytes, flags: int = 0) -> bytes:
    """Resposta OP_MSG com uma única seção tipo 0 (o pymongo não aceita mais que isso)."""
    length = HEADER_SIZE + 4 + 1 + len(payload)
    return b"".join(
        (
            HEADER.pack(length, next_request_id(), response_to, OP_MSG),
            _UINT32.pack(flags),
            b"\x00",
            payload,
        )
    )


def encode_op_reply(response_to: int, payloads: list[bytes], response_flags: int = 0) -> bytes:
    """Resposta OP_REPLY (só para OP_QUERY): cursor 0, todos os documentos num lote."""
    body = b"".join(payloads)
    length = HEADER_SIZE + _OP_REPLY_PREFIX.size + len(body)
    return b"".join(
        (
            HEADER.pack(length, next_request_id(), response_to, OP_REPLY),
            _OP_REPLY_PREFIX.pack(response_flags, 0, 0, len(payloads)),
            body,
        )
    )


def encode_document(document: dict[str, Any]) -> bytes:
    """Codifica um documento de resposta com as mesmas opções da decodificação."""
    return bson.encode(document, codec_options=CODEC)
