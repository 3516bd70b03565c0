"""Admin dos dados do MongoDB: eventos e a quarentena de webhooks rejeitados.

Não há modelos Django por trás (seria uma tabela de mentira): são views próprias,
registradas pelo ``TraderAdminSite`` (``dashboard/admin_site.py``) com
``admin_view`` — só equipe (``is_staff``) entra; o resto vai ao login do admin.
Leituras pelos seletores, a exclusão pelo serviço (que desconta os rollups).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from django.contrib import admin, messages
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from events import selectors
from events.domain import EventFilter, event_to_json, parse_event_id
from events.services import event_delete
from events.store import StoreUnavailable
from events.windows import RANGE_PRESETS, RangeError, resolve_window

logger = logging.getLogger(__name__)

PER_PAGE = 50
RANGE_FILTERS = [("", gettext_lazy("Todo o período")), *RANGE_PRESETS]
# Sem período escolhido, os tipos sugeridos no filtro vêm dos últimos 30 dias.
TYPE_HINT_RANGE = "30d"


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("p", "1")))
    except ValueError:
        return 1


def _paginate(total: int, number: int) -> tuple[Paginator[int], Page[int]]:
    # O Paginator só faz as contas de páginas; os itens vêm do armazenamento.
    paginator: Paginator[int] = Paginator(range(total), PER_PAGE)
    return paginator, paginator.get_page(number)


def _when(value: str | datetime | None) -> datetime | None:
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def _pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)


def _context(site: admin.AdminSite, request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**site.each_context(request), "title": title, "app_label": "events", **extra}


def _unavailable(site: admin.AdminSite, request: HttpRequest) -> TemplateResponse:
    context = _context(site, request, _("Armazenamento indisponível"))
    return TemplateResponse(request, "admin/events/unavailable.html", context, status=503)


# --- eventos --------------------------------------------------------------------


def event_list_view(site: admin.AdminSite, request: HttpRequest) -> HttpResponse:
    range_name = request.GET.get("range", "")
    if range_name not in dict(RANGE_FILTERS):
        range_name = ""
    event_type = request.GET.get("type", "").strip()[:64]
    query = request.GET.get("q", "").strip()[:128]
    now = datetime.now(UTC)
    try:
        window = resolve_window(range_name=range_name or None, start=None, end=None, now=now, default_range=None)
        hint_window = window or resolve_window(range_name=TYPE_HINT_RANGE, start=None, end=None, now=now)
        event_filter = EventFilter(
            types=(event_type,) if event_type else (),
            user_id=query or None,
            start=window.start if window else None,
            end=window.end if window else None,
        )
        requested = _page_number(request)
        listing = selectors.event_list(
            event_filter=event_filter, sort_field="timestamp", descending=True, limit=PER_PAGE, page=requested
        )
        total = listing.total or 0
        paginator, page = _paginate(total, requested)
        if page.number != requested:  # página além do fim: mostra a última
            listing = selectors.event_list(
                event_filter=event_filter, sort_field="timestamp", descending=True, limit=PER_PAGE, page=page.number
            )
        rows = listing.results
        type_counts = selectors.event_type_counts(window=hint_window, now=now) if hint_window else []
    except StoreUnavailable:
        return _unavailable(site, request)
    except RangeError as exc:  # pragma: no cover - os períodos oferecidos são válidos
        raise Http404(str(exc)) from exc
    for row in rows:
        row["timestamp_dt"] = _when(row["timestamp"])
    known_types = [item["type"] for item in type_counts]
    context = _context(
        site,
        request,
        _("Eventos"),
        rows=rows,
        total=total,
        page_obj=page,
        page_range=paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        range_filters=RANGE_FILTERS,
        selected_range=range_name,
        type_counts=type_counts,
        selected_type=event_type,
        selected_type_unknown=bool(event_type) and event_type not in known_types,
        query=query,
        filtered=bool(range_name or event_type or query),
    )
    return TemplateResponse(request, "admin/events/event_list.html", context)


def event_detail_view(site: admin.AdminSite, request: HttpRequest, event_id: str) -> HttpResponse:
    try:
        doc = selectors.event_document_get(event_id=event_id)
    except StoreUnavailable:
        return _unavailable(site, request)
    if doc is None:
        raise Http404(_("Evento não encontrado."))
    event = event_to_json(doc)
    context = _context(
        site,
        request,
        _("Evento %(id)s") % {"id": event["id"]},
        event=event,
        timestamp=doc["timestamp"],
        received_at=doc["receivedAt"],
        seq=doc.get("seq"),
        idempotency_source=doc.get("idempotencySource"),
        idempotency_key=doc.get("idempotencyKey"),
        metadata_json=_pretty_json(event["metadata"]) if event["metadata"] is not None else None,
    )
    return TemplateResponse(request, "admin/events/event_detail.html", context)


def event_delete_view(site: admin.AdminSite, request: HttpRequest, event_id: str) -> HttpResponse:
    oid = parse_event_id(event_id)
    try:
        doc = selectors.event_document_get(event_id=event_id)
    except StoreUnavailable:
        return _unavailable(site, request)
    if doc is None or oid is None:
        raise Http404(_("Evento não encontrado."))
    if request.method == "POST":
        try:
            deleted = event_delete(event_id=oid)
        except StoreUnavailable:
            return _unavailable(site, request)
        if deleted:
            logger.info("evento excluído pelo admin", extra={"event_id": event_id, "user": request.user.get_username()})
            messages.success(request, _("Evento %(id)s excluído.") % {"id": event_id})
        return HttpResponseRedirect(reverse(f"{site.name}:events_event_list"))
    context = _context(
        site,
        request,
        _("Excluir evento %(id)s?") % {"id": event_id},
        event=event_to_json(doc),
        timestamp=doc["timestamp"],
    )
    return TemplateResponse(request, "admin/events/event_delete.html", context)


# --- webhooks rejeitados (quarentena) -------------------------------------------------


def rejection_list_view(site: admin.AdminSite, request: HttpRequest) -> HttpResponse:
    reason = request.GET.get("reason", "").strip()[:64] or None
    try:
        counts = selectors.rejection_counts_by_reason()
        total = selectors.rejection_count(reason=reason)
        paginator, page = _paginate(total, _page_number(request))
        rows = selectors.rejection_list(reason=reason, limit=PER_PAGE, skip=(page.number - 1) * PER_PAGE)
    except StoreUnavailable:
        return _unavailable(site, request)
    for row in rows:
        row["id"] = str(row["_id"])
    context = _context(
        site,
        request,
        _("Webhooks rejeitados"),
        rows=rows,
        total=total,
        all_count=sum(counts.values()),
        page_obj=page,
        page_range=paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        reason_counts=counts,
        selected_reason=reason or "",
    )
    return TemplateResponse(request, "admin/events/rejection_list.html", context)


def _body_preview(body: str) -> tuple[str, bool]:
    """Corpo formatado como JSON quando der; senão o texto como chegou."""
    try:
        return _pretty_json(json.loads(body)), True
    except ValueError:
        return body, False


def rejection_detail_view(site: admin.AdminSite, request: HttpRequest, rejection_id: str) -> HttpResponse:
    try:
        record = selectors.rejection_get(rejection_id=rejection_id)
    except StoreUnavailable:
        return _unavailable(site, request)
    if record is None:
        raise Http404(_("Entrega rejeitada não encontrada."))
    body, body_is_json = _body_preview(record.get("body") or "")
    context = _context(
        site,
        request,
        _("Entrega rejeitada %(id)s") % {"id": rejection_id},
        record=record,
        record_id=rejection_id,
        headers=sorted((record.get("headers") or {}).items()),
        fields=sorted((record.get("fields") or {}).items()),
        body=body,
        body_is_json=body_is_json,
    )
    return TemplateResponse(request, "admin/events/rejection_detail.html", context)


# --- registro no site -----------------------------------------------------------------


def store_admin_urls(site: admin.AdminSite) -> list[URLPattern]:
    """Rotas das telas do MongoDB, todas atrás de ``site.admin_view`` (só equipe)."""

    def bind(view: Any) -> Any:
        def wrapped(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            response: HttpResponse = view(site, request, **kwargs)
            return response

        return site.admin_view(wrapped)

    return [
        path("events/event/", bind(event_list_view), name="events_event_list"),
        path("events/event/<str:event_id>/", bind(event_detail_view), name="events_event_detail"),
        path("events/event/<str:event_id>/delete/", bind(event_delete_view), name="events_event_delete"),
        path("events/rejectedwebhook/", bind(rejection_list_view), name="events_rejection_list"),
        path(
            "events/rejectedwebhook/<str:rejection_id>/",
            bind(rejection_detail_view),
            name="events_rejection_detail",
        ),
    ]


def store_admin_app(request: HttpRequest) -> dict[str, Any]:
    """Entrada do índice do admin (e da barra lateral) para os dados do MongoDB."""

    def model(name: str, object_name: str, url_name: str) -> dict[str, Any]:
        return {
            "name": name,
            "object_name": object_name,
            "model_name": object_name.lower(),
            "admin_url": reverse(f"admin:{url_name}"),
            "add_url": None,
            "view_only": True,
            "perms": {"add": False, "change": False, "delete": True, "view": True},
        }

    return {
        "name": _("Eventos (MongoDB)"),
        "app_label": "events",
        "app_url": reverse("admin:events_event_list"),
        "has_module_perms": True,
        "models": [
            model(_("Eventos"), "Event", "events_event_list"),
            model(_("Webhooks rejeitados"), "RejectedWebhook", "events_rejection_list"),
        ],
    }
