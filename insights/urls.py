"""Rotas HTTP do app `insights` (montadas em trader_monitor/urls.py)."""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []
