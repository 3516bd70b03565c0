"""O que ``make demo`` semeia para as notificações: um destino no receptor embutido e regras.

As regras foram escolhidas para disparar com o feed sintético (``events/synthetic.py``,
2 eventos/s em média): saques são ~5% do feed (um a cada ~10 s) com valor mediano perto
de R$ 2.000 × a riqueza do trader; compras são ~38%, e os traders mais ativos (atividade
de Pareto) fazem várias por minuto. Simulado sobre o ``Market`` com 200 traders e quatro
sementes, o limite e a frequência disparam em até ~25 s; a sequência, às vezes em 1 min.
"""

from __future__ import annotations

import threading

from events.alerts.models import AlertRule, NotificationEndpoint
from events.alerts.sender import Sender

RECEIVER_PATH = "/demo/receiver/"
DEMO_DESCRIPTION = "Receptor embutido da demo"

DEMO_RULES = [
    {
        "name": "Saque alto",
        "kind": AlertRule.Kind.THRESHOLD,
        "severity": AlertRule.Severity.CRITICAL,
        "event_type": "withdraw",
        "op": AlertRule.Op.GTE,
        "threshold": 2500.0,
        "cooldown_seconds": 60,
    },
    {
        "name": "Rajada de compras",
        "kind": AlertRule.Kind.FREQUENCY,
        "severity": AlertRule.Severity.WARNING,
        "event_type": "purchase",
        "count": 3,
        "window_seconds": 120,
        "cooldown_seconds": 120,
    },
    {
        "name": "Depósito seguido de saque",
        "kind": AlertRule.Kind.SEQUENCE,
        "severity": AlertRule.Severity.INFO,
        "first_type": "deposit",
        "second_type": "withdraw",
        "window_seconds": 600,
        "min_ratio": 0.5,
        "cooldown_seconds": 300,
    },
]


def demo_notifications_seed(*, base_url: str) -> NotificationEndpoint:
    """Garante o destino da demo (apontado para este servidor) e as regras que o notificam."""
    url = f"{base_url}{RECEIVER_PATH}"
    endpoint, _created = NotificationEndpoint.objects.update_or_create(
        description=DEMO_DESCRIPTION,
        defaults={"url": url, "enabled": True, "consecutive_failures": 0, "disabled_at": None, "disabled_reason": ""},
    )
    for spec in DEMO_RULES:
        rule, _ = AlertRule.objects.update_or_create(name=spec["name"], defaults={**spec, "enabled": True})
        rule.notify.add(endpoint)
    return endpoint


class SenderThread(threading.Thread):
    """O remetente de notificações dentro do processo da demo (o armazenamento é em memória)."""

    def __init__(self) -> None:
        super().__init__(name="demo-notifications", daemon=True)
        self.stop_event = threading.Event()

    def run(self) -> None:
        sender = Sender()
        try:
            sender.run_forever(self.stop_event)
        finally:
            sender.close()

    def stop(self) -> None:
        self.stop_event.set()
