"""Rotas HTTP do app `insights` (montadas em trader_monitor/urls.py, sob ``api/``)."""

from __future__ import annotations

from django.urls import re_path

from insights.api import InsightApi

urlpatterns = [
    re_path(r"^insights/?$", InsightApi.as_view(), name="insights"),
]
