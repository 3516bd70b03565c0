"""Limites de taxa das rotas de conta além dos de ``trader_monitor.ratelimit``.

Mesma mecânica (django-ratelimit por trás das classes de throttle do DRF, contadores no
cache, limites em ``API_RATE_LIMITS``), com chaves próprias:

* cadastro aberto (``ALLOW_SIGNUP``): por IP (``auth-register-ip``) e no total
  (``auth-register-global``). O limite por IP+usuário sozinho deixava um IP criar dezenas
  de contas trocando o nome. Cadastros feitos pela equipe (``is_staff``) não contam.
* troca de senha: por usuário (``auth-password``) — quem tem um access roubado não pode
  usar a rota para adivinhar a senha atual.

Todos falham fechados: com o cache fora do ar, 503 + ``Retry-After``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.request import Request

from accounts.models import User
from trader_monitor.ratelimit import ApiRateThrottle, client_ip

if TYPE_CHECKING:
    from rest_framework.views import APIView


def _staff(request: Request) -> bool:
    user = request.user
    return isinstance(user, User) and user.is_authenticated and user.is_active and user.is_staff


class _SelfSignupThrottle(ApiRateThrottle):
    fail_open = False

    def allow_request(self, request: Request, view: APIView) -> bool:
        if _staff(request):
            return True
        return super().allow_request(request, view)


class RegisterIpThrottle(_SelfSignupThrottle):
    """Cadastros por IP, qualquer nome de usuário (IPv6 agrupado por /64)."""

    scope = "auth-register-ip"

    def key(self, request: Request) -> str:
        return f"ip:{client_ip(request)}"


class RegisterGlobalThrottle(_SelfSignupThrottle):
    """Cadastros de todos os IPs somados: o teto contra criação distribuída de contas."""

    scope = "auth-register-global"

    def key(self, request: Request) -> str:
        return "global"


class PasswordChangeThrottle(ApiRateThrottle):
    """Tentativas de troca de senha por usuário autenticado."""

    scope = "auth-password"
    fail_open = False
