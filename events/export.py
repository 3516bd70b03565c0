"""Exportação de eventos em CSV (RFC 4180) e NDJSON, em fluxo e com memória constante.

O corpo sai em pedaços, um por lote de eventos lido do armazenamento
(``selectors.event_iter``, que pagina por chave): a memória usada não depende de
quantos eventos a janela tem, só do tamanho do lote.

Sob ASGI o Django consome iteradores síncronos de ``StreamingHttpResponse`` juntando
tudo numa lista antes de enviar (``sync_to_async(list)``); por isso há duas formas
do mesmo fluxo: ``ExportStream`` (síncrona, para o cliente de testes e WSGI) e
``AsyncExportStream`` (assíncrona), que busca cada lote no pool do armazenamento
(``run_store``) — o laço de eventos nunca espera o banco.

CSV: cabeçalho, separador vírgula, fim de linha CRLF e aspas quando preciso (RFC
4180). Texto vindo de fora (``userId``, ``type``, ``metadata``) que começa com ``=``,
``+``, ``-``, ``@``, tabulação ou CR ganha um apóstrofo na frente (OWASP "CSV
Injection"): a planilha mostra o texto em vez de executar uma fórmula. ``value`` não
passa por isso: é um número formatado por nós (``-12.5`` é um número negativo para a
planilha, não uma fórmula), e um apóstrofo o transformaria em texto.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from events.store import run_store

ExportFormatName = Literal["csv", "ndjson"]
CSV_COLUMNS: tuple[str, ...] = ("id", "userId", "type", "value", "timestamp", "receivedAt", "metadata")
# Primeiro caractere que faz uma planilha interpretar a célula como fórmula (OWASP).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportFormat:
    name: ExportFormatName
    content_type: str
    extension: str


EXPORT_FORMATS: dict[str, ExportFormat] = {
    "csv": ExportFormat("csv", "text/csv; charset=utf-8; header=present", "csv"),
    "ndjson": ExportFormat("ndjson", "application/x-ndjson; charset=utf-8", "ndjson"),
}


def neutralize(text: str) -> str:
    """Texto seguro para uma célula de planilha: fórmulas viram texto com um apóstrofo na frente."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_row(event: dict[str, Any]) -> list[str]:
    """Uma linha do CSV a partir da forma pública do evento (``event_to_json``)."""
    metadata = event.get("metadata")
    return [
        event["id"],
        neutralize(event["userId"]),
        neutralize(event["type"]),
        repr(float(event["value"])),
        event["timestamp"],
        event["receivedAt"],
        "" if metadata is None else neutralize(_compact_json(metadata)),
    ]


def encode_csv(events: Iterable[dict[str, Any]], *, header: bool) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    if header:
        writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(event) for event in events)
    return buffer.getvalue().encode()


def encode_ndjson(events: Iterable[dict[str, Any]]) -> bytes:
    return "".join(_compact_json(event) + "\n" for event in events).encode()


def _compact_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def filename(fmt: ExportFormat, *, now: datetime) -> str:
    return f"eventos-{now:%Y%m%dT%H%M%SZ}.{fmt.extension}"


class ChunkSource:
    """Lê um lote do iterador de eventos e o codifica; ``None`` quando acabou.

    Guarda só a posição do iterador (o cursor do armazenamento), nunca os eventos já
    enviados. O cabeçalho do CSV vai no primeiro pedaço, mesmo sem eventos.

    ``close`` pode chegar de outra thread enquanto um lote ainda está sendo lido (o
    cliente desconectou e o Django fecha a resposta): o gerador não pode ser fechado
    no meio de um ``next``, então o fechamento fica para o fim desse lote.
    """

    def __init__(self, events: Iterator[dict[str, Any]], fmt: ExportFormat, *, batch_size: int) -> None:
        self._events = events
        self._fmt = fmt
        self._batch_size = batch_size
        self._started = False
        self._done = False
        self._pending: bytes | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Lê o primeiro lote já (erros do armazenamento aparecem antes do status 200)."""
        self._pending = self._read()

    def next_chunk(self) -> bytes | None:
        if self._pending is not None:
            chunk, self._pending = self._pending, None
            return chunk
        return self._read()

    def _read(self) -> bytes | None:
        with self._lock:
            if self._done:
                self._release()
                return None
            batch = list(itertools.islice(self._events, self._batch_size))
            first = not self._started
            self._started = True
            if len(batch) < self._batch_size:
                self._done = True
            chunk = encode_csv(batch, header=first) if self._fmt.name == "csv" else encode_ndjson(batch)
            if self._done:
                self._release()
            return None if not chunk and self._done else chunk

    def close(self) -> None:
        """Solta o cursor do armazenamento (fim da resposta ou cliente que desconectou)."""
        self._done = True
        if self._lock.acquire(blocking=False):
            try:
                self._release()
            finally:
                self._lock.release()

    def _release(self) -> None:
        close: Callable[[], None] | None = getattr(self._events, "close", None)
        if close is not None:
            close()


class ExportStream:
    """Corpo síncrono da resposta (um pedaço por lote)."""

    def __init__(self, source: ChunkSource) -> None:
        self._source = source

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := self._source.next_chunk()) is not None:
            yield chunk

    def close(self) -> None:
        self._source.close()


class AsyncExportStream:
    """Corpo assíncrono: cada lote é lido e codificado no pool do armazenamento (``run_store``)."""

    def __init__(self, source: ChunkSource) -> None:
        self._source = source

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await run_store(self._source.next_chunk)) is not None:
            yield chunk

    def close(self) -> None:
        # O Django chama ``close`` (numa thread) quando a resposta termina ou o cliente cai.
        self._source.close()
