"""Páginas do painel: só montam o contexto; os dados vêm da API pelo navegador."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.urls import Resolver404, get_script_prefix, resolve, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dashboard.filters import PAGE_SIZES, page_filters
from dashboard.security import csp_protect
from events.selectors import TraderProfile, trader_profile_get
from events.serializers import FilteredRangeQuerySerializer
from events.store import StoreUnavailable
from events.windows import RANGE_PRESETS


def range_presets() -> list[tuple[str, str]]:
    """Os períodos prontos de ``events.windows`` (os mesmos da API, do admin e do JavaScript)."""
    return [(value, str(label)) for value, label in RANGE_PRESETS]


def range_choices(filters: dict[str, Any]) -> list[tuple[str, str]]:
    """Opções do seletor de período; um ``range`` válido fora da lista (``3h``) vem de um link e entra nela."""
    choices = range_presets()
    chosen = filters.get("range")
    if chosen and chosen not in dict(choices):
        choices.append((chosen, chosen))
    return choices


def trader_url_prefix() -> str:
    """``/traders/`` (com o prefixo do site): o JavaScript acrescenta o ``userId`` codificado."""
    return reverse("trader", kwargs={"user_id": "-"}).removesuffix("-")


def dashboard_config(request: HttpRequest, *, initial: dict[str, Any]) -> dict[str, Any]:
    """Configuração lida pelo JavaScript (vai num ``<script type="application/json">``)."""
    prefix = get_script_prefix()
    return {
        "api": {
            "events": f"{prefix}api/events",
            "summary": f"{prefix}api/events/summary",
            "timeseries": f"{prefix}api/events/timeseries",
            "export": f"{prefix}api/events/export",
            "insights": f"{prefix}api/insights",
        },
        "ws": f"{prefix}ws/events/",
        "loginUrl": reverse("login"),
        "dashboardUrl": reverse("dashboard"),
        "csrfToken": get_token(request),
        "isStaff": bool(getattr(request.user, "is_staff", False)),
        "initial": initial,
        "defaults": {**page_filters(QueryDict()), "type": "", "userId": ""},
        "rangePresets": range_presets(),
        "traderUrl": trader_url_prefix(),
        "topUsers": 5,
        "feedSize": settings.DASHBOARD_FEED_SIZE,
        "refreshSeconds": settings.DASHBOARD_REFRESH_SECONDS,
        "adminEventUrl": reverse("admin:events_event_list") if getattr(request.user, "is_staff", False) else None,
        # Painel de alertas, selo e marcas só quando a API de alertas está instalada.
        "alertsApi": alerts_api_url(),
    }


@require_GET
@csp_protect
@login_required
def dashboard_index(request: HttpRequest) -> HttpResponse:
    """A página do analista (KPIs, gráficos, feed ao vivo, tabela, insight)."""
    filters = page_filters(request.GET)
    context = {
        "config": dashboard_config(request, initial=filters),
        "filters": filters,
        "range_choices": range_choices(filters),
        "page_sizes": PAGE_SIZES,
    }
    return render(request, "dashboard/index.html", context)


@require_GET
@csp_protect
@login_required
def trader_detail(request: HttpRequest, user_id: str) -> HttpResponse:
    """Página de um trader: KPIs × período anterior, por tipo, eventos ao vivo, valores típicos."""
    if not valid_user_id(user_id):
        raise Http404(_("Trader inválido."))
    filters = page_filters(request.GET, names=("range", "from", "to", "type"))
    try:
        profile: TraderProfile | None = trader_profile_get(user_id=user_id)
    except StoreUnavailable:
        profile = None  # a página abre; a seção do perfil diz que está indisponível
    config = dashboard_config(request, initial={**filters, "userId": user_id})
    config["userId"] = user_id
    context = {
        "config": config,
        "filters": filters,
        "range_choices": range_choices(filters),
        "page_sizes": PAGE_SIZES,
        "trader": profile,
    }
    return render(request, "dashboard/trader.html", context)


def valid_user_id(user_id: str) -> bool:
    """As mesmas regras do filtro ``userId`` da API (tamanho, sem controle nem cara de operador)."""
    return FilteredRangeQuerySerializer(data={"userId": user_id}).is_valid()


def alerts_api_url() -> str | None:
    """``/api/alerts`` quando a API de alertas está instalada neste código; senão ``None``."""
    path = f"{get_script_prefix()}api/alerts"
    try:
        resolve(path)
    except Resolver404:
        return None
    return path
