"""Gerador em malha aberta: pedidos brutos, leitura de respostas e latência desde o instante devido."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench.openloop import build_request, parse_status_and_length, run_open_loop


def test_raw_request_carries_the_length_and_the_signed_headers() -> None:
    raw = build_request("h:1", "/api/webhook/event", {"webhook-id": "msg_1", "Content-Length": "999"}, '{"a": "é"}')

    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.splitlines() == [
        b"POST /api/webhook/event HTTP/1.1",
        b"Host: h:1",
        b"Content-Length: 11",
        b"webhook-id: msg_1",
    ]
    assert body == '{"a": "é"}'.encode()


def test_response_head_yields_status_and_content_length() -> None:
    head = b"HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nContent-Length: 42\r\n\r\n"

    assert parse_status_and_length(head) == (201, 42)


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.lower() == b"content-length":
            return int(value)
    return 0


@pytest.fixture
async def held_server() -> AsyncIterator[str]:
    """Servidor HTTP mínimo que segura a 1ª resposta até chegar o 5º pedido (sem dormir)."""
    arrived = 0
    fifth = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal arrived
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = content_length(head)
                await reader.readexactly(length)
                arrived += 1
                if arrived == 5:
                    fifth.set()
                if arrived == 1:
                    await fifth.wait()
                writer.write(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}"


async def test_open_loop_keeps_the_schedule_while_a_response_is_held(held_server: str) -> None:
    requests = [build_request("x", "/", {}, "{}") for _ in range(10)]

    result = await run_open_loop(held_server, requests, rate=100, seconds=0.1)

    assert result.sent == 10
    assert result.statuses == {201: 10}
    assert result.errors == {}
    # Com a 1ª conexão presa, os pedidos seguintes não esperam: saem por conexões novas.
    assert result.connections >= 2
    # A 1ª resposta só sai depois que o 5º pedido foi enviado, 40 ms depois do instante
    # devido do 1º (a 100/s): a latência conta desde o instante devido, não do envio.
    assert max(result.latencies_ms) >= 40


async def test_open_loop_refuses_a_schedule_longer_than_the_distinct_requests(held_server: str) -> None:
    with pytest.raises(ValueError, match="faltam pedidos"):
        await run_open_loop(held_server, [b""], rate=10, seconds=1)
