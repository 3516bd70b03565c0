"""Páginas do painel: só montam o contexto; os dados vêm da API pelo navegador."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from dashboard.security import csp_protect

RANGE_CHOICES = [
    ("15m", _("Últimos 15 minutos")),
    ("1h", _("Última hora")),
    ("24h", _("Últimas 24 horas")),
    ("7d", _("Últimos 7 dias")),
    ("30d", _("Últimos 30 dias")),
]
DEFAULT_RANGE = "24h"
PAGE_SIZES = (25, 50, 100)
SORTS = ("-timestamp", "timestamp", "-value", "value")


def _text_param(request: HttpRequest, name: str, max_length: int) -> str:
    value = request.GET.get(name, "").strip()
    return value if len(value) <= max_length else ""


def initial_filters(request: HttpRequest) -> dict[str, Any]:
    """Filtros vindos da URL (links compartilháveis); valores inválidos viram o padrão."""
    range_name = request.GET.get("range", DEFAULT_RANGE)
    sort = request.GET.get("sort", SORTS[0])
    try:
        limit = int(request.GET.get("limit", PAGE_SIZES[0]))
    except ValueError:
        limit = PAGE_SIZES[0]
    return {
        "range": range_name if range_name in dict(RANGE_CHOICES) else DEFAULT_RANGE,
        "type": _text_param(request, "type", 64),
        "userId": _text_param(request, "userId", 128),
        "sort": sort if sort in SORTS else SORTS[0],
        "limit": limit if limit in PAGE_SIZES else PAGE_SIZES[0],
    }


def dashboard_config(request: HttpRequest) -> dict[str, Any]:
    """Configuração lida pelo JavaScript (vai num ``<script type="application/json">``)."""
    prefix = get_script_prefix()
    return {
        "api": {
            "events": f"{prefix}api/events",
            "summary": f"{prefix}api/events/summary",
            "timeseries": f"{prefix}api/events/timeseries",
            "insights": f"{prefix}api/insights",
        },
        "ws": f"{prefix}ws/events/",
        "loginUrl": reverse("login"),
        "csrfToken": get_token(request),
        "isStaff": bool(getattr(request.user, "is_staff", False)),
        "initial": initial_filters(request),
        "topUsers": 5,
        "feedSize": settings.DASHBOARD_FEED_SIZE,
        "refreshSeconds": settings.DASHBOARD_REFRESH_SECONDS,
        "adminEventUrl": reverse("admin:events_event_list") if getattr(request.user, "is_staff", False) else None,
    }


@require_GET
@csp_protect
@login_required
def dashboard_index(request: HttpRequest) -> HttpResponse:
    """A página única do analista (KPIs, gráficos, feed ao vivo, tabela, insight)."""
    context = {
        "config": dashboard_config(request),
        "filters": initial_filters(request),
        "range_choices": RANGE_CHOICES,
        "page_sizes": PAGE_SIZES,
    }
    return render(request, "dashboard/index.html", context)
