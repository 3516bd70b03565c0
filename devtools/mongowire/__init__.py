"""Servidor do protocolo de rede do MongoDB sobre o mongomock (ferramenta de dev/teste).

Permite que o ``pymongo.MongoClient`` e o ``pymongo.AsyncMongoClient`` *reais* falem
por TCP com um banco em memória compartilhado::

    from devtools.mongowire import MongoWireServer

    with MongoWireServer(replica_set="rs0") as server:
        client = MongoClient(server.uri, tz_aware=True)

Linha de comando: ``python -m devtools.mongowire --port 27018 [--replica-set rs0]``.
"""

from __future__ import annotations

from devtools.mongowire.server import MongoWireServer

__all__ = ["MongoWireServer"]
