"""Execução dos comandos do MongoDB sobre um único ``mongomock.MongoClient``.

Só a API pública do mongomock é usada (métodos de ``MongoClient``/``Database``/
``Collection``). Os comandos rodam um de cada vez (``CommandExecutor.lock``): o
mongomock não aguenta escritores concorrentes.

Datas: o mongomock guarda ``datetime`` "ingênuo" em UTC com precisão de milissegundo;
os documentos chegam assim (``protocol.CODEC``) e voltam assim — no fio, o BSON não tem
fuso, e o cliente criado com ``tz_aware=True`` recebe datetimes UTC com fuso.
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import mongomock
from bson import Int64, ObjectId
from bson.errors import BSONError
from bson.raw_bson import RawBSONDocument
from bson.regex import Regex
from pymongo.errors import CollectionInvalid, DuplicateKeyError, InvalidName, OperationFailure, PyMongoError

from devtools.mongowire.failpoints import FAIL_COMMAND, FailCommandPoint, FailPointError, is_retryable_write
from devtools.mongowire.protocol import (
    MAX_BSON_OBJECT_SIZE,
    MAX_MESSAGE_SIZE_BYTES,
    MAX_WRITE_BATCH_SIZE,
    encode_document,
)

logger = logging.getLogger("devtools.mongowire")

SERVER_VERSION = "7.0.0"
MAX_WIRE_VERSION = 21  # MongoDB 7.0
LOGICAL_SESSION_TIMEOUT_MINUTES = 30
# Constante como num servidor de verdade que não trocou de primário: um reinício na
# mesma porta não parece ao pymongo um primário "mais antigo" (electionId menor).
ELECTION_ID = ObjectId("7fffffff0000000000000001")
DEFAULT_FIRST_BATCH = 101
CURSOR_IDLE_TIMEOUT_S = 600.0
# Respostas de escritas repetíveis guardadas por (lsid, txnNumber): a nova tentativa do
# driver recebe a mesma resposta sem executar de novo, como no servidor de verdade.
RETRYABLE_WRITE_MEMORY = 10_000
HANDSHAKE_COMMANDS = frozenset({"hello", "isMaster", "ismaster"})

# Campos genéricos que qualquer comando pode trazer e que o mongowire ignora.
IGNORED_FIELDS = frozenset(
    {
        "$db",
        "lsid",
        "txnNumber",
        "$clusterTime",
        "$readPreference",
        "writeConcern",
        "readConcern",
        "maxTimeMS",
        "comment",
        "apiVersion",
        "apiStrict",
        "apiDeprecationErrors",
        "bypassDocumentValidation",
    }
)

CODE_NAMES: dict[int, str] = {
    1: "InternalError",
    2: "BadValue",
    6: "HostUnreachable",
    7: "HostNotFound",
    9: "FailedToParse",
    13: "Unauthorized",
    14: "TypeMismatch",
    20: "IllegalOperation",
    26: "NamespaceNotFound",
    27: "IndexNotFound",
    43: "CursorNotFound",
    48: "NamespaceExists",
    59: "CommandNotFound",
    64: "WriteConcernFailed",
    67: "CannotCreateIndex",
    72: "InvalidOptions",
    73: "InvalidNamespace",
    85: "IndexOptionsConflict",
    86: "IndexKeySpecsConflict",
    89: "NetworkTimeout",
    91: "ShutdownInProgress",
    100: "UnsatisfiableWriteConcern",
    115: "CommandNotSupported",
    134: "ReadConcernMajorityNotAvailableYet",
    189: "PrimarySteppedDown",
    238: "NotImplemented",
    262: "ExceededTimeLimit",
    352: "UnsupportedOpQueryCommand",
    9001: "SocketException",
    10107: "NotWritablePrimary",
    10334: "BSONObjectTooLarge",
    11000: "DuplicateKey",
    11600: "InterruptedAtShutdown",
    11602: "InterruptedDueToReplStateChange",
    13435: "NotPrimaryNoSecondaryOk",
    13436: "NotPrimaryOrSecondary",
}

# Opções de índice que o próprio mongomock entende; as demais ficam como metadado.
_MONGOMOCK_INDEX_OPTIONS = ("unique", "sparse", "expireAfterSeconds", "partialFilterExpression")
_INVALID_DB_CHARS = frozenset('/\\. "$\x00')

Document = dict[str, Any]


class CommandError(Exception):
    """Erro com código do MongoDB, devolvido ao cliente como ``ok: 0``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_reply(code: int, message: str) -> Document:
    """Documento de erro no formato do servidor."""
    return {"ok": 0.0, "errmsg": message, "code": code, "codeName": CODE_NAMES.get(code, "UnknownError")}


@dataclass(frozen=True)
class ServerIdentity:
    """O que o ``hello`` anuncia: endereço, conjunto de réplicas e a versão da topologia."""

    address: str
    replica_set: str | None
    process_id: ObjectId = field(default_factory=ObjectId)
    started_at: float = field(default_factory=time.monotonic)


@dataclass
class RequestContext:
    """A conexão de onde veio o comando (``app_name``: o ``appname`` do aperto de mão)."""

    connection_id: int
    peer: str
    app_name: str | None = None


@dataclass
class _ServerCursor:
    cursor_id: int
    namespace: str
    documents: list[Any]
    position: int = 0
    last_used: float = field(default_factory=time.monotonic)


Handler = Callable[[Document, RequestContext], Document]


_MISSING: Any = object()


class CommandExecutor:
    """Interpreta os comandos sobre um ``mongomock.MongoClient`` e guarda os cursores."""

    def __init__(self) -> None:
        self.backend: Any = mongomock.MongoClient(tz_aware=False)
        self.lock = threading.Lock()
        self.identity = ServerIdentity(address="127.0.0.1:27017", replica_set=None)
        self.connections_current = 0
        self.connections_total = 0
        self._cursors: dict[int, _ServerCursor] = {}
        self._cursor_ids = itertools.count(1_000_001)
        # Opções de índice que o mongomock descarta: (banco, coleção) -> nome -> opções.
        self._index_extras: dict[tuple[str, str], dict[str, Document]] = {}
        # Coleções já criadas explicitamente: o mongomock "esquece" uma coleção que
        # ficou vazia e sem índices; o servidor de verdade não.
        self._created: set[tuple[str, str]] = set()
        self.fail_command = FailCommandPoint()
        self._retryable_writes: OrderedDict[tuple[bytes, int], Document] = OrderedDict()
        self._handlers: dict[str, Handler] = {
            "ping": self._cmd_ok,
            "hello": self._cmd_hello,
            "isMaster": self._cmd_hello,
            "ismaster": self._cmd_hello,
            "buildInfo": self._cmd_build_info,
            "buildinfo": self._cmd_build_info,
            "endSessions": self._cmd_ok,
            "killSessions": self._cmd_ok,
            "killAllSessions": self._cmd_ok,
            "refreshSessions": self._cmd_ok,
            "serverStatus": self._cmd_server_status,
            "connectionStatus": self._cmd_connection_status,
            "whatsmyuri": self._cmd_whatsmyuri,
            "getCmdLineOpts": self._cmd_get_cmd_line_opts,
            "listCommands": self._cmd_list_commands,
            "commitTransaction": self._cmd_transaction,
            "abortTransaction": self._cmd_transaction,
            "listDatabases": self._cmd_list_databases,
            "dropDatabase": self._cmd_drop_database,
            "listCollections": self._cmd_list_collections,
            "create": self._cmd_create,
            "drop": self._cmd_drop,
            "renameCollection": self._cmd_rename_collection,
            "insert": self._cmd_insert,
            "update": self._cmd_update,
            "delete": self._cmd_delete,
            "findAndModify": self._cmd_find_and_modify,
            "findandmodify": self._cmd_find_and_modify,
            "find": self._cmd_find,
            "getMore": self._cmd_get_more,
            "killCursors": self._cmd_kill_cursors,
            "aggregate": self._cmd_aggregate,
            "count": self._cmd_count,
            "distinct": self._cmd_distinct,
            "createIndexes": self._cmd_create_indexes,
            "listIndexes": self._cmd_list_indexes,
            "dropIndexes": self._cmd_drop_indexes,
            "deleteIndexes": self._cmd_drop_indexes,
            "configureFailPoint": self._cmd_configure_fail_point,
        }

    # ------------------------------------------------------------------ despacho

    def command_names(self) -> list[str]:
        return sorted(self._handlers)

    def execute(self, command: Document, context: RequestContext) -> Document:
        """Executa um comando e devolve a resposta; nunca levanta exceção."""
        if not command:
            return error_reply(9, "comando vazio")
        name = next(iter(command))
        handler = self._handlers.get(name)
        if handler is None:
            return error_reply(59, f"no such command: '{name}'")
        if "startTransaction" in command or "autocommit" in command:
            return error_reply(20, "o mongowire não suporta transações multi-documento")
        database = command.get("$db")
        if not isinstance(database, str):
            return error_reply(9, f"comando '{name}' sem o campo $db")
        if name in HANDSHAKE_COMMANDS:
            self._remember_app_name(command, context)
        retry_key = _retryable_write_key(command)
        try:
            _validate_database_name(database)
            with self.lock:
                if retry_key is not None and retry_key in self._retryable_writes:
                    return copy.deepcopy(self._retryable_writes[retry_key])
                reply = handler(command, context)
                reply["ok"] = 1.0
                if retry_key is not None and not reply.get("writeErrors"):
                    self._remember_retryable_write(retry_key, reply)
        except Exception as exc:
            code, message = self._classify(exc, f"{database}.{command.get(name)}", name)
            return error_reply(code, message)
        return reply

    @staticmethod
    def _remember_app_name(command: Document, context: RequestContext) -> None:
        metadata = command.get("client")
        if isinstance(metadata, dict):
            application = metadata.get("application")
            if isinstance(application, dict) and isinstance(application.get("name"), str):
                context.app_name = application["name"]

    def _remember_retryable_write(self, key: tuple[bytes, int], reply: Document) -> None:
        self._retryable_writes[key] = copy.deepcopy(reply)
        while len(self._retryable_writes) > RETRYABLE_WRITE_MEMORY:
            self._retryable_writes.popitem(last=False)

    def _classify(self, exc: Exception, namespace: str, operation: str) -> tuple[int, str]:
        """Código e mensagem do MongoDB para uma exceção (do mongomock ou nossa).

        O mongomock reexporta as exceções do pymongo quando ele está instalado.
        """
        if isinstance(exc, CommandError):
            return exc.code, exc.message
        if isinstance(exc, DuplicateKeyError):
            return 11000, f"E11000 duplicate key error collection: {namespace} ({exc})"
        if isinstance(exc, OperationFailure):
            return (exc.code or 2), str(exc)
        if isinstance(exc, InvalidName):
            return 73, str(exc)
        if isinstance(exc, CollectionInvalid):
            return 48, str(exc)
        if isinstance(exc, PyMongoError | BSONError):
            return 2, str(exc)
        if isinstance(exc, NotImplementedError):
            return 238, f"não suportado pelo mongomock: {exc}"
        logger.error("erro inesperado em %s (%s)", operation, namespace, exc_info=exc)
        return 1, f"{type(exc).__name__}: {exc}"

    # ------------------------------------------------------------------ utilitários

    def _database(self, command: Document) -> Any:
        return self.backend[command["$db"]]

    def _collection_name(self, command: Document, key: str) -> str:
        name = command.get(key)
        if not isinstance(name, str) or not name:
            raise CommandError(73, f"o nome da coleção em '{key}' deve ser um texto não vazio")
        if "$" in name or "\x00" in name or name.startswith("."):
            raise CommandError(73, f"nome de coleção inválido: {name!r}")
        return name

    def _collection(self, command: Document, key: str) -> tuple[Any, str]:
        name = self._collection_name(command, key)
        return self._database(command)[name], f"{command['$db']}.{name}"

    def _exists(self, database: str, name: str) -> bool:
        return name in self.backend[database].list_collection_names()

    def _ensure_created(self, database: str, name: str) -> None:
        """Cria a coleção (como o servidor faz na primeira escrita) para que ela não suma
        do ``listCollections`` ao ficar vazia."""
        key = (database, name)
        if key in self._created:
            return
        db = self.backend[database]
        if name not in db.list_collection_names():
            db.create_collection(name)
        self._created.add(key)

    def _forget(self, database: str, name: str | None = None) -> None:
        """Esquece metadados de uma coleção (ou do banco inteiro) que deixou de existir."""

        def gone(key: tuple[str, str]) -> bool:
            return key[0] == database and (name is None or key[1] == name)

        for key in [k for k in self._index_extras if gone(k)]:
            del self._index_extras[key]
        self._created = {k for k in self._created if not gone(k)}

    @staticmethod
    def _reject(command: Document, fields: Iterable[str], what: str) -> None:
        for name in fields:
            value = command.get(name)
            if value is not None and value != {} and value != []:
                raise CommandError(238, f"{what}: a opção '{name}' não é suportada pelo mongowire")

    # ------------------------------------------------------------------ cursores

    def _take_batch(self, documents: list[Any], start: int, limit: int | None) -> tuple[list[RawBSONDocument], int]:
        """Codifica documentos a partir de ``start`` até ``limit`` itens ou ~16 MiB."""
        batch: list[RawBSONDocument] = []
        total = 0
        position = start
        while position < len(documents) and (limit is None or len(batch) < limit):
            raw = encode_document(documents[position])
            if batch and total + len(raw) > MAX_BSON_OBJECT_SIZE:
                break
            batch.append(RawBSONDocument(raw))
            total += len(raw)
            position += 1
        return batch, position

    def _purge_idle_cursors(self) -> None:
        deadline = time.monotonic() - CURSOR_IDLE_TIMEOUT_S
        for cursor_id in [c.cursor_id for c in self._cursors.values() if c.last_used < deadline]:
            del self._cursors[cursor_id]

    def _open_cursor(
        self, namespace: str, documents: list[Any], batch_size: int | None, single_batch: bool = False
    ) -> Document:
        """Primeiro lote e, se sobrar algo, um cursor no servidor (id 0 = esgotado)."""
        first_limit = DEFAULT_FIRST_BATCH if batch_size is None else batch_size
        batch, position = self._take_batch(documents, 0, first_limit)
        cursor_id = 0
        if not single_batch and position < len(documents):
            self._purge_idle_cursors()
            cursor_id = next(self._cursor_ids)
            self._cursors[cursor_id] = _ServerCursor(cursor_id, namespace, documents, position)
        return {"cursor": {"firstBatch": batch, "id": Int64(cursor_id), "ns": namespace}}

    @staticmethod
    def _batch_size(value: Any, field_name: str = "batchSize") -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise CommandError(2, f"{field_name} deve ser um número não negativo")
        return int(value)

    # ------------------------------------------------------------------ aperto de mão e diagnóstico

    def _cmd_ok(self, command: Document, context: RequestContext) -> Document:
        return {}

    def _cmd_transaction(self, command: Document, context: RequestContext) -> Document:
        raise CommandError(20, "o mongowire não suporta transações multi-documento")

    def _cmd_configure_fail_point(self, command: Document, context: RequestContext) -> Document:
        if command["$db"] != "admin":
            raise CommandError(13, "configureFailPoint may only be run against the admin database.")
        name = command.get("configureFailPoint")
        if name != FAIL_COMMAND:
            raise CommandError(2, f"o mongowire só implementa o fail point '{FAIL_COMMAND}' (pedido: {name!r})")
        try:
            count = self.fail_command.configure(command.get("mode"), command.get("data"))
        except FailPointError as exc:
            raise CommandError(2, str(exc)) from exc
        return {"count": count}

    def _cmd_hello(self, command: Document, context: RequestContext) -> Document:
        identity = self.identity
        reply: Document = {}
        if next(iter(command)) == "hello":
            reply["isWritablePrimary"] = True
        else:
            reply["ismaster"] = True
            if command.get("helloOk"):
                reply["helloOk"] = True
        reply["topologyVersion"] = {"processId": identity.process_id, "counter": Int64(0)}
        if identity.replica_set is not None:
            reply.update(
                {
                    "hosts": [identity.address],
                    "setName": identity.replica_set,
                    "setVersion": 1,
                    "secondary": False,
                    "primary": identity.address,
                    "me": identity.address,
                    "electionId": ELECTION_ID,
                }
            )
        reply.update(
            {
                "maxBsonObjectSize": MAX_BSON_OBJECT_SIZE,
                "maxMessageSizeBytes": MAX_MESSAGE_SIZE_BYTES,
                "maxWriteBatchSize": MAX_WRITE_BATCH_SIZE,
                "localTime": datetime.now(UTC),
                "logicalSessionTimeoutMinutes": LOGICAL_SESSION_TIMEOUT_MINUTES,
                "connectionId": context.connection_id,
                "minWireVersion": 0,
                "maxWireVersion": MAX_WIRE_VERSION,
                "readOnly": False,
            }
        )
        return reply

    def _cmd_build_info(self, command: Document, context: RequestContext) -> Document:
        return {
            "version": SERVER_VERSION,
            "gitVersion": "mongowire",
            "versionArray": [7, 0, 0, 0],
            "bits": 64,
            "debug": False,
            "maxBsonObjectSize": MAX_BSON_OBJECT_SIZE,
            "storageEngines": ["mongomock"],
            "javascriptEngine": "none",
            "modules": [],
        }

    def _cmd_server_status(self, command: Document, context: RequestContext) -> Document:
        uptime = time.monotonic() - self.identity.started_at
        return {
            "host": self.identity.address,
            "version": SERVER_VERSION,
            "process": "mongowire",
            "pid": Int64(os.getpid()),
            "uptime": float(int(uptime)),
            "uptimeMillis": Int64(int(uptime * 1000)),
            "localTime": datetime.now(UTC),
            "connections": {
                "current": self.connections_current,
                "available": 10_000,
                "totalCreated": self.connections_total,
            },
            "storageEngine": {"name": "mongomock"},
            "metrics": {"cursor": {"open": {"total": Int64(len(self._cursors))}}},
        }

    def _cmd_connection_status(self, command: Document, context: RequestContext) -> Document:
        return {"authInfo": {"authenticatedUsers": [], "authenticatedUserRoles": []}}

    def _cmd_whatsmyuri(self, command: Document, context: RequestContext) -> Document:
        return {"you": context.peer}

    def _cmd_get_cmd_line_opts(self, command: Document, context: RequestContext) -> Document:
        return {"argv": ["mongowire"], "parsed": {}}

    def _cmd_list_commands(self, command: Document, context: RequestContext) -> Document:
        return {"commands": {name: {"help": ""} for name in self.command_names()}}

    # ------------------------------------------------------------------ bancos e coleções

    def _cmd_list_databases(self, command: Document, context: RequestContext) -> Document:
        query = command.get("filter") or {}
        name_only = bool(command.get("nameOnly"))
        databases: list[Document] = []
        for name in sorted(self.backend.list_database_names()):
            entry: Document = {"name": name} if name_only else {"name": name, "sizeOnDisk": 0, "empty": False}
            if _matches(entry, query):
                databases.append(entry)
        reply: Document = {"databases": databases}
        if not name_only:
            reply.update(totalSize=0, totalSizeMb=0)
        return reply

    def _cmd_drop_database(self, command: Document, context: RequestContext) -> Document:
        database = command["$db"]
        self.backend.drop_database(database)
        self._forget(database)
        return {"dropped": database}

    def _cmd_list_collections(self, command: Document, context: RequestContext) -> Document:
        database = command["$db"]
        query = command.get("filter") or {}
        name_only = bool(command.get("nameOnly"))
        entries: list[Document] = []
        for name in sorted(self.backend[database].list_collection_names()):
            entry: Document = {
                "name": name,
                "type": "collection",
                "options": {},
                "info": {"readOnly": False},
                "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
            }
            if _matches(entry, query):
                entries.append({"name": name, "type": "collection"} if name_only else entry)
        cursor_options = command.get("cursor") or {}
        batch_size = self._batch_size(cursor_options.get("batchSize"))
        return self._open_cursor(f"{database}.$cmd.listCollections", entries, batch_size)

    def _cmd_create(self, command: Document, context: RequestContext) -> Document:
        database = command["$db"]
        name = self._collection_name(command, "create")
        options = sorted(k for k in command if k not in IGNORED_FIELDS and k != "create")
        if options:
            raise CommandError(238, f"create: opções não suportadas pelo mongowire: {', '.join(options)}")
        if self._exists(database, name):
            raise CommandError(48, f"Collection {database}.{name} already exists.")
        self.backend[database].create_collection(name)
        self._created.add((database, name))
        return {}

    def _cmd_drop(self, command: Document, context: RequestContext) -> Document:
        database = command["$db"]
        name = self._collection_name(command, "drop")
        if not self._exists(database, name):
            self._forget(database, name)
            raise CommandError(26, "ns not found")
        collection = self.backend[database][name]
        indexes_was = len(collection.index_information())
        collection.drop()
        self._forget(database, name)
        return {"ns": f"{database}.{name}", "nIndexesWas": indexes_was}

    def _cmd_rename_collection(self, command: Document, context: RequestContext) -> Document:
        if command["$db"] != "admin":
            raise CommandError(13, "renameCollection may only be run against the admin database.")
        source = command.get("renameCollection")
        target = command.get("to")
        if not isinstance(source, str) or not isinstance(target, str):
            raise CommandError(2, "renameCollection: 'renameCollection' e 'to' devem ser namespaces")
        source_db, _, source_name = source.partition(".")
        target_db, _, target_name = target.partition(".")
        if not source_name or not target_name:
            raise CommandError(73, f"namespace inválido: {source!r} -> {target!r}")
        _validate_database_name(source_db)
        _validate_database_name(target_db)
        if source_db != target_db:
            raise CommandError(238, "renameCollection entre bancos diferentes não é suportado pelo mongowire")
        if source == target:
            raise CommandError(20, "Can't rename a collection to itself")
        if not self._exists(source_db, source_name):
            raise CommandError(26, f"Source collection {source} does not exist")
        drop_target = bool(command.get("dropTarget"))
        if self._exists(target_db, target_name) and not drop_target:
            raise CommandError(48, "target namespace exists")
        extras = self._index_extras.pop((source_db, source_name), None)
        self.backend[source_db][source_name].rename(target_name, dropTarget=drop_target)
        self._forget(source_db, source_name)
        self._forget(target_db, target_name)
        if extras:
            self._index_extras[(target_db, target_name)] = extras
        return {}

    # ------------------------------------------------------------------ escritas

    def _write_error(self, index: int, exc: Exception, namespace: str, operation: str) -> Document:
        code, message = self._classify(exc, namespace, operation)
        return {"index": index, "code": code, "errmsg": message}

    def _cmd_insert(self, command: Document, context: RequestContext) -> Document:
        collection, namespace = self._collection(command, "insert")
        documents = command.get("documents")
        if not isinstance(documents, list):
            raise CommandError(2, "insert: 'documents' deve ser uma lista")
        ordered = bool(command.get("ordered", True))
        self._ensure_created(command["$db"], collection.name)
        inserted = 0
        errors: list[Document] = []
        for index, document in enumerate(documents):
            try:
                if not isinstance(document, dict):
                    raise CommandError(2, "insert: cada documento deve ser um objeto")
                collection.insert_one(document)
                inserted += 1
            except Exception as exc:
                errors.append(self._write_error(index, exc, namespace, "insert"))
                if ordered:
                    break
        reply: Document = {"n": inserted}
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _cmd_update(self, command: Document, context: RequestContext) -> Document:
        collection, namespace = self._collection(command, "update")
        statements = command.get("updates")
        if not isinstance(statements, list):
            raise CommandError(2, "update: 'updates' deve ser uma lista")
        ordered = bool(command.get("ordered", True))
        self._reject(command, ("let",), "update")
        matched = modified = 0
        upserted: list[Document] = []
        errors: list[Document] = []
        for index, statement in enumerate(statements):
            try:
                result = self._apply_update(collection, command["$db"], statement)
                raw = result.raw_result
                matched += int(raw.get("n", 0))
                modified += int(raw.get("nModified", 0))
                if result.upserted_id is not None:
                    upserted.append({"index": index, "_id": result.upserted_id})
            except Exception as exc:
                errors.append(self._write_error(index, exc, namespace, "update"))
                if ordered:
                    break
        reply: Document = {"n": matched, "nModified": modified}
        if upserted:
            reply["upserted"] = upserted
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _apply_update(self, collection: Any, database: str, statement: Any) -> Any:
        if not isinstance(statement, dict):
            raise CommandError(2, "update: cada instrução deve ser um objeto")
        self._reject(statement, ("arrayFilters", "collation", "c"), "update")
        query = statement.get("q") or {}
        update = statement.get("u")
        upsert = bool(statement.get("upsert"))
        multi = bool(statement.get("multi"))
        if not isinstance(query, dict):
            raise CommandError(2, "update: 'q' deve ser um objeto")
        if upsert:
            self._ensure_created(database, collection.name)
        if isinstance(update, list):
            method = collection.update_many if multi else collection.update_one
            return method(query, update, upsert=upsert)
        if not isinstance(update, dict):
            raise CommandError(9, "update: 'u' deve ser um documento de atualização ou uma pipeline")
        if _is_operator_update(update):
            method = collection.update_many if multi else collection.update_one
            return method(query, update, upsert=upsert)
        if multi:
            raise CommandError(9, "multi update is not supported for replacement-style update")
        return collection.replace_one(query, update, upsert=upsert)

    def _cmd_delete(self, command: Document, context: RequestContext) -> Document:
        collection, namespace = self._collection(command, "delete")
        statements = command.get("deletes")
        if not isinstance(statements, list):
            raise CommandError(2, "delete: 'deletes' deve ser uma lista")
        ordered = bool(command.get("ordered", True))
        self._reject(command, ("let",), "delete")
        deleted = 0
        errors: list[Document] = []
        for index, statement in enumerate(statements):
            try:
                if not isinstance(statement, dict) or not isinstance(statement.get("q", {}), dict):
                    raise CommandError(2, "delete: cada instrução deve ter um filtro 'q'")
                self._reject(statement, ("collation",), "delete")
                limit = statement.get("limit", 0)
                if limit not in (0, 1):
                    raise CommandError(9, "delete: 'limit' deve ser 0 (todos) ou 1")
                query = statement.get("q") or {}
                result = collection.delete_one(query) if limit == 1 else collection.delete_many(query)
                deleted += int(result.deleted_count)
            except Exception as exc:
                errors.append(self._write_error(index, exc, namespace, "delete"))
                if ordered:
                    break
        reply: Document = {"n": deleted}
        if errors:
            reply["writeErrors"] = errors
        return reply

    def _cmd_find_and_modify(self, command: Document, context: RequestContext) -> Document:
        collection, _ = self._collection(command, next(iter(command)))
        self._reject(command, ("arrayFilters", "collation", "let"), "findAndModify")
        query = command.get("query") or {}
        if not isinstance(query, dict):
            raise CommandError(2, "findAndModify: 'query' deve ser um objeto")
        sort = _sort_list(command.get("sort"))
        fields = command.get("fields") or None
        remove = bool(command.get("remove"))
        update = command.get("update")
        new = bool(command.get("new"))
        upsert = bool(command.get("upsert"))
        if remove and (update is not None or new or upsert):
            raise CommandError(9, "findAndModify: 'remove' não combina com 'update', 'new' ou 'upsert'")
        if not remove and not isinstance(update, dict | list):
            raise CommandError(9, "Either an update or remove=true must be specified")

        existing = collection.find_one(query, sort=sort)
        if remove:
            if existing is None:
                return {"lastErrorObject": {"n": 0}, "value": None}
            selector = {"_id": existing["_id"]}
            value = collection.find_one(selector, projection=fields)
            collection.delete_one(selector)
            return {"lastErrorObject": {"n": 1}, "value": value}

        replacement = isinstance(update, dict) and not _is_operator_update(update)
        if existing is not None:
            # Mesmo filtro (para o operador posicional) restrito ao documento escolhido pela ordenação.
            selector = {**query, "_id": existing["_id"]}
            before = None if new else collection.find_one({"_id": existing["_id"]}, projection=fields)
            if replacement:
                collection.replace_one(selector, update)
            else:
                collection.update_one(selector, update)
            value = collection.find_one({"_id": existing["_id"]}, projection=fields) if new else before
            return {"lastErrorObject": {"n": 1, "updatedExisting": True}, "value": value}
        if not upsert:
            return {"lastErrorObject": {"n": 0, "updatedExisting": False}, "value": None}
        self._ensure_created(command["$db"], collection.name)
        if replacement:
            result = collection.replace_one(query, update, upsert=True)
        else:
            result = collection.update_one(query, update, upsert=True)
        upserted_id = result.upserted_id
        value = collection.find_one({"_id": upserted_id}, projection=fields) if new else None
        return {"lastErrorObject": {"n": 1, "updatedExisting": False, "upserted": upserted_id}, "value": value}

    # ------------------------------------------------------------------ leituras

    def _cmd_find(self, command: Document, context: RequestContext) -> Document:
        collection, namespace = self._collection(command, "find")
        self._reject(
            command, ("tailable", "awaitData", "min", "max", "returnKey", "showRecordId", "let", "collation"), "find"
        )
        query = command.get("filter") or {}
        if not isinstance(query, dict):
            raise CommandError(2, "find: 'filter' deve ser um objeto")
        projection = command.get("projection") or None
        skip = command.get("skip", 0) or 0
        limit = command.get("limit", 0) or 0
        if not isinstance(skip, int) or skip < 0:
            raise CommandError(2, "find: 'skip' deve ser um inteiro não negativo")
        if not isinstance(limit, int):
            raise CommandError(2, "find: 'limit' deve ser um inteiro")
        single_batch = bool(command.get("singleBatch")) or limit < 0
        batch_size = self._batch_size(command.get("batchSize"))
        cursor = collection.find(query, projection, skip=skip, limit=abs(limit), sort=_sort_list(command.get("sort")))
        documents = list(cursor)
        return self._open_cursor(namespace, documents, batch_size, single_batch)

    def _cmd_get_more(self, command: Document, context: RequestContext) -> Document:
        cursor_id = command.get("getMore")
        if isinstance(cursor_id, bool) or not isinstance(cursor_id, int):
            raise CommandError(14, "getMore: o id do cursor deve ser um int64")
        name = self._collection_name(command, "collection")
        namespace = f"{command['$db']}.{name}"
        cursor = self._cursors.get(int(cursor_id))
        if cursor is None:
            raise CommandError(43, f"cursor id {cursor_id} not found")
        if cursor.namespace != namespace:
            raise CommandError(
                13, f"Requested getMore on namespace '{namespace}', but cursor belongs to '{cursor.namespace}'"
            )
        batch, cursor.position = self._take_batch(
            cursor.documents, cursor.position, self._batch_size(command.get("batchSize")) or None
        )
        cursor.last_used = time.monotonic()
        next_id = cursor.cursor_id
        if cursor.position >= len(cursor.documents):
            del self._cursors[cursor.cursor_id]
            next_id = 0
        return {"cursor": {"nextBatch": batch, "id": Int64(next_id), "ns": namespace}}

    def _cmd_kill_cursors(self, command: Document, context: RequestContext) -> Document:
        self._collection_name(command, "killCursors")
        ids = command.get("cursors")
        if not isinstance(ids, list):
            raise CommandError(2, "killCursors: 'cursors' deve ser uma lista")
        killed: list[Int64] = []
        not_found: list[Int64] = []
        for cursor_id in ids:
            if self._cursors.pop(int(cursor_id), None) is None:
                not_found.append(Int64(cursor_id))
            else:
                killed.append(Int64(cursor_id))
        return {"cursorsKilled": killed, "cursorsNotFound": not_found, "cursorsAlive": [], "cursorsUnknown": []}

    def _cmd_aggregate(self, command: Document, context: RequestContext) -> Document:
        if not isinstance(command.get("aggregate"), str):
            raise CommandError(238, "aggregate no nível do banco (aggregate: 1) não é suportado pelo mongowire")
        collection, namespace = self._collection(command, "aggregate")
        self._reject(command, ("explain", "let", "collation"), "aggregate")
        pipeline = command.get("pipeline")
        if not isinstance(pipeline, list) or not all(isinstance(stage, dict) for stage in pipeline):
            raise CommandError(14, "aggregate: 'pipeline' deve ser uma lista de estágios")
        for stage in pipeline:
            if "$merge" in stage or "$changeStream" in stage:
                raise CommandError(238, f"aggregate: o estágio {next(iter(stage))} não é suportado pelo mongowire")
        cursor_options = command.get("cursor")
        if not isinstance(cursor_options, dict):
            raise CommandError(9, "The 'cursor' option is required, except for aggregate with the explain argument")
        documents = list(collection.aggregate(pipeline))
        return self._open_cursor(namespace, documents, self._batch_size(cursor_options.get("batchSize")))

    def _cmd_count(self, command: Document, context: RequestContext) -> Document:
        collection, _ = self._collection(command, "count")
        self._reject(command, ("collation",), "count")
        query = command.get("query") or {}
        options: Document = {}
        skip = command.get("skip") or 0
        limit = command.get("limit") or 0
        if skip:
            options["skip"] = int(skip)
        if limit:
            options["limit"] = abs(int(limit))
        return {"n": int(collection.count_documents(query, **options))}

    def _cmd_distinct(self, command: Document, context: RequestContext) -> Document:
        collection, _ = self._collection(command, "distinct")
        self._reject(command, ("collation",), "distinct")
        key = command.get("key")
        if not isinstance(key, str) or not key:
            raise CommandError(14, "distinct: 'key' deve ser um texto")
        query = command.get("query") or None
        return {"values": list(collection.distinct(key, query))}

    # ------------------------------------------------------------------ índices

    def _index_spec(self, collection: Any, name: str, extras: Document) -> Document:
        info = dict(collection.index_information().get(name) or {})
        info.pop("v", None)
        info.update(extras)
        return info

    def _cmd_create_indexes(self, command: Document, context: RequestContext) -> Document:
        database = command["$db"]
        collection, _ = self._collection(command, "createIndexes")
        indexes = command.get("indexes")
        if not isinstance(indexes, list) or not indexes:
            raise CommandError(2, "createIndexes: 'indexes' deve ser uma lista não vazia")
        created_automatically = not self._exists(database, collection.name)
        self._ensure_created(database, collection.name)
        before = len(collection.index_information())
        extras_registry = self._index_extras.setdefault((database, collection.name), {})
        changed = False
        for spec in indexes:
            if not isinstance(spec, dict):
                raise CommandError(2, "createIndexes: cada índice deve ser um objeto")
            key = spec.get("key")
            if not isinstance(key, dict) or not key:
                raise CommandError(67, "createIndexes: 'key' deve ser um objeto não vazio")
            key_list = list(key.items())
            name = spec.get("name") or "_".join(f"{field_name}_{direction}" for field_name, direction in key_list)
            if not isinstance(name, str):
                raise CommandError(2, "createIndexes: 'name' deve ser um texto")
            options = {k: spec[k] for k in _MONGOMOCK_INDEX_OPTIONS if spec.get(k) not in (None, False)}
            extras = {k: v for k, v in spec.items() if k not in {"key", "name", "v", "ns", *_MONGOMOCK_INDEX_OPTIONS}}
            wanted = {"key": key_list, **options, **extras}
            existing = collection.index_information().get(name)
            if existing is not None:
                current = self._index_spec(collection, name, extras_registry.get(name, {}))
                if current == wanted or (name == "_id_" and key_list == [("_id", 1)]):
                    continue
                if current.get("key") != key_list:
                    raise CommandError(86, f"An existing index has the same name as the requested index: {name}")
                raise CommandError(85, f"Index with name: {name} already exists with different options")
            collection.create_index(key_list, name=name, **options)
            if extras:
                extras_registry[name] = extras
            changed = True
        reply: Document = {
            "numIndexesBefore": before,
            "numIndexesAfter": len(collection.index_information()),
            "createdCollectionAutomatically": created_automatically,
        }
        if not changed:
            reply["note"] = "all indexes already exist"
        return reply

    def _cmd_list_indexes(self, command: Document, context: RequestContext) -> Document:
        database = command["$db"]
        collection, namespace = self._collection(command, "listIndexes")
        if not self._exists(database, collection.name):
            raise CommandError(26, f"ns does not exist: {namespace}")
        extras_registry = self._index_extras.get((database, collection.name), {})
        entries: list[Document] = []
        for info in collection.list_indexes():
            entry: Document = {"v": info.get("v", 2), "key": dict(info["key"]), "name": info["name"]}
            entry.update({k: v for k, v in info.items() if k not in entry})
            entry.update(extras_registry.get(info["name"], {}))
            entries.append(entry)
        cursor_options = command.get("cursor") or {}
        return self._open_cursor(namespace, entries, self._batch_size(cursor_options.get("batchSize")))

    def _cmd_drop_indexes(self, command: Document, context: RequestContext) -> Document:
        database = command["$db"]
        collection, namespace = self._collection(command, next(iter(command)))
        if not self._exists(database, collection.name):
            raise CommandError(26, f"ns not found {namespace}")
        information = collection.index_information()
        target = command.get("index")
        names: list[str]
        if target == "*":
            names = [name for name in information if name != "_id_"]
        elif isinstance(target, str):
            names = [target]
        elif isinstance(target, list) and all(isinstance(item, str) for item in target):
            names = list(target)
        elif isinstance(target, dict):
            key_list = list(target.items())
            names = [name for name, info in information.items() if list(info.get("key", [])) == key_list]
            if not names:
                raise CommandError(27, f"can't find index with key: {target}")
        else:
            raise CommandError(14, "dropIndexes: 'index' deve ser '*', um nome, uma lista de nomes ou uma chave")
        for name in names:
            if name == "_id_" and target != "*":
                raise CommandError(72, "cannot drop _id index")
            if name not in information:
                raise CommandError(27, f"index not found with name [{name}]")
        extras_registry = self._index_extras.get((database, collection.name), {})
        for name in names:
            # Um a um (e não ``drop_indexes``) para o mongomock esquecer também os índices TTL.
            collection.drop_index(name)
            extras_registry.pop(name, None)
        return {"nIndexesWas": len(information)}


# ---------------------------------------------------------------------- funções auxiliares


def _retryable_write_key(command: Document) -> tuple[bytes, int] | None:
    """(``lsid.id``, ``txnNumber``) de uma escrita repetível; ``None`` para o resto."""
    if not is_retryable_write(command):
        return None
    lsid = command.get("lsid")
    txn_number = command.get("txnNumber")
    session_id = lsid.get("id") if isinstance(lsid, dict) else None
    if not isinstance(session_id, bytes) or isinstance(txn_number, bool) or not isinstance(txn_number, int):
        return None
    return bytes(session_id), int(txn_number)


def _validate_database_name(name: str) -> None:
    if not name or len(name) >= 64 or any(char in _INVALID_DB_CHARS for char in name):
        raise CommandError(73, f"nome de banco inválido: {name!r}")


def _is_operator_update(update: Mapping[str, Any]) -> bool:
    """Documento de atualização (``$set``…) e não substituição: decide pela primeira chave."""
    return bool(update) and next(iter(update)).startswith("$")


def _sort_list(sort: Any) -> list[tuple[str, int]] | None:
    """``{campo: 1|-1}`` do protocolo para a lista de pares que o mongomock aceita."""
    if not sort:
        return None
    if not isinstance(sort, dict):
        raise CommandError(2, "sort deve ser um objeto")
    pairs: list[tuple[str, int]] = []
    for key, direction in sort.items():
        if isinstance(direction, bool) or not isinstance(direction, int | float) or direction not in (1, -1):
            raise CommandError(2, f"ordenação não suportada pelo mongowire em {key!r}: {direction!r}")
        pairs.append((key, int(direction)))
    return pairs


def _lookup(document: Mapping[str, Any], path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _regex_matches(value: Any, pattern: Any, options: str = "") -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(pattern, Regex):
        compiled = pattern.try_compile()
    elif isinstance(pattern, re.Pattern):
        compiled = pattern
    elif isinstance(pattern, str):
        compiled = Regex(pattern, options or 0).try_compile()
    else:
        raise CommandError(2, "$regex deve ser um texto ou uma expressão regular")
    return compiled.search(value) is not None


def _equals(value: Any, expected: Any) -> bool:
    if isinstance(expected, Regex | re.Pattern):
        return _regex_matches(value, expected)
    if value is _MISSING:
        return expected is None
    return bool(value == expected)


def _condition(value: Any, condition: Any) -> bool:
    if not (isinstance(condition, Mapping) and condition and all(str(k).startswith("$") for k in condition)):
        return _equals(value, condition)
    options = str(condition.get("$options", ""))
    for operator, argument in condition.items():
        if operator == "$eq":
            ok = _equals(value, argument)
        elif operator == "$ne":
            ok = not _equals(value, argument)
        elif operator in ("$in", "$nin"):
            if not isinstance(argument, list):
                raise CommandError(2, f"{operator} precisa de uma lista")
            found = any(_equals(value, item) for item in argument)
            ok = found if operator == "$in" else not found
        elif operator == "$exists":
            ok = (value is not _MISSING) == bool(argument)
        elif operator == "$regex":
            ok = _regex_matches(value, argument, options)
        elif operator == "$options":
            continue
        else:
            raise CommandError(2, f"operador não suportado neste filtro pelo mongowire: {operator}")
        if not ok:
            return False
    return True


def _matches(document: Mapping[str, Any], query: Any) -> bool:
    """Filtro simples para ``listCollections``/``listDatabases`` (campos, $eq/$ne/$in/$nin/
    $exists/$regex e $and/$or/$nor); o mongomock não expõe seu avaliador publicamente."""
    if not isinstance(query, Mapping):
        raise CommandError(2, "filter deve ser um objeto")
    for key, condition in query.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(condition, list):
                raise CommandError(2, f"{key} precisa de uma lista")
            results = [_matches(document, sub) for sub in condition]
            ok = all(results) if key == "$and" else any(results) if key == "$or" else not any(results)
        elif key.startswith("$"):
            raise CommandError(2, f"operador não suportado neste filtro pelo mongowire: {key}")
        else:
            ok = _condition(_lookup(document, key), condition)
        if not ok:
            return False
    return True
