"""``manage.py demo`` (``make demo``) — o Trader Monitor inteiro num só processo.

SQLite + mongomock + camada de canais em memória: migra, cria o admin da demo,
semeia o histórico, garante os índices, sobe o app ASGI com o uvicorn e mantém um
feed sintético ao vivo que entrega eventos assinados pelo caminho HTTP real do
webhook (``POST /api/webhook/event`` neste mesmo servidor). Ctrl-C encerra com
limpeza: para o feed, para o servidor e grava as agregações pendentes.

O armazenamento de eventos fica em memória: tudo some quando o processo termina.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import socket
import threading
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import httpx
import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from events import webhook
from events.alerts.demo import RECEIVER_PATH, SenderThread, demo_notifications_seed
from events.management.commands.seed import DEFAULT_DAYS, DEFAULT_SEED, DEFAULT_USERS, user_ensure
from events.management.commands.send_event import curl_command, delivery_build
from events.store import get_store
from events.synthetic import Market, history_seed, signed_headers, webhook_secret_generate
from events.windows import isoformat

logger = logging.getLogger("events.demo")

# Medido no mongomock (2 núcleos): com 15 mil eventos a primeira página da
# listagem sem filtro leva ~0,8 s (cresce linearmente: ~50 ms por mil eventos),
# filtrada por 24h ~0,13 s, e resumo/série de 30 dias ~0,11 s (vêm dos rollups).
DEFAULT_EVENTS = 15_000
DEFAULT_RATE = 2.0


class _Shutdown(Exception):
    """Sinal de parada (SIGINT/SIGTERM) recebido."""


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise _Shutdown(signal.Signals(signum).name)


class LiveFeed(threading.Thread):
    """Entrega eventos sintéticos assinados ao próprio servidor, em rajadas."""

    def __init__(
        self,
        *,
        url: str,
        secret: str,
        market: Market,
        rate: float,
        is_ready: Callable[[], bool],
        is_stopping: Callable[[], bool],
    ) -> None:
        super().__init__(name="demo-live-feed", daemon=True)
        self.url = url
        self.secret = secret
        self.market = market
        self.rate = rate
        self.is_ready = is_ready
        self.is_stopping = is_stopping
        self.stop_event = threading.Event()
        self.statuses: Counter[int] = Counter()
        self._run_token = uuid.uuid4().hex[:8]

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        while not self.is_ready():
            if self.stop_event.wait(0.1):
                return
        with httpx.Client(timeout=5.0) as client:
            stream = self.market.live(rate=self.rate, clock=lambda: datetime.now(UTC))
            for number, (delay, payload) in enumerate(stream):
                if self.stop_event.wait(delay) or self.is_stopping():
                    return
                payload["timestamp"] = isoformat(datetime.now(UTC))
                self._deliver(client, number, payload)

    def _deliver(self, client: httpx.Client, number: int, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = signed_headers(secret=self.secret, body=body, msg_id=f"demo_{self._run_token}_{number}")
        try:
            response = client.post(self.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            logger.warning("feed ao vivo: entrega falhou (%s); tentando de novo em 1 s", exc)
            self.stop_event.wait(1.0)
            return
        self.statuses[response.status_code] += 1
        delivered = sum(self.statuses.values())
        if delivered == 1 or delivered % 500 == 0:
            logger.warning(
                "feed ao vivo: %d eventos entregues (respostas: %s)",
                delivered,
                ", ".join(f"{code}×{n}" for code, n in sorted(self.statuses.items())),
            )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise CommandError(f"não foi possível usar {host}:{port} ({exc}); tente make demo PORT=8001") from None
    sock.set_inheritable(True)
    return sock


class Command(BaseCommand):
    help = "Demo completa num processo: migra, cria o admin, semeia, gera eventos ao vivo e serve em 127.0.0.1."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="Eventos do histórico semeado.")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS)
        parser.add_argument("--users", type=int, default=DEFAULT_USERS)
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
        parser.add_argument("--rate", type=float, default=DEFAULT_RATE, help="Eventos ao vivo por segundo (média).")
        parser.add_argument("--no-live", action="store_true", help="Sem feed sintético ao vivo.")
        parser.add_argument("--admin-username", default=os.environ.get("DEMO_ADMIN_USERNAME", "admin"))
        parser.add_argument("--access-log", action="store_true", help="Uma linha de log por requisição.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rate"] <= 0:
            raise CommandError("--rate deve ser > 0")
        host, port = options["host"], options["port"]
        sock = _bind(host, port)
        try:
            self._run(sock, options)
        finally:
            sock.close()

    def _run(self, sock: socket.socket, options: dict[str, Any]) -> None:
        host = options["host"]
        port = sock.getsockname()[1]
        base_url = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        if not options["access_log"]:
            for name in ("trader_monitor.access", "httpx", "httpcore"):
                logging.getLogger(name).setLevel(logging.WARNING)
        # O WhiteNoise entrega arquivos estáticos com iteradores síncronos; sob ASGI o
        # Django avisa a cada arquivo. Na demo isso é só ruído.
        warnings.filterwarnings("ignore", message="StreamingHttpResponse must consume synchronous iterators")

        secret = self._configure_webhook_secret()
        store = get_store()
        if store.kind != "in-memory":
            self.stdout.write(self.style.WARNING("MONGO_URI aponta para um MongoDB real: a demo vai gravar nele."))

        self.stdout.write("Aplicando migrações…")
        call_command("migrate", interactive=False, verbosity=0)
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or secrets.token_urlsafe(9)
        user_ensure(username=options["admin_username"], password=password, admin=True, reset=True)

        self.stdout.write(f"Semeando {options['events']} eventos dos últimos {options['days']} dias…")
        with tqdm(total=options["events"], unit="ev", disable=not self.stdout.isatty()) as bar:
            seeded = history_seed(
                seed=options["seed"],
                events=options["events"],
                days=options["days"],
                users=options["users"],
                now=datetime.now(UTC),
                progress=bar.update,
            )
        store.ensure_indexes()
        demo_endpoint = demo_notifications_seed(base_url=base_url)

        server = uvicorn.Server(
            uvicorn.Config(
                "trader_monitor.asgi:application",
                lifespan="off",
                log_level="warning",
                access_log=False,
                proxy_headers=False,
            )
        )
        feed: LiveFeed | None = None
        if not options["no_live"]:
            feed = LiveFeed(
                url=f"{base_url}{webhook.ROUTE}",
                secret=secret,
                market=Market(seed=options["seed"] + 1, users=options["users"]),
                rate=options["rate"],
                is_ready=lambda: server.started,
                is_stopping=lambda: server.should_exit,
            )
            feed.start()
        # O remetente de notificações roda aqui dentro: o armazenamento em memória é deste processo.
        notifications = SenderThread()
        notifications.start()

        self._banner(base_url, options, password, secret, seeded.inserted, feed is not None)
        self.stdout.write(
            f"  Notificações:  regras da demo → {base_url}{RECEIVER_PATH} (confere a assinatura); entregas em "
            f"{base_url}/admin/alerts/notificationendpoint/{demo_endpoint.pk}/deliveries/\n"
        )
        previous = {sig: signal.signal(sig, _raise_shutdown) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            server.run(sockets=[sock])
        except _Shutdown:
            pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if feed is not None:
                feed.stop()
                feed.join(timeout=10)
            notifications.stop()
            notifications.join(timeout=10)
            store.close()
        delivered = sum(feed.statuses.values()) if feed else 0
        self.stdout.write(f"Demo encerrada ({delivered} eventos ao vivo entregues; agregações gravadas).")

    def _configure_webhook_secret(self) -> str:
        """Usa o WEBHOOK_SECRET do ambiente ou gera um só para esta execução."""
        if settings.WEBHOOK_SECRETS:
            secret: str = settings.WEBHOOK_SECRETS[0]
        else:
            secret = webhook_secret_generate()
            settings.WEBHOOK_SECRETS = [secret]
        webhook.verifiers.cache_clear()
        return secret

    def _banner(
        self, base_url: str, options: dict[str, Any], password: str, secret: str, seeded: int, live: bool
    ) -> None:
        body, headers = delivery_build(secret=secret)
        curl = curl_command(url=f"{base_url}{webhook.ROUTE}", headers=headers, body=body)
        feed = f"{options['rate']:g} eventos/s em média, em rajadas" if live else "desligado (--no-live)"
        lines = [
            "",
            self.style.SUCCESS("Trader Monitor — demo no ar"),
            f"  Painel:        {base_url}/",
            f"  Admin:         {base_url}/admin/",
            f"  API (Swagger): {base_url}/api/docs/",
            f"  Socket.IO:     {base_url}/socket.io/ (namespaces / e /dashboard; auth: {{token}})",
            f"  Métricas:      {base_url}/metrics",
            f"  Login:         {options['admin_username']} / {password}",
            f"  Histórico:     {seeded} eventos novos, {options['days']} dias (armazenamento em memória)",
            f"  Feed ao vivo:  {feed}",
            f"  WEBHOOK_SECRET={secret}",
            "",
            "  Envie um evento assinado (assinatura válida por 5 minutos):",
            f"  {curl}",
            "",
            "  Para um curl novo a qualquer momento:",
            "  DJANGO_DEBUG=true WEBHOOK_SECRET=" + secret + " .venv/bin/python manage.py send_event \\",
            f"      --url {base_url}{webhook.ROUTE} --curl",
            "",
            "  Ctrl-C encerra.",
            "",
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
