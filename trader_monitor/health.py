"""Verificações de saúde: vivacidade e prontidão.

A prontidão consulta as dependências que os apps registram (``register_readiness``,
chamado no ``AppConfig.ready`` de cada app): o projeto não conhece os apps.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

READY_TIMEOUT_SECONDS = 2.0
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")


@dataclass(frozen=True)
class ReadinessCheck:
    """Uma dependência: ``probe`` responde se ela está no ar; ``describe`` diz o que ela é."""

    name: str
    probe: Callable[[], bool]
    describe: Callable[[], str] | None = None


_checks: dict[str, ReadinessCheck] = {}


def register_readiness(name: str, probe: Callable[[], bool], *, describe: Callable[[], str] | None = None) -> None:
    _checks[name] = ReadinessCheck(name, probe, describe)


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 enquanto o processo vive."""
    return JsonResponse({"status": "ok"})


def _probe(check: ReadinessCheck) -> bool:
    future = _pool.submit(check.probe)
    try:
        return bool(future.result(timeout=READY_TIMEOUT_SECONDS))
    except concurrent.futures.TimeoutError:
        return False


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """200 quando toda dependência registrada responde em até 2 s; senão 503.

    O corpo diz também o que cada uma é (ex.: ``"store": "in-memory"``): um armazenamento
    em memória fora da demo é visível para quem opera.
    """
    checks = {name: ("ok" if _probe(check) else "unavailable") for name, check in _checks.items()}
    body: dict[str, object] = {
        "status": "ok" if all(state == "ok" for state in checks.values()) else "unavailable",
        "checks": checks,
    }
    body.update({name: check.describe() for name, check in _checks.items() if check.describe is not None})
    if body["status"] != "ok":
        return JsonResponse(body, status=503, headers={"Retry-After": "5"})
    return JsonResponse(body)
