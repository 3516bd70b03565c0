"""Ponto de entrada ASGI: HTTP (webhook rápido + Django), WebSocket (Channels) e Socket.IO."""

from __future__ import annotations

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trader_monitor.settings")
# O Django precisa estar configurado antes de importar apps que usam modelos.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from events import webhook  # noqa: E402
from events.feed.origins import FeedOriginValidator  # noqa: E402
from events.feed.socketio import SocketIOFeed, is_socketio_path  # noqa: E402
from events.routing import websocket_urlpatterns  # noqa: E402

_webhook_app = webhook.WebhookApp()
# Socket.IO em /socket.io/ (long-polling por HTTP e WebSocket), alimentado pelo hub do feed.
socketio_feed = SocketIOFeed()
# /ws/events/: a mesma regra de origem do Socket.IO (events/feed/origins.py).
_channels_websocket = FeedOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))


async def http_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """O webhook vai direto ao app ASGI enxuto; o long-polling do Socket.IO, ao Engine.IO; o resto, ao Django."""
    if scope["path"] in webhook.PATHS:
        await _webhook_app(scope, receive, send)
        return
    if is_socketio_path(scope["path"]):
        await socketio_feed(scope, receive, send)
        return
    await django_asgi_app(scope, receive, send)


async def websocket_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """``/socket.io/`` ao Engine.IO; os demais (``/ws/events/``) ao Channels."""
    if is_socketio_path(scope["path"]):
        await socketio_feed(scope, receive, send)
        return
    await _channels_websocket(scope, receive, send)


application = ProtocolTypeRouter({"http": http_app, "websocket": websocket_app})

# Por último: com tudo carregado, a política do coletor de lixo (trader_monitor/gc_policy.py).
from django.conf import settings  # noqa: E402

from trader_monitor.gc_policy import apply_gc_policy  # noqa: E402

apply_gc_policy(settings.GC_POLICY)
