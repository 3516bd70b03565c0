"""Verificações de saúde: vivacidade e prontidão (armazenamento respondendo)."""

from __future__ import annotations

import concurrent.futures

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from events.store import get_store

READY_TIMEOUT_SECONDS = 2.0
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=2, thread_name_prefix="health")


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """200 enquanto o processo vive."""
    return JsonResponse({"status": "ok"})


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    """200 quando o MongoDB responde a um ping em até 2 s; senão 503."""
    future = _pool.submit(get_store().ping)
    try:
        store_ok = future.result(timeout=READY_TIMEOUT_SECONDS)
    except concurrent.futures.TimeoutError:
        store_ok = False
    checks = {"store": "ok" if store_ok else "unavailable"}
    if not store_ok:
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503, headers={"Retry-After": "5"})
    return JsonResponse({"status": "ok", "checks": checks})
