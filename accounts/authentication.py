"""Autenticação JWT da API: a do simplejwt mais a geração das credenciais (``ver``).

O simplejwt já lê a linha do usuário a cada requisição (``get_user``); comparar o claim
``ver`` com ``token_version`` dessa mesma linha não custa nada a mais e vale na hora: um
access emitido antes de uma troca de senha, desativação ou logout geral é recusado na
requisição seguinte (401 ``token_revoked``), sem esperar o ``exp``.
"""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.tokens import Token

from accounts.exceptions import TokenRevoked
from accounts.models import User
from accounts.selectors import VERSION_CLAIM


def token_matches_user(token: Token, user: Any) -> bool:
    """O token é da geração atual das credenciais do usuário? (Sem o claim = versão 0.)"""
    if not isinstance(user, User):
        return False
    return bool(token.get(VERSION_CLAIM, 0) == user.token_version)


class VersionedJWTAuthentication(JWTAuthentication):
    """``JWTAuthentication`` que recusa tokens de uma geração de credenciais já revogada."""

    def get_user(self, validated_token: Token) -> Any:
        user = super().get_user(validated_token)
        if not token_matches_user(validated_token, user):
            raise TokenRevoked
        return user
