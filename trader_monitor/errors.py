"""Um só formato de erro para toda a API: ``{"error", "detail", "fields"?}``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from trader_monitor.exceptions import CodedAuthenticationFailed, DependencyUnavailable
from trader_monitor.logging import request_id_var

_CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid_request",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_429_TOO_MANY_REQUESTS: "rate_limited",
}


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(name): [str(item) for item in (value if isinstance(value, list) else [value])]
            for name, value in detail.items()
        }
    return {}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DependencyUnavailable):
        return Response(
            {"error": exc.code, "detail": _("Armazenamento indisponível; tente novamente.")},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(exc.retry_after_seconds)},
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    body: dict[str, Any] = {"error": _CODES.get(response.status_code, "error")}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not fields and isinstance(exc.detail, list):
            fields = {"non_field_errors": [str(item) for item in exc.detail]}
        body["detail"] = _("Parâmetros inválidos: %(names)s.") % {"names": ", ".join(sorted(fields))}
        body["fields"] = fields
    elif isinstance(exc, exceptions.Throttled):
        body["detail"] = _("Limite de requisições excedido; tente novamente em %(n)d s.") % {
            "n": getattr(exc, "wait", None) or 1
        }
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        body["detail"] = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        code = getattr(exc, "default_code", None)
        if isinstance(exc.get_codes(), str):
            code = exc.get_codes()
        if code and (response.status_code not in _CODES or isinstance(exc, CodedAuthenticationFailed)):
            body["error"] = code
    response.data = body
    return response


# --- 404 e 500 fora das views da API (handler404/handler500 em urls.py) ---------------
# Com DJANGO_DEBUG desligado o Django nunca mostra a página de depuração; aqui garantimos
# que quem fala JSON (/api/…) recebe JSON no formato de erro da API, sem rastros internos.
# O traceback do 500 vai para o log (logger django.request), com o id da requisição.


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"error": "not_found", "detail": _("Recurso não encontrado.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        rid = request_id_var.get()
        body = {
            "error": "server_error",
            "detail": _("Erro interno. Se persistir, informe o id %(rid)s.") % {"rid": rid},
            "requestId": rid,
        }
        return JsonResponse(body, status=500)
    return defaults.server_error(request)
