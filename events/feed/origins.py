"""Origens aceitas pelos feeds ao vivo (``/ws/events/`` e ``/socket.io/``): uma regra só.

Aceita o ``Origin`` cujo host está em ``ALLOWED_HOSTS`` (qualquer esquema e porta, com os
curingas do Django: ``.exemplo.com``, ``*``) ou que é uma das ``CORS_ALLOWED_ORIGINS``
(esquema, host e porta exatos) — o mesmo conjunto de páginas que pode chamar a API.
A comparação é a do ``OriginValidator`` do Channels, usada pelos dois transportes.

A lista é lida das configurações a cada conexão (não na importação do ``asgi.py``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult, urlparse

from channels.security.websocket import OriginValidator
from django.conf import settings

# O mesmo padrão do AllowedHostsOriginValidator do Channels com DEBUG e ALLOWED_HOSTS vazio.
_DEBUG_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def allowed_origin_patterns() -> list[str]:
    """Padrões aceitos: os hosts de ``ALLOWED_HOSTS`` e as origens de ``CORS_ALLOWED_ORIGINS``."""
    hosts = list(settings.ALLOWED_HOSTS) or (list(_DEBUG_HOSTS) if settings.DEBUG else [])
    return [*hosts, *settings.CORS_ALLOWED_ORIGINS]


def _valid(parsed: ParseResult | None) -> bool:
    return bool(OriginValidator(None, allowed_origin_patterns()).valid_origin(parsed))


def origin_allowed(origin: str | None, environ: dict[str, Any] | None = None) -> bool:
    """``True`` se a página de ``origin`` pode abrir o feed (assinatura do ``cors_allowed_origins`` do Engine.IO).

    Sem cabeçalho ``Origin`` a resposta é ``False``: quem decide o que fazer nesse caso é
    o transporte (o Channels recusa; o Engine.IO só consulta esta função quando há ``Origin``).
    """
    if not origin:
        return False
    return _valid(urlparse(origin))


class FeedOriginValidator(OriginValidator):
    """O ``OriginValidator`` do Channels para o ``/ws/events/``, com a lista de ``allowed_origin_patterns``."""

    def __init__(self, application: Any) -> None:
        super().__init__(application, allowed_origins=())

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        return _valid(parsed_origin)
