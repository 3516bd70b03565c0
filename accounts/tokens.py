"""JWT com geração de credenciais (``ver``) e duração máxima de sessão (``auth_time``).

Dois claims além dos do simplejwt, postos no refresh no login e copiados pelo próprio
simplejwt para cada access derivado:

* ``ver`` — ``User.token_version`` no momento da emissão. Troca de senha, desativação e
  logout geral sobem a versão; tokens da geração anterior são recusados (refresh aqui, na
  renovação; access em ``accounts.authentication``).
* ``auth_time`` — instante (epoch) do login, como no OpenID Connect. A rotação do refresh
  preserva o claim; a renovação é recusada (401 ``session_expired``) depois de
  ``auth_time + JWT_SESSION_MAX_AGE``, e nenhum access vence depois disso. Sem isto cada
  rotação empurrava o fim para frente e um refresh roubado não morria nunca.

O ``exp`` do refresh continua o do simplejwt (``JWT_REFRESH_DAYS`` a partir da emissão): o
limite da sessão é conferido à parte para que a recusa diga o motivo certo.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.exceptions import SessionExpired, TokenRevoked
from accounts.models import User
from accounts.selectors import VERSION_CLAIM

AUTH_TIME_CLAIM = "auth_time"


class SessionExpiredError(TokenError):
    """O refresh é válido, mas a sessão passou de ``JWT_SESSION_MAX_AGE`` desde o login."""


class TokenRevokedError(TokenError):
    """O refresh é de uma geração de credenciais anterior (senha trocada, logout geral…)."""


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def session_max_age() -> timedelta:
    max_age: timedelta = settings.JWT_SESSION_MAX_AGE
    return max_age


class SessionRefreshToken(RefreshToken):
    """Refresh com ``ver`` e ``auth_time``; recusa sessão vencida e geração revogada."""

    def verify(self) -> None:
        super().verify()
        # Refresh emitido antes do claim existir: a sessão conta da emissão dele, e o claim
        # passa a ir no par rotacionado (o limite vale daqui em diante).
        self.payload.setdefault(AUTH_TIME_CLAIM, self.payload["iat"])
        if self.session_ends_at() <= _epoch(self.current_time):
            raise SessionExpiredError(_("Sessão expirada"))
        user_id = self.payload.get(api_settings.USER_ID_CLAIM)
        current = (
            User.objects.filter(pk=user_id).values_list("token_version", flat=True).first()
            if isinstance(user_id, str | int)
            else None
        )
        if current is not None and current != self.payload.get(VERSION_CLAIM, 0):
            raise TokenRevokedError(_("Token revogado"))

    def session_ends_at(self) -> int:
        return int(self.payload[AUTH_TIME_CLAIM]) + int(session_max_age().total_seconds())

    @property
    def access_token(self) -> AccessToken:
        access = super().access_token
        if AUTH_TIME_CLAIM in self.payload:
            access["exp"] = min(int(access["exp"]), self.session_ends_at())
        return access


def token_pair_issue(user: User) -> SessionRefreshToken:
    """Refresh novo (sessão começando agora) para o usuário; ``.access_token`` dá o access."""
    # for_user é classmethod: devolve a subclasse (os stubs do simplejwt dizem RefreshToken).
    refresh = cast(SessionRefreshToken, SessionRefreshToken.for_user(user))
    refresh[VERSION_CLAIM] = user.token_version
    refresh[AUTH_TIME_CLAIM] = _epoch(refresh.current_time)
    return refresh


class SessionTokenObtainPairSerializer(TokenObtainPairSerializer):
    """Login: o par sai com ``ver`` e ``auth_time``."""

    token_class = SessionRefreshToken

    @classmethod
    def get_token(cls, user: Any) -> SessionRefreshToken:
        return token_pair_issue(user)


class SessionTokenRefreshSerializer(TokenRefreshSerializer):
    """Renovação com rotação; sessão vencida → 401 ``session_expired``, revogada → ``token_revoked``."""

    token_class = SessionRefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except SessionExpiredError:
            raise SessionExpired from None
        except TokenRevokedError:
            raise TokenRevoked from None
