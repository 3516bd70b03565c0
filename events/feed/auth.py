"""Credenciais do feed: sessão do painel ou JWT de acesso, e a revalidação periódica."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any, Literal

from channels.auth import get_user as session_user
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from accounts.authentication import VersionedJWTAuthentication
from accounts.selectors import atoken_version_valid


@dataclass(frozen=True)
class Principal:
    """Quem está no socket e até quando a credencial vale."""

    kind: Literal["session", "jwt"]
    user_id: Any
    username: str
    expires_at: float | None
    session_key: str | None = None
    # Geração das credenciais do usuário quando o JWT foi emitido (claim ``ver``).
    token_version: Any = None


class CredentialRejected(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


async def principal_from_session(scope: dict[str, Any]) -> Principal | None:
    """Usuário da sessão do painel (já resolvido pelo ``AuthMiddlewareStack``), se houver."""
    user = scope.get("user")
    session = scope.get("session")
    if user is None or session is None or not user.is_authenticated:
        return None
    expiry = await session.aget_expiry_date()
    return Principal("session", user.pk, user.get_username(), expiry.timestamp(), session.session_key)


def _access_token(raw: str) -> Token:
    expired = False
    for token_class in jwt_settings.AUTH_TOKEN_CLASSES:
        try:
            token: Token = token_class(raw)
        except ExpiredTokenError:
            expired = True
        except TokenError:
            continue
        else:
            return token
    if expired:
        raise CredentialRejected("token_expired", _("Token expirado; renove-o em /api/auth/refresh."))
    raise CredentialRejected("token_invalid", _("Token inválido."))


async def principal_from_jwt(raw: str) -> Principal:
    """Valida um JWT de acesso (simplejwt) e carrega o usuário. Lança ``CredentialRejected``."""
    token = _access_token(raw)
    try:
        user = await database_sync_to_async(VersionedJWTAuthentication().get_user)(token)
    except AuthenticationFailed:
        raise CredentialRejected("token_invalid", _("Usuário do token inexistente, inativo ou revogado.")) from None
    return Principal("jwt", user.pk, user.get_username(), float(token["exp"]), token_version=token.get("ver", 0))


async def principal_still_valid(principal: Principal) -> bool:
    """Reconfere a credencial: a sessão ainda existe (sem logout/expiração), ou o JWT é da
    geração de credenciais atual do usuário (troca de senha, desativação e ``logout-all``
    revogam), e o usuário segue ativo."""
    if principal.kind == "session":
        store = import_module(settings.SESSION_ENGINE).SessionStore(principal.session_key)
        user = await session_user({"session": store})
        return bool(user.is_authenticated and user.pk == principal.user_id)
    return await atoken_version_valid(user_id=principal.user_id, version=principal.token_version)


async def principal_from_session_key(session_key: str | None) -> Principal | None:
    """Usuário da sessão do painel pela chave do cookie (transportes fora do ``AuthMiddlewareStack``)."""
    if not session_key:
        return None
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    user = await session_user({"session": session})
    return await principal_from_session({"user": user, "session": session})
