"""Exportação em memória constante: o RSS do processo enquanto 1M de eventos saem em CSV.

O pedido ``GET /api/events/export?format=csv`` (sem filtros: o histórico inteiro) passa
pelo app ASGI real (``trader_monitor.asgi.application``: middleware, autenticação JWT,
limite de taxa, view, corpo assíncrono que lê lotes pelo ``run_store``), dentro deste
processo; o ``send`` conta bytes e linhas e amostra o RSS atual (``/proc/self/statm``)
a cada pedaço. O histórico é o do ``bench/datasets.py`` (mesma carga: ``insert_events_bulk``
em lotes + ``rebuild_rollups``), no armazenamento em memória (mongomock) — não há MongoDB
nesta máquina.

Mede-se o crescimento do RSS durante a exportação sobre o RSS de antes dela (depois da
carga e de uma exportação pequena de aquecimento). Alvo: ≤ 50 MB para 1M de linhas.

``--control`` repete a medida com um corpo síncrono sob ASGI — o que o Django faz com
um iterador síncrono: junta tudo numa lista antes de enviar —, para mostrar que a medida
enxerga o crescimento quando ele existe.

Uso::

    .venv/bin/python -m bench.export_memory                      # 1M de eventos
    .venv/bin/python -m bench.export_memory --events 100000 --control --json /tmp/export.json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Importar o bench.datasets configura o Django (ambiente do bench, mongomock); o que
# depende do Django é importado depois, dentro das funções.
from bench.datasets import History

TARGET_MB = 50.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_now_mb() -> float:
    """RSS atual (não o pico) do processo, em MB."""
    resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    return resident_pages * _PAGE / 2**20


async def export_via_asgi(token: str, query: str) -> dict[str, Any]:
    """Um pedido de exportação pelo app ASGI; devolve bytes, linhas, RSS máximo e duração."""
    from trader_monitor.asgi import application

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/events/export",
        "raw_path": b"/api/events/export",
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    stats: dict[str, Any] = {"status": None, "bytes": 0, "lines": 0, "chunks": 0, "rss_max_mb": rss_now_mb()}
    request_sent = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # o cliente não desconecta
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            stats["status"] = message["status"]
        elif message["type"] == "http.response.body":
            body = message.get("body", b"")
            stats["bytes"] += len(body)
            stats["lines"] += body.count(b"\n")
            stats["chunks"] += 1
            stats["rss_max_mb"] = max(stats["rss_max_mb"], rss_now_mb())

    started = time.perf_counter()
    await application(scope, receive, send)
    stats["seconds"] = time.perf_counter() - started
    return stats


def measure(token: str, *, query: str = "format=csv") -> dict[str, Any]:
    from asgiref.sync import async_to_sync

    gc.collect()
    before = rss_now_mb()
    # async_to_sync na thread principal: as partes síncronas do Django (autenticação, view)
    # rodam nesta thread, a mesma do banco SQLite em memória do bench.
    stats = async_to_sync(export_via_asgi)(token, query)
    stats["rss_before_mb"] = before
    stats["rss_growth_mb"] = stats["rss_max_mb"] - before
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--control", action="store_true", help="mede também o corpo síncrono (o que não fazer)")
    parser.add_argument("--json", help="grava o resultado neste arquivo")
    args = parser.parse_args()

    from django.core.management import call_command
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User

    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench-export")
    history = History(datetime.now(UTC).replace(microsecond=0))
    # A exportação lê os eventos, não as agregações: sem rebuild_rollups.
    load_s = history.grow_to(args.events)
    print(f"# {args.events} eventos carregados em {load_s:.1f} s", flush=True)
    # O token de acesso vale 10 min: emitido depois da carga, que pode levar mais que isso.
    token = str(AccessToken.for_user(user))

    warmup = measure(token, query="format=csv&range=1h")
    assert warmup["status"] == 200, warmup
    result: dict[str, Any] = {"events": args.events, "target_mb": TARGET_MB, "asgi_async": measure(token)}
    streamed = result["asgi_async"]
    assert streamed["status"] == 200, streamed
    assert streamed["lines"] == args.events + 1, streamed  # cabeçalho + uma linha por evento
    print(
        f"# exportação CSV (corpo assíncrono, ASGI): {streamed['lines'] - 1} linhas, "
        f"{streamed['bytes'] / 2**20:.1f} MB em {streamed['chunks']} pedaços, {streamed['seconds']:.1f} s "
        f"({(streamed['lines'] - 1) / streamed['seconds']:.0f} linhas/s); "
        f"RSS {streamed['rss_before_mb']:.0f} → máx. {streamed['rss_max_mb']:.0f} MB "
        f"(crescimento {streamed['rss_growth_mb']:.1f} MB; alvo ≤ {TARGET_MB:.0f} MB: "
        f"{'passa' if streamed['rss_growth_mb'] <= TARGET_MB else 'NÃO passa'})",
        flush=True,
    )

    if args.control:
        from unittest import mock

        from events.export import ExportStream

        # Controle: um corpo síncrono sob ASGI (o Django o junta numa lista antes de enviar).
        with mock.patch("events.api.AsyncExportStream", ExportStream):
            control = measure(token)
        result["asgi_sync_control"] = control
        print(
            f"# controle (corpo síncrono sob ASGI): RSS {control['rss_before_mb']:.0f} → máx. "
            f"{control['rss_max_mb']:.0f} MB (crescimento {control['rss_growth_mb']:.1f} MB)",
            flush=True,
        )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    print(f"# fim: {time.strftime('%H:%M:%S')}", flush=True)


if __name__ == "__main__":
    main()
