"""mongowire: o pymongo de verdade (síncrono e assíncrono) falando TCP com o mongomock."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import bson
import pymongo
import pytest
from bson import Decimal128, Int64, ObjectId
from bson.binary import Binary
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, InsertOne, MongoClient, ReturnDocument, UpdateOne
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    DuplicateKeyError,
    OperationFailure,
    ServerSelectionTimeoutError,
)
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent
from pymongo.write_concern import WriteConcern

from devtools.mongowire import MongoWireServer

ROOT = Path(__file__).resolve().parents[2]


class Recorder(CommandListener):
    """Guarda os comandos que o cliente mandou (nome e corpo)."""

    def __init__(self) -> None:
        self.events: list[CommandStartedEvent] = []

    def started(self, event: CommandStartedEvent) -> None:
        self.events.append(event)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass

    def names(self) -> list[str]:
        return [event.command_name for event in self.events]


def connect(uri: str, **options: Any) -> MongoClient[dict[str, Any]]:
    """Cliente pymongo de verdade (tipado) para a URI do mongowire."""
    return MongoClient(uri, **options)


@pytest.fixture(scope="module")
def server() -> Iterator[MongoWireServer]:
    with MongoWireServer() as instance:
        yield instance


@pytest.fixture(scope="module")
def rs_server() -> Iterator[MongoWireServer]:
    with MongoWireServer(replica_set="rs0") as instance:
        yield instance


@pytest.fixture
def client(server: MongoWireServer) -> Iterator[MongoClient[dict[str, Any]]]:
    instance: MongoClient[dict[str, Any]] = MongoClient(server.uri, tz_aware=True, serverSelectionTimeoutMS=5000)
    yield instance
    instance.close()


@pytest.fixture
def db(client: MongoClient[dict[str, Any]]) -> Iterator[Any]:
    name = f"t_{uuid.uuid4().hex[:12]}"
    yield client[name]
    client.drop_database(name)


# ---------------------------------------------------------------------- aperto de mão


def test_handshake_and_ping(client, server):
    assert client.admin.command("ping")["ok"] == 1.0
    hello = client.admin.command("hello")
    assert hello["isWritablePrimary"] is True
    assert hello["maxWireVersion"] == 21
    assert hello["logicalSessionTimeoutMinutes"] == 30
    assert "setName" not in hello
    assert client.server_info()["version"] == "7.0.0"
    assert client.address == ("127.0.0.1", server.port)
    assert server.uri == f"mongodb://127.0.0.1:{server.port}/?directConnection=true"


def _raw_op_query(port: int, collection: str, query: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Manda um OP_QUERY à mão e devolve (responseFlags, documento) do OP_REPLY."""
    body = struct.pack("<i", 0) + collection.encode() + b"\x00" + struct.pack("<ii", 0, -1) + bson.encode(query)
    message = struct.pack("<iiii", 16 + len(body), 7, 0, 2004) + body
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(message)
        header = _recv_exactly(sock, 16)
        length, _, response_to, op_code = struct.unpack("<iiii", header)
        assert (response_to, op_code) == (7, 1)
        reply = _recv_exactly(sock, length - 16)
    flags, cursor_id, _, number_returned = struct.unpack_from("<iqii", reply)
    assert (cursor_id, number_returned) == (0, 1)
    return flags, bson.decode(reply[20:])


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "conexão fechada"
        data += chunk
    return data


def test_legacy_op_query_handshake(server):
    flags, reply = _raw_op_query(server.port, "admin.$cmd", {"isMaster": 1, "helloOk": True})
    assert flags == 0
    assert reply["ismaster"] is True
    assert reply["helloOk"] is True
    assert reply["maxWireVersion"] == 21
    assert reply["minWireVersion"] == 0
    # Como um servidor 6.0+: fora do aperto de mão, OP_QUERY é recusado.
    _, refused = _raw_op_query(server.port, "admin.$cmd", {"ping": 1})
    assert refused["ok"] == 0
    assert refused["code"] == 352


def _op_msg(request_id: int, body: bytes, flags: int = 0, sequences: bytes = b"", checksum: bool = False) -> bytes:
    if checksum:
        flags |= 1
    payload = struct.pack("<I", flags) + b"\x00" + body + sequences + (b"\xde\xad\xbe\xef" if checksum else b"")
    return struct.pack("<iiii", 16 + len(payload), request_id, 0, 2013) + payload


def _read_op_msg(sock: socket.socket, request_id: int) -> dict[str, Any]:
    length, _, response_to, op_code = struct.unpack("<iiii", _recv_exactly(sock, 16))
    assert (response_to, op_code) == (request_id, 2013)
    payload = _recv_exactly(sock, length - 16)
    assert payload[:5] == b"\x00\x00\x00\x00\x00"  # sem flags, uma seção tipo 0
    return bson.decode(payload[5:])


def test_raw_op_msg_sequences_checksum_and_garbage(server):
    documents = bson.encode({"_id": 1}) + bson.encode({"_id": 2})
    section = b"documents\x00" + documents
    sequence = b"\x01" + struct.pack("<i", 4 + len(section)) + section
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(_op_msg(1, bson.encode({"insert": "raw", "$db": "rawdb"}), sequences=sequence, checksum=True))
        assert _read_op_msg(sock, 1) == {"n": 2, "ok": 1.0}
        # BSON inválido: resposta de erro, e a conexão segue utilizável.
        for garbage in (
            b"\x10\x00\x00\x00\x02bad\x00\xff\xff\xff\x7f\x00\x00\x00",  # string com tamanho absurdo
            b"\x7f\x00\x00\x00\x0a",  # seção maior que a mensagem
        ):
            sock.sendall(_op_msg(2, garbage))
            broken = _read_op_msg(sock, 2)
            assert broken["ok"] == 0
            assert broken["code"] == 2
        # moreToCome (w: 0): nada volta; o próximo pedido recebe a própria resposta.
        sock.sendall(
            _op_msg(
                3, bson.encode({"delete": "raw", "deletes": [{"q": {"_id": 1}, "limit": 1}], "$db": "rawdb"}), flags=2
            )
        )
        sock.sendall(_op_msg(4, bson.encode({"count": "raw", "$db": "rawdb"})))
        assert _read_op_msg(sock, 4) == {"n": 1, "ok": 1.0}
        sock.sendall(_op_msg(5, bson.encode({"dropDatabase": 1, "$db": "rawdb"})))
        assert _read_op_msg(sock, 5)["ok"] == 1.0
    # opCode desconhecido: o servidor fecha só aquela conexão.
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(struct.pack("<iiii", 20, 9, 0, 9999) + b"\x00" * 4)
        assert sock.recv(1) == b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(_op_msg(6, bson.encode({"ping": 1, "$db": "admin"})))
        assert _read_op_msg(sock, 6) == {"ok": 1.0}


def test_unknown_and_bad_commands_do_not_break_the_connection(client, db):
    with pytest.raises(OperationFailure) as unknown:
        db.command("frobnicate")
    assert unknown.value.code == 59
    with pytest.raises(OperationFailure) as bad:
        db.command({"find": "c", "filter": "not-a-document"})
    assert bad.value.code == 2
    db.c.insert_one({"_id": 1, "s": "texto"})
    with pytest.raises(OperationFailure):
        db.c.update_one({"_id": 1}, {"$inc": {"s": 1}})
    with pytest.raises(OperationFailure):
        db.c.find_one({"$where": "1"})
    assert client.admin.command("ping")["ok"] == 1.0
    assert db.c.find_one({"_id": 1}) == {"_id": 1, "s": "texto"}


# ---------------------------------------------------------------------- CRUD


def test_round_trip_of_bson_types(db):
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    other_zone = datetime(2024, 5, 6, 4, 8, 9, 500000, tzinfo=timezone(timedelta(hours=-3)))
    oid = ObjectId()
    document = {
        "_id": oid,
        "at": moment,
        "zoned": other_zone,
        "nested": {"a": [1, {"b": None}], "empty": {}},
        "array": [1, "dois", 3.5, True, None],
        "int32": 7,
        "int64": Int64(2**40),
        "small_int64": Int64(5),
        "float": 1.25,
        "string": "ação ✓",
        "yes": True,
        "no": False,
        "nothing": None,
        "decimal": Decimal128("1.10"),
        "binary": Binary(b"\x00\x01\x02"),
    }
    db.types.insert_one(document)
    found = db.types.find_one({"_id": oid})
    assert found is not None
    assert found["at"] == moment.replace(microsecond=123000)
    assert found["at"].utcoffset() == timedelta(0)
    assert found["zoned"] == datetime(2024, 5, 6, 7, 8, 9, 500000, tzinfo=UTC)
    assert found["nested"] == {"a": [1, {"b": None}], "empty": {}}
    assert found["array"] == [1, "dois", 3.5, True, None]
    assert found["int64"] == 2**40
    assert found["small_int64"] == 5
    assert (found["int32"], found["float"], found["string"]) == (7, 1.25, "ação ✓")
    assert (found["yes"], found["no"], found["nothing"]) == (True, False, None)
    assert found["decimal"] == Decimal128("1.10")
    assert found["binary"] == b"\x00\x01\x02"
    raw = db.types.with_options(codec_options=db.codec_options.with_options(tz_aware=False)).find_one({"_id": oid})
    assert raw is not None
    assert raw["at"].tzinfo is None
    # Consultas por faixa de datas (com fuso) e por tipo inteiro de 64 bits.
    assert db.types.count_documents({"at": {"$gt": moment - timedelta(seconds=1), "$lte": moment}}) == 1
    assert db.types.count_documents({"int64": {"$gt": 2**39}}) == 1


def test_sort_skip_limit_and_projection(db):
    db.items.insert_many([{"_id": i, "group": i % 3, "name": f"item{i:02d}", "extra": i * 10} for i in range(30)])
    page = list(db.items.find({"group": 1}).sort([("_id", DESCENDING)]).skip(2).limit(3))
    assert [doc["_id"] for doc in page] == [22, 19, 16]
    multi = list(db.items.find({}, sort=[("group", ASCENDING), ("_id", DESCENDING)], limit=4))
    assert [doc["_id"] for doc in multi] == [27, 24, 21, 18]
    included = db.items.find_one({"_id": 5}, projection={"name": 1})
    assert included == {"_id": 5, "name": "item05"}
    excluded = db.items.find_one({"_id": 5}, projection={"extra": 0, "_id": 0})
    assert excluded == {"group": 2, "name": "item05"}
    assert db.items.find_one({"_id": 999}) is None


def test_get_more_over_1000_documents_with_batch_size_100(server, db):
    db.many.insert_many([{"_id": i, "payload": "x" * 50} for i in range(1000)])
    recorder = Recorder()
    with connect(server.uri, tz_aware=True, event_listeners=[recorder]) as watched:
        ids = [doc["_id"] for doc in watched[db.name].many.find({}, sort=[("_id", ASCENDING)], batch_size=100)]
    assert ids == list(range(1000))
    assert recorder.names().count("find") == 1
    assert recorder.names().count("getMore") == 9
    assert all(event.command["batchSize"] == 100 for event in recorder.events if event.command_name == "getMore")


def test_default_first_batch_and_kill_cursors(client, db):
    db.many.insert_many([{"_id": i} for i in range(300)])
    status = client.admin.command("serverStatus")
    open_before = status["metrics"]["cursor"]["open"]["total"]
    cursor = db.many.find()
    assert next(cursor)["_id"] == 0
    assert client.admin.command("serverStatus")["metrics"]["cursor"]["open"]["total"] == open_before + 1
    cursor.close()  # killCursors
    assert client.admin.command("serverStatus")["metrics"]["cursor"]["open"]["total"] == open_before
    assert len(list(db.many.find().limit(150))) == 150
    assert len(list(db.many.find().limit(-150))) == 101  # limite negativo: um lote só


def test_count_and_distinct(db):
    db.c.insert_many([{"k": i % 4, "tag": ["a", "b"][i % 2]} for i in range(20)])
    assert db.c.count_documents({}) == 20
    assert db.c.count_documents({"k": 1}) == 5
    assert db.c.count_documents({}, skip=18) == 2
    assert db.c.count_documents({}, limit=3) == 3
    assert db.c.estimated_document_count() == 20
    assert sorted(db.c.distinct("k")) == [0, 1, 2, 3]
    assert db.c.distinct("tag", {"k": {"$in": [0, 2]}}) == ["a"]
    assert db.missing.count_documents({}) == 0


def test_duplicate_id_raises_duplicate_key_error(db):
    db.c.insert_one({"_id": "k"})
    with pytest.raises(DuplicateKeyError) as error:
        db.c.insert_one({"_id": "k"})
    assert error.value.code == 11000
    db.c.create_index("email", unique=True)
    db.c.insert_one({"_id": 1, "email": "a@x"})
    with pytest.raises(DuplicateKeyError):
        db.c.insert_one({"_id": 2, "email": "a@x"})
    assert db.c.count_documents({}) == 2


def test_insert_many_unordered_reports_the_failing_index(db):
    db.c.insert_one({"_id": 2})
    with pytest.raises(BulkWriteError) as error:
        db.c.insert_many([{"_id": 1}, {"_id": 2}, {"_id": 3}, {"_id": 4}], ordered=False)
    details = error.value.details
    assert details["nInserted"] == 3
    assert [(e["index"], e["code"]) for e in details["writeErrors"]] == [(1, 11000)]
    assert sorted(doc["_id"] for doc in db.c.find()) == [1, 2, 3, 4]
    # Ordenado: para no primeiro erro.
    with pytest.raises(BulkWriteError) as ordered:
        db.c.insert_many([{"_id": 5}, {"_id": 1}, {"_id": 6}])
    assert ordered.value.details["nInserted"] == 1
    assert db.c.count_documents({"_id": 6}) == 0


def test_bulk_write_upserts_create_and_increment(db):
    def requests(delta: int) -> list[UpdateOne]:
        return [
            UpdateOne(
                {"_id": key},
                {"$inc": {"count": delta, "sum": delta * 10}, "$setOnInsert": {"key": key, "created": True}},
                upsert=True,
            )
            for key in ("a", "b", "c")
        ]

    first = db.totals.bulk_write(requests(1), ordered=False)
    assert (first.upserted_count, first.matched_count, first.modified_count) == (3, 0, 0)
    assert set(first.upserted_ids.values()) == {"a", "b", "c"}
    second = db.totals.bulk_write([*requests(2), InsertOne({"_id": "d"})], ordered=False)
    assert (second.upserted_count, second.matched_count, second.modified_count) == (0, 3, 3)
    assert second.inserted_count == 1
    assert db.totals.find_one({"_id": "b"}) == {"_id": "b", "count": 3, "sum": 30, "key": "b", "created": True}


def test_guarded_upsert_applied_twice(db):
    guard = {"_id": "k", "batches": {"$ne": "b1"}}
    change = {"$inc": {"n": 1}, "$push": {"batches": {"$each": ["b1"], "$slice": -20}}}
    result = db.g.update_one(guard, change, upsert=True)
    assert result.upserted_id == "k"
    with pytest.raises(DuplicateKeyError):
        db.g.update_one(guard, change, upsert=True)
    with pytest.raises(BulkWriteError) as error:
        db.g.bulk_write(
            [UpdateOne(guard, change, upsert=True), UpdateOne({"_id": "z"}, change, upsert=True)], ordered=False
        )
    assert [(e["index"], e["code"]) for e in error.value.details["writeErrors"]] == [(0, 11000)]
    assert error.value.details["nUpserted"] == 1
    assert db.g.find_one({"_id": "k"}) == {"_id": "k", "n": 1, "batches": ["b1"]}


def test_update_many_replace_and_pipeline(db):
    db.u.insert_many([{"_id": i, "v": i} for i in range(5)])
    result = db.u.update_many({"v": {"$gte": 2}}, {"$set": {"big": True}})
    assert (result.matched_count, result.modified_count) == (3, 3)
    assert db.u.update_many({"v": {"$gte": 2}}, {"$set": {"big": True}}).modified_count == 0
    replaced = db.u.replace_one({"_id": 0}, {"only": "this"})
    assert replaced.modified_count == 1
    assert db.u.find_one({"_id": 0}) == {"_id": 0, "only": "this"}
    upserted = db.u.replace_one({"_id": 10}, {"v": 10}, upsert=True)
    assert upserted.upserted_id == 10
    assert db.u.update_one({"_id": 99}, {"$set": {"v": 1}}).matched_count == 0


def test_find_one_and_update_as_counter(db):
    def bump() -> int:
        doc = db.counters.find_one_and_update(
            {"_id": "seq"}, {"$inc": {"value": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        return int(doc["value"])

    assert [bump() for _ in range(3)] == [1, 2, 3]
    before = db.counters.find_one_and_update({"_id": "seq"}, {"$inc": {"value": 10}}, projection={"_id": 0})
    assert before == {"value": 3}
    assert db.counters.find_one_and_update({"_id": "nope"}, {"$inc": {"value": 1}}) is None
    assert db.counters.find_one_and_update({"_id": "new"}, {"$set": {"v": 1}}, upsert=True) is None
    assert db.counters.find_one({"_id": "new"}) == {"_id": "new", "v": 1}
    raw = db.command("findAndModify", "counters", query={"_id": "other"}, update={"$set": {"v": 2}}, upsert=True)
    assert raw["lastErrorObject"] == {"n": 1, "updatedExisting": False, "upserted": "other"}


def test_find_one_and_delete_replace_and_delete_many(db):
    db.q.insert_many([{"_id": i, "prio": i % 3} for i in range(9)])
    first = db.q.find_one_and_delete({"prio": 2}, sort=[("_id", DESCENDING)])
    assert first == {"_id": 8, "prio": 2}
    assert db.q.find_one_and_delete({"prio": 99}) is None
    replaced = db.q.find_one_and_replace(
        {"prio": 0}, {"prio": 0, "done": True}, sort=[("_id", ASCENDING)], return_document=ReturnDocument.AFTER
    )
    assert replaced == {"_id": 0, "prio": 0, "done": True}
    assert db.q.delete_one({"prio": 1}).deleted_count == 1
    assert db.q.delete_many({"prio": {"$in": [0, 1]}}).deleted_count == 5
    assert sorted(doc["_id"] for doc in db.q.find()) == [2, 5]
    assert db.q.delete_many({}).deleted_count == 2
    # Como no servidor, a coleção vazia continua existindo.
    assert "q" in db.list_collection_names()


def test_aggregate_pipeline(db):
    db.events.insert_many([{"user": f"u{i % 4}", "value": i} for i in range(20)])
    pipeline = [
        {"$match": {"value": {"$gte": 4}}},
        {"$group": {"_id": "$user", "count": {"$sum": 1}, "sum": {"$sum": "$value"}}},
        {"$sort": {"sum": -1, "_id": 1}},
        {"$limit": 3},
    ]
    rows = list(db.events.aggregate(pipeline))
    assert rows == [
        {"_id": "u3", "count": 4, "sum": 52},
        {"_id": "u2", "count": 4, "sum": 48},
        {"_id": "u1", "count": 4, "sum": 44},
    ]
    facet = list(
        db.events.aggregate(
            [
                {"$group": {"_id": "$user", "sum": {"$sum": "$value"}}},
                {
                    "$facet": {
                        "top": [{"$sort": {"sum": -1}}, {"$limit": 1}],
                        "distinct": [{"$count": "n"}],
                    }
                },
            ]
        )
    )
    assert facet == [{"top": [{"_id": "u3", "sum": 55}], "distinct": [{"n": 4}]}]
    batched = list(db.events.aggregate([{"$sort": {"value": 1}}], batchSize=7))
    assert [row["value"] for row in batched] == list(range(20))
    with pytest.raises(OperationFailure):
        list(db.events.aggregate([{"$merge": {"into": "other"}}]))


def test_indexes_ttl_partial_and_metadata(db):
    ttl = db.idx.create_index([("receivedAt", ASCENDING)], expireAfterSeconds=3600)
    partial = db.idx.create_index(
        [("user", ASCENDING), ("at", DESCENDING)],
        name="user_at",
        unique=True,
        partialFilterExpression={"active": True},
        hidden=False,
    )
    info = db.idx.index_information()
    assert set(info) == {"_id_", ttl, "user_at"}
    assert partial == "user_at"
    assert info[ttl]["key"] == [("receivedAt", 1)]
    assert info[ttl]["expireAfterSeconds"] == 3600
    assert info["user_at"]["key"] == [("user", 1), ("at", -1)]
    assert info["user_at"]["unique"] is True
    assert info["user_at"]["partialFilterExpression"] == {"active": True}
    assert info["user_at"]["hidden"] is False  # opção que o mongomock não guarda: metadado
    # Índice parcial único: só conflita entre documentos ativos.
    db.idx.insert_many([{"user": 1, "at": 1, "active": False}, {"user": 1, "at": 1, "active": False}])
    db.idx.insert_one({"user": 1, "at": 1, "active": True})
    with pytest.raises(DuplicateKeyError):
        db.idx.insert_one({"user": 1, "at": 1, "active": True})
    # TTL vencido some (o mongomock expira na leitura).
    db.idx.insert_one({"_id": "old", "receivedAt": datetime.now(UTC) - timedelta(hours=2)})
    db.idx.insert_one({"_id": "new", "receivedAt": datetime.now(UTC)})
    assert db.idx.count_documents({"receivedAt": {"$exists": True}}) == 1
    # Recriar igual não muda nada; mesmo nome com outras opções é conflito.
    assert db.idx.create_index([("receivedAt", ASCENDING)], expireAfterSeconds=3600) == ttl
    with pytest.raises(OperationFailure) as conflict:
        db.idx.create_index([("receivedAt", ASCENDING)], expireAfterSeconds=60)
    assert conflict.value.code == 85
    db.idx.drop_index("user_at")
    assert set(db.idx.index_information()) == {"_id_", ttl}
    with pytest.raises(OperationFailure) as missing:
        db.idx.drop_index("user_at")
    assert missing.value.code == 27
    db.idx.drop_indexes()
    assert set(db.idx.index_information()) == {"_id_"}
    assert list(db.nothing.list_indexes()) == []


def test_rename_with_drop_target_drop_and_list_collections(db):
    db.src.insert_many([{"_id": 1}, {"_id": 2}])
    db.src.create_index("x", name="x_idx", hidden=False)
    db.dst.insert_one({"_id": "old"})
    with pytest.raises(OperationFailure) as exists:
        db.src.rename("dst")
    assert exists.value.code == 48
    db.src.rename("dst", dropTarget=True)
    assert sorted(doc["_id"] for doc in db.dst.find()) == [1, 2]
    assert db.dst.index_information()["x_idx"]["hidden"] is False
    assert db.list_collection_names() == ["dst"]
    db.create_collection("alpha")
    db.create_collection("beta")
    with pytest.raises(OperationFailure) as duplicate:
        db.create_collection("alpha", check_exists=False)
    assert duplicate.value.code == 48
    assert sorted(db.list_collection_names()) == ["alpha", "beta", "dst"]
    assert db.list_collection_names(filter={"name": {"$regex": "^(a|b)"}}) == ["alpha", "beta"]
    infos = list(db.list_collections(filter={"name": "dst"}))
    assert [info["name"] for info in infos] == ["dst"]
    assert infos[0]["type"] == "collection"
    db.drop_collection("alpha")
    db.beta.drop()
    db.drop_collection("never-existed")  # código 26 é ignorado pelo pymongo
    assert db.list_collection_names() == ["dst"]


def test_list_and_drop_databases(client, db):
    db.c.insert_one({})
    assert db.name in client.list_database_names()
    client.drop_database(db.name)
    assert db.name not in client.list_database_names()


def test_unacknowledged_writes_get_no_reply(client, db):
    fire_and_forget = db.c.with_options(write_concern=WriteConcern(w=0))
    fire_and_forget.insert_one({"_id": 1})
    fire_and_forget.insert_one({"_id": 1})  # duplicado: sem resposta, sem derrubar a conexão
    assert db.c.find_one({"_id": 1}) == {"_id": 1}


def test_two_clients_share_the_database(server, db):
    with (
        connect(server.uri, tz_aware=True) as first,
        connect(server.uri, tz_aware=True) as second,
    ):
        first[db.name].shared.insert_one({"_id": "from-first"})
        assert second[db.name].shared.find_one({"_id": "from-first"}) == {"_id": "from-first"}
        second[db.name].shared.update_one({"_id": "from-first"}, {"$set": {"seen": True}})
        assert first[db.name].shared.find_one() == {"_id": "from-first", "seen": True}


# ---------------------------------------------------------------------- conjunto de réplicas, sessões, ciclo de vida


def test_replica_set_mode_with_retryable_writes(rs_server):
    recorder = Recorder()
    assert rs_server.uri == f"mongodb://127.0.0.1:{rs_server.port}/?replicaSet=rs0"
    client: MongoClient[dict[str, Any]] = MongoClient(
        rs_server.uri, tz_aware=True, retryWrites=True, serverSelectionTimeoutMS=5000, event_listeners=[recorder]
    )
    try:
        hello = client.admin.command("hello")
        assert hello["setName"] == "rs0"
        assert hello["hosts"] == [rs_server.address]
        assert client.primary == ("127.0.0.1", rs_server.port)
        collection = client.rsdb.c
        collection.insert_one({"_id": 1})
        collection.update_one({"_id": 1}, {"$set": {"v": 1}})
        bumped = collection.find_one_and_update({"_id": 1}, {"$inc": {"v": 1}}, return_document=ReturnDocument.AFTER)
        assert bumped == {"_id": 1, "v": 2}
        with client.start_session() as session:
            collection.insert_one({"_id": 2}, session=session)
            assert collection.count_documents({}, session=session) == 2
        insert = next(event for event in recorder.events if event.command_name == "insert")
        assert "lsid" in insert.command
        assert "txnNumber" in insert.command
        client.drop_database("rsdb")
    finally:
        client.close()


def test_client_survives_server_restart_on_same_port():
    server = MongoWireServer().start()
    port = server.port
    try:
        with connect(server.uri, serverSelectionTimeoutMS=5000, heartbeatFrequencyMS=500) as client:
            client.restart.c.insert_one({"_id": "kept"})
            server.stop()
            with pytest.raises((AutoReconnect, ServerSelectionTimeoutError)), pymongo.timeout(0.5):
                client.restart.c.find_one({})
            server.start()
            assert server.port == port
            assert client.restart.c.find_one({"_id": "kept"}) == {"_id": "kept"}
    finally:
        server.stop()


def test_port_in_use_fails_to_start(server):
    with pytest.raises(OSError, match=r"(?i)address already in use"):
        MongoWireServer(port=server.port).start()
    assert server.running


async def test_async_client(server):
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.uri, tz_aware=True)
    try:
        collection = client[f"a_{uuid.uuid4().hex[:8]}"].c
        moment = datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        await collection.insert_many([{"_id": i, "at": moment, "even": i % 2 == 0} for i in range(250)])
        assert await collection.count_documents({"even": True}) == 125
        found = await collection.find_one({"_id": 3})
        assert found is not None
        assert found["at"] == moment.replace(microsecond=678000)
        ids = [doc["_id"] async for doc in collection.find({}, batch_size=50).sort("_id", DESCENDING)]
        assert ids == list(range(249, -1, -1))
        counter = await collection.find_one_and_update(
            {"_id": "n"}, {"$inc": {"v": 1}}, upsert=True, return_document=ReturnDocument.AFTER
        )
        assert counter == {"_id": "n", "v": 1}
        rows = await (await collection.aggregate([{"$group": {"_id": "$even", "n": {"$sum": 1}}}])).to_list()
        assert {row["_id"]: row["n"] for row in rows} == {None: 1, False: 125, True: 125}
        await client.drop_database(collection.database.name)
    finally:
        await client.close()


LOADER = """
import sys
from pymongo import MongoClient
client = MongoClient(sys.argv[1])
collection = client.load.c
start = int(sys.argv[2])
for batch in range(start, start + 10_000):
    collection.insert_many([{"_id": batch * 10 + i} for i in range(10)])
    collection.update_one({"_id": "progress"}, {"$max": {"batch": batch}}, upsert=True)
"""


def test_app_killed_mid_load_and_restarted_against_the_same_database(rs_server):
    def loader(start: int) -> subprocess.Popen[bytes]:
        # Só o interpretador atual com o script fixo acima e a URI do servidor do teste.
        return subprocess.Popen([sys.executable, "-c", LOADER, rs_server.uri, str(start)])  # noqa: S603

    with connect(rs_server.uri, serverSelectionTimeoutMS=5000) as client:
        first = loader(0)
        deadline = time.monotonic() + 20
        while client.load.c.count_documents({"_id": {"$type": "int"}}) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        survived = client.load.c.count_documents({"_id": {"$type": "int"}})
        assert survived >= 50
        second = loader(100_000)  # outro processo, mesmo banco
        try:
            deadline = time.monotonic() + 20
            while client.load.c.count_documents({"_id": {"$gte": 1_000_000}}) < 50 and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait(timeout=10)
        assert client.load.c.count_documents({"_id": {"$lt": 1_000_000}}) >= survived
        assert client.load.c.count_documents({"_id": {"$gte": 1_000_000}}) >= 50
        assert client.admin.command("ping")["ok"] == 1.0
        client.drop_database("load")


# ---------------------------------------------------------------------- linha de comando


def test_command_line_prints_uri_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "devtools.mongowire", "--port", "0", "--replica-set", "rs9"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert process.stdout is not None
        uri = process.stdout.readline().strip()
        assert uri.startswith("mongodb://127.0.0.1:")
        assert uri.endswith("/?replicaSet=rs9")
        with connect(uri, serverSelectionTimeoutMS=5000) as client:
            client.cli.c.insert_one({"_id": 1})
            assert client.cli.c.find_one() == {"_id": 1}
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
