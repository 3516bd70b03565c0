"""Um worker da aplicação num processo próprio, para o teste de "exatamente uma vez" (``test_two_workers.py``).

``python -m tests.events.alerts.alert_worker setup`` — migra o banco relacional (arquivo
SQLite compartilhado) e cria as regras; imprime os ids em JSON.

``python -m tests.events.alerts.alert_worker run <entregas.jsonl>`` — carrega o Django com
``MONGO_URI`` apontando para o mongowire (``MongoStore`` de produção), imprime ``ready`` e
espera uma linha no stdin para cada fase (``go``): processa as entregas da fase com
``process_delivery`` em 4 threads ao mesmo tempo e imprime os status em JSON. ``quit`` encerra.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from events.alerts.models import AlertRule  # noqa: E402
from events.webhook import Delivery, process_delivery  # noqa: E402

RULES: list[dict[str, Any]] = [
    {"name": "Saque alto", "kind": "threshold", "event_type": "withdraw", "op": ">", "threshold": 5000},
    {"name": "Logins falhos", "kind": "frequency", "event_type": "login_failed", "count": 3, "window_seconds": 300},
    {"name": "Depósito atípico", "kind": "anomaly", "event_type": "deposit", "z_score": 10, "min_samples": 5},
    {
        "name": "Depósito e saque",
        "kind": "sequence",
        "first_type": "deposit",
        "second_type": "withdraw",
        "window_seconds": 600,
        "min_ratio": 0.9,
    },
]
# Sem repetição por uma hora: dois gatilhos do mesmo usuário em processos diferentes não viram dois alertas.
COOLDOWN = {"threshold": 0, "frequency": 3600, "anomaly": 0, "sequence": 3600}


def setup() -> None:
    call_command("migrate", interactive=False, verbosity=0)
    ids = {}
    for fields in RULES:
        rule = AlertRule.objects.create(cooldown_seconds=COOLDOWN[fields["kind"]], **fields)
        ids[rule.kind] = rule.id
    print(json.dumps(ids), flush=True)


def deliver(item: dict[str, Any]) -> int:
    body = item["body"].encode()
    request = RequestFactory().post("/api/webhook/event", data=body, content_type="application/json")
    headers = {name.lower(): value for name, value in item["headers"].items()}
    return process_delivery(Delivery(headers, body, "127.0.0.1", len(body), request)).status


def run(path: str) -> None:
    phases: list[list[dict[str, Any]]] = json.loads(Path(path).read_text())
    print("ready", flush=True)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for phase in phases:
            command = sys.stdin.readline().strip()
            if command != "go":
                return
            print(json.dumps(list(pool.map(deliver, phase))), flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup()
    else:
        run(sys.argv[2])
