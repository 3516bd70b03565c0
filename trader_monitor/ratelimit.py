"""Limites de taxa da API: django-ratelimit por trás das classes de throttle do DRF.

O DRF consulta os throttles depois da autenticação; um excesso vira ``Throttled``
(429 + ``Retry-After``). Os contadores ficam no cache do Django (Redis quando
``REDIS_URL`` está definido), então valem para todos os processos.

Cada rota pode ter limite próprio em ``API_RATE_LIMITS`` (chave = nome da rota);
as demais dividem o limite ``default``, contado por usuário autenticado ou, sem
login, por IP. Login e cadastro contam por IP+usuário.

Se o cache cair, o limite global falha aberto (a API segue no ar) e login/cadastro
falham fechados: 503 com ``Retry-After`` — nunca 500, nunca tentativas ilimitadas
de senha.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_ratelimit.core import get_usage
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

if TYPE_CHECKING:  # rest_framework.views importa este módulo (DEFAULT_THROTTLE_CLASSES)
    from rest_framework.views import APIView

logger = logging.getLogger(__name__)

DISABLED = frozenset({"", "off", "none"})
DEFAULT_SCOPE = "default"
MAX_USERNAME_KEY = 150


class RateLimitUnavailable(exceptions.APIException):
    """O contador de tentativas está inacessível e a rota não pode ficar sem limite."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Proteção contra abuso indisponível no momento; tente novamente em instantes.")
    default_code = "rate_limit_unavailable"

    def __init__(self, wait: int) -> None:
        super().__init__()
        self.wait = wait


def client_ip(request: Request) -> str:
    """IP do cliente como o servidor ASGI o entregou (``REMOTE_ADDR``); IPv6 agrupado por /64.

    Atrás de um proxy, configure o servidor (uvicorn ``--forwarded-allow-ips``,
    daphne ``--proxy-headers``) para que ``REMOTE_ADDR`` seja o IP real.
    """
    raw = str(request.META.get("REMOTE_ADDR") or "")
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def posted_username(request: Request) -> str:
    data = request.data
    value = data.get("username") if isinstance(data, Mapping) else None
    return value.strip().lower()[:MAX_USERNAME_KEY] if isinstance(value, str) else ""


class ApiRateThrottle(BaseThrottle):
    """Base: ``scope`` fixo ou, se ``None``, o nome da rota (quando ela tem limite próprio)."""

    scope: str | None = None
    fail_open = True

    def __init__(self) -> None:
        self._wait: int | None = None

    def key(self, request: Request) -> str:
        user = request.user
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{client_ip(request)}"

    def rate_for(self, request: Request) -> tuple[str, str | None]:
        rates: Mapping[str, str] = settings.API_RATE_LIMITS
        if self.scope is not None:
            name = self.scope
        else:
            match = getattr(request, "resolver_match", None)
            route = getattr(match, "url_name", None)
            name = route if isinstance(route, str) and route in rates else DEFAULT_SCOPE
        rate = rates.get(name, "").strip()
        return name, (None if rate.lower() in DISABLED else rate)

    def allow_request(self, request: Request, view: APIView) -> bool:
        self._wait = None
        if not settings.API_RATE_LIMITS_ENABLED:
            return True
        scope, rate = self.rate_for(request)
        if rate is None:
            return True
        identity = self.key(request)
        try:
            usage: dict[str, Any] | None = get_usage(
                request, group=f"api:{scope}", key=lambda _group, _request: identity, rate=rate, increment=True
            )
        except Exception:
            usage = {"limit": 0, "time_left": -1}
        if usage is None:  # RATELIMIT_ENABLE=False desliga o django-ratelimit inteiro
            return True
        if usage["limit"] == 0 and usage["time_left"] < 0:
            return self._cache_failed(scope)
        if usage["should_limit"]:
            self._wait = max(1, int(usage["time_left"]))
            return False
        return True

    def _cache_failed(self, scope: str) -> bool:
        if self.fail_open:
            logger.warning("limite de taxa %s indisponível (cache fora do ar); seguindo sem limite", scope)
            return True
        logger.error("limite de taxa %s indisponível (cache fora do ar); recusando com 503", scope)
        raise RateLimitUnavailable(wait=settings.API_RATE_LIMIT_UNAVAILABLE_RETRY_AFTER)

    def wait(self) -> float | None:
        return self._wait


class DefaultApiThrottle(ApiRateThrottle):
    """Limite global (``DEFAULT_THROTTLE_CLASSES``): por usuário, ou por IP sem login."""


class _IpUsernameThrottle(ApiRateThrottle):
    fail_open = False

    def key(self, request: Request) -> str:
        return f"{client_ip(request)}|{posted_username(request)}"


class LoginThrottle(_IpUsernameThrottle):
    """Tentativas de login por IP+usuário (adivinhação de senha de uma conta)."""

    scope = "auth-login"


class LoginIpThrottle(ApiRateThrottle):
    """Tentativas de login por IP, qualquer usuário (varredura de contas)."""

    scope = "auth-login-ip"
    fail_open = False

    def key(self, request: Request) -> str:
        return f"ip:{client_ip(request)}"


class RegisterThrottle(_IpUsernameThrottle):
    """Cadastros por IP+usuário pedido."""

    scope = "auth-register"
