"""Middleware de acesso: id de requisição, uma linha de log e métricas por rota."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

from trader_monitor import metrics
from trader_monitor.logging import access_line_wanted, request_id_from_header, request_id_var

logger = logging.getLogger("trader_monitor.access")


def _route_of(request: HttpRequest) -> str:
    # Usamos o padrão da rota (não o caminho) para não explodir a cardinalidade.
    match = getattr(request, "resolver_match", None)
    if match is not None and match.route:
        return "/" + str(match.route)
    return "unmatched"


def _finish(request: HttpRequest, response: HttpResponseBase, started: float, rid: str) -> None:
    duration = time.perf_counter() - started
    route = _route_of(request)
    response["X-Request-ID"] = rid
    metrics.observe_http(request.method or "", route, response.status_code, duration)
    sample = access_line_wanted(response.status_code)
    if not sample:
        return
    extra: dict[str, Any] = {
        "method": request.method,
        "path": request.path,
        "route": route,
        "status": response.status_code,
        "duration_ms": round(duration * 1000, 2),
    }
    if sample > 1:
        extra["sample"] = sample
    level = logging.ERROR if response.status_code >= 500 else logging.INFO
    logger.log(level, "%s %s %s", request.method, request.path, response.status_code, extra=extra)


def request_log_middleware(get_response: Callable[[HttpRequest], Any]) -> Any:
    """Funciona em modo síncrono e assíncrono, sem saltos de thread extras."""
    if iscoroutinefunction(get_response):
        async_get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = get_response

        async def async_middleware(request: HttpRequest) -> HttpResponseBase:
            rid = request_id_from_header(request.headers.get("X-Request-ID"))
            token = request_id_var.set(rid)
            started = time.perf_counter()
            try:
                response = await async_get_response(request)
                _finish(request, response, started, rid)
                return response
            finally:
                request_id_var.reset(token)

        markcoroutinefunction(async_middleware)
        return async_middleware

    def middleware(request: HttpRequest) -> HttpResponseBase:
        rid = request_id_from_header(request.headers.get("X-Request-ID"))
        token = request_id_var.set(rid)
        started = time.perf_counter()
        try:
            response: HttpResponseBase = get_response(request)
            _finish(request, response, started, rid)
            return response
        finally:
            request_id_var.reset(token)

    return middleware


request_log_middleware.sync_capable = True  # type: ignore[attr-defined]
request_log_middleware.async_capable = True  # type: ignore[attr-defined]
