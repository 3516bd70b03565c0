"""B1 — o teto: app ASGI nu que lê e interpreta o mesmo corpo JSON e responde 201.

Sem Django, sem assinatura, sem armazenamento: mede só o servidor ASGI + leitura do
corpo + ``json.loads``/``json.dumps``. Servido pelo mesmo servidor e com o mesmo
número de workers da configuração comparada (ver ``bench/run.py``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def application(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    if scope["path"] == "/api/health":
        status, payload = 200, b'{"status":"ok"}'
    else:
        data = json.loads(b"".join(chunks))
        status = 201 if isinstance(data, dict) else 400
        payload = json.dumps({"id": uuid.uuid4().hex[:24], "duplicate": False}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
