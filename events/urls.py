"""Rotas HTTP do app `events` (montadas em trader_monitor/urls.py em ``api/``).

Sem barra final, como no contrato; a forma com barra também responde. ``summary`` e
``timeseries`` vêm antes de ``<id>``.
"""

from __future__ import annotations

from django.urls import re_path

from events import api

urlpatterns = [
    re_path(r"^events/?$", api.EventListApi.as_view(), name="events-list"),
    re_path(r"^events/summary/?$", api.EventSummaryApi.as_view(), name="events-summary"),
    re_path(r"^events/timeseries/?$", api.EventTimeseriesApi.as_view(), name="events-timeseries"),
    re_path(r"^events/(?P<event_id>[^/]+)/?$", api.EventDetailApi.as_view(), name="events-detail"),
]
