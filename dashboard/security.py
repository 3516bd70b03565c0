"""Content-Security-Policy das páginas do painel.

O Django 5.2 não tem CSP embutido. Como as páginas do painel não têm scripts nem
estilos inline (configuração vai em ``<script type="application/json">``, que não
é executado), a política pode ser estrita: só arquivos servidos pela própria origem.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.http import HttpRequest, HttpResponseBase

View = Callable[..., HttpResponseBase]


def content_security_policy(request: HttpRequest) -> str:
    """Política para a requisição; o WebSocket vai ao mesmo host (ws:// ou wss://)."""
    host = request.get_host()
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def csp_protect(view: View) -> View:
    """Aplica a CSP estrita à resposta da view (se ela ainda não tiver uma)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(request)
        return response

    return wrapped
