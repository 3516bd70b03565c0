"""Fixtures das notificações: um receptor HTTP de verdade, relógio manual e usuários.

O receptor (``Receiver``) é um ``http.server`` em 127.0.0.1, numa thread, que responde
conforme um roteiro (status, ou ``"timeout"``: demora mais que o prazo do remetente) e
confere cada assinatura com ``standardwebhooks.Webhook(secret).verify``.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import override_settings
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.accounts.factories import bearer_client, make_user

# Quanto o receptor segura uma resposta "timeout": bem acima do prazo de leitura dos testes.
SLOW_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 0.2


@dataclass
class Received:
    webhook_id: str
    payload: dict[str, Any] | None
    headers: dict[str, str]


@dataclass
class Receiver:
    """Roteiro de respostas e o que chegou (com a assinatura já conferida)."""

    secret: str = ""
    script: list[int | str] = field(default_factory=list)
    default: int = 200
    received: list[Received] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def next_response(self) -> int | str:
        with self.lock:
            return self.script.pop(0) if self.script else self.default

    def record(self, body: str, headers: dict[str, str]) -> None:
        try:
            payload: dict[str, Any] | None = Webhook(self.secret).verify(body, headers)
        except (WebhookVerificationError, ValueError):
            payload = None
        with self.lock:
            self.received.append(Received(headers.get("webhook-id", ""), payload, headers))


def _handler(receiver: Receiver) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length).decode()
            receiver.record(body, {name.lower(): value for name, value in self.headers.items()})
            answer = receiver.next_response()
            if answer == "timeout":
                receiver.release.wait(SLOW_SECONDS)
                answer = 200
            payload = json.dumps({"ok": True}).encode()
            try:
                self.send_response(int(answer))
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # o remetente desistiu (prazo esgotado) e fechou a conexão
                return

        def log_message(self, format: str, *args: Any) -> None:
            """Silencioso."""

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port() -> int:
    """Uma porta local sem ninguém escutando (conexão recusada)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Clock:
    """Relógio manual do remetente: ``advance`` em vez de dormir."""

    def __init__(self) -> None:
        # Um pouco à frente do relógio real: o que acabou de ser enfileirado já venceu.
        self.now = datetime.now(UTC) + timedelta(seconds=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def allow_private() -> Iterator[None]:
    """O receptor de teste está em 127.0.0.1: só alcançável com NOTIFY_ALLOW_PRIVATE."""
    with override_settings(NOTIFY_ALLOW_PRIVATE=True, NOTIFY_TIMEOUT_SECONDS=READ_TIMEOUT_SECONDS):
        yield


@pytest.fixture
def staff() -> APIClient:
    return bearer_client(make_user("chefe", staff=True))


@pytest.fixture
def analyst() -> APIClient:
    return bearer_client(make_user("ana"))
