"""Acerto de cache do resumo pela view real: tempo no cliente de testes e no servidor.

O tempo de servidor é o que o middleware de acesso mede (a camada mais externa do
Django), lido do próprio registro de log; o do cliente inclui o ``APIClient``.

Uso: ``PYTHONPATH=. .venv/bin/python -m bench.summary_cache_hit [--requests 300]``
(mongomock e SQLite em memória, em processo).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402

from accounts.models import User  # noqa: E402

URL = "/api/events/summary?range=30d"


class _Durations(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.values.append(float(getattr(record, "duration_ms", 0.0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    setup_test_environment()
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench", "bench@example.com", "senha-de-bench-123")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    first = client.get(URL)
    if first.status_code != 200:
        raise SystemExit(f"resumo respondeu {first.status_code}: {first.content!r}")

    durations = _Durations()
    access = logging.getLogger("trader_monitor.access")
    access.addHandler(durations)
    access.setLevel(logging.INFO)
    client_ms: list[float] = []
    for _ in range(args.requests):
        started = time.perf_counter()
        response = client.get(URL)
        client_ms.append((time.perf_counter() - started) * 1000)
        if not response.json()["cached"]:
            raise SystemExit("esperava acerto de cache")
    print(f"acertos de cache: {args.requests}")
    print(f"cliente (APIClient) mediana: {statistics.median(client_ms):.3f} ms")
    print(f"servidor (middleware) mediana: {statistics.median(durations.values):.3f} ms")


if __name__ == "__main__":
    main()
