"""``manage.py deliver_notifications`` — o remetente das notificações de alertas.

Em laço: reivindica as entregas vencidas da caixa de saída (MongoDB), envia cada uma
assinada e agenda as novas tentativas. Vários processos podem rodar juntos (a concessão
impede envios simultâneos da mesma tentativa). ``--once`` envia o que venceu e sai.
SIGTERM/SIGINT terminam a entrega em curso e saem.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from events.alerts.sender import Sender


class Command(BaseCommand):
    help = "Envia as notificações de alertas pendentes (Standard Webhooks), com novas tentativas agendadas."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Envia o que está vencido agora e sai.")
        parser.add_argument("--poll-seconds", type=float, default=None, help="Espera quando não há nada vencido.")

    def handle(self, *args: Any, **options: Any) -> None:
        sender = Sender()
        try:
            if options["once"]:
                sent = sender.run_once()
                self.stdout.write(f"{sent} tentativa(s) de entrega.")
                return
            stop = threading.Event()

            def _stop(signum: int, frame: FrameType | None) -> None:
                stop.set()

            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, _stop)
            self.stdout.write(f"Remetente de notificações no ar ({sender.owner}).")
            sender.run_forever(stop, poll_seconds=options["poll_seconds"])
        finally:
            sender.close()
