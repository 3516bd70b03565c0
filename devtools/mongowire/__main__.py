"""Sobe o mongowire em primeiro plano: ``python -m devtools.mongowire --port 27018 [--replica-set rs0]``.

Imprime uma linha com a URI no stdout (``--port 0`` escolhe uma porta livre) e termina
de forma limpa com SIGTERM ou SIGINT (Ctrl+C).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from devtools.mongowire.server import MongoWireServer


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.mongowire",
        description="Servidor do protocolo do MongoDB sobre o mongomock (só para desenvolvimento e testes).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="endereço de escuta (padrão: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=27018, help="porta TCP; 0 escolhe uma livre (padrão: 27018)")
    parser.add_argument("--replica-set", default=None, help="anuncia um conjunto de réplicas com este nome")
    parser.add_argument("--log-level", default="INFO", help="nível de log no stderr (padrão: INFO)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    server = MongoWireServer(host=args.host, port=args.port, replica_set=args.replica_set)
    try:
        server.start()
    except OSError as exc:
        print(f"mongowire: não foi possível escutar em {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(server.uri, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
    logging.getLogger("devtools.mongowire").info("mongowire encerrado")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
