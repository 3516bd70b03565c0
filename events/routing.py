"""Rotas WebSocket (Channels)."""

from __future__ import annotations

from typing import Any

from django.urls import path

from events.feed.consumer import EventFeedConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/events/", EventFeedConsumer.as_asgi()),
]
