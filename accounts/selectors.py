"""Leituras do domínio de contas.

``token_version_valid`` é a conferência barata de "este token ainda é da geração atual do
usuário?" para quem não carrega o usuário do banco a cada uso — o feed WebSocket, que
reconfere os sockets abertos periodicamente. A versão passa pelo cache do Django (Redis
entre processos) por no máximo ``TOKEN_VERSION_CACHE_SECONDS``; ``user_tokens_revoke``
grava a versão nova no cache logo após o commit, então a revogação chega antes disso
(com cache local por processo, no pior caso depois desse prazo).

A API HTTP não precisa disto: a autenticação JWT já carrega a linha do usuário em toda
requisição e compara o claim com ela (``accounts.authentication``), sem custo extra.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import cache

from accounts.models import User

logger = logging.getLogger(__name__)

# Quanto tempo uma versão lida do banco vale no cache (o brief do feed pede ≤ 60 s).
TOKEN_VERSION_CACHE_SECONDS = 30
VERSION_CLAIM = "ver"


def token_version_cache_key(user_id: Any) -> str:
    return f"accounts:token-version:{user_id}"


def token_version_current(*, user_id: Any) -> int | None:
    """Versão atual das credenciais do usuário (cache, senão banco); ``None`` se ele não existe ou está inativo.

    Cache fora do ar não derruba quem pergunta: lê do banco.
    """
    key = token_version_cache_key(user_id)
    try:
        cached = cache.get(key)
    except Exception:
        logger.warning("cache de versões de token indisponível; lendo do banco")
        cached = None
    if isinstance(cached, int):
        return cached if cached >= 0 else None
    row = User.objects.filter(pk=user_id).values_list("token_version", "is_active").first()
    # Inativo/inexistente é guardado como -1: a resposta "não" também fica no cache.
    version = row[0] if row is not None and row[1] else -1
    try:
        cache.set(key, version, TOKEN_VERSION_CACHE_SECONDS)
    except Exception:
        logger.warning("cache de versões de token indisponível na escrita")
    return version if version >= 0 else None


def token_version_valid(*, user_id: Any, version: Any) -> bool:
    """O token com ``ver=version`` do usuário ainda vale (mesma geração, usuário ativo)?

    Token sem o claim (emitido antes dele existir) conta como versão 0: vale só enquanto
    o usuário nunca teve credenciais revogadas.
    """
    claimed = 0 if version is None else version
    if not isinstance(claimed, int) or isinstance(claimed, bool):
        return False
    current = token_version_current(user_id=user_id)
    return current is not None and current == claimed


async def atoken_version_valid(*, user_id: Any, version: Any) -> bool:
    """``token_version_valid`` para código assíncrono (ORM e cache numa thread)."""
    check = sync_to_async(token_version_valid, thread_sensitive=True)
    return await check(user_id=user_id, version=version)
