"""Ponto de entrada ASGI: HTTP (webhook rápido + Django) e WebSocket (Channels)."""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trader_monitor.settings")
# O Django precisa estar configurado antes de importar apps que usam modelos.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from events import webhook  # noqa: E402
from events.routing import websocket_urlpatterns  # noqa: E402

_webhook_app = webhook.WebhookApp()


async def http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """O webhook vai direto ao app ASGI enxuto; o resto passa pelo Django."""
    if scope["path"] in webhook.PATHS:
        await _webhook_app(scope, receive, send)
        return
    await django_asgi_app(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
