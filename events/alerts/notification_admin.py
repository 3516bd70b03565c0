"""Admin dos destinos de notificação, com as entregas (caixa de saída no MongoDB) em modo leitura.

Destino desativado por falhas seguidas aparece com aviso na lista e no formulário; as
entregas de cada destino ficam numa tela própria (``<id>/deliveries/``), como a
quarentena dos webhooks rejeitados.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from events.alerts.models import NotificationEndpoint
from events.alerts.notifications import delivery_list
from events.alerts.ssrf import BlockedDestination, url_check
from events.store import StoreUnavailable

PER_PAGE = 50

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[NotificationEndpoint]
    _ModelForm = forms.ModelForm[NotificationEndpoint]
else:
    _ModelAdmin = admin.ModelAdmin
    _ModelForm = forms.ModelForm


class NotificationEndpointForm(_ModelForm):
    url = forms.URLField(label=gettext_lazy("URL"), max_length=2000, assume_scheme="https")

    class Meta:
        model = NotificationEndpoint
        fields = ("url", "description", "enabled")

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if self.instance.pk is None or url != self.instance.url:
            try:
                url_check(url)
            except BlockedDestination as exc:
                raise forms.ValidationError(str(exc)) from None
        return url


@admin.register(NotificationEndpoint)
class NotificationEndpointAdmin(_ModelAdmin):
    form = NotificationEndpointForm
    list_display = ("__str__", "url", "enabled", "health", "consecutive_failures", "created_at", "deliveries_link")
    list_filter = ("enabled",)
    search_fields = ("url", "description")
    readonly_fields = ("secret", "consecutive_failures", "disabled_at", "disabled_reason", "created_at")

    @admin.display(description=gettext_lazy("situação"))
    def health(self, obj: NotificationEndpoint) -> str:
        if obj.disabled_at is not None and not obj.enabled:
            return format_html('<strong class="errornote">⚠ {}</strong>', _("desativado por falhas"))
        if obj.consecutive_failures:
            return format_html("⚠ {}", _("%(n)d falhas seguidas") % {"n": obj.consecutive_failures})
        return _("ok") if obj.enabled else _("desativado")

    @admin.display(description=gettext_lazy("entregas"))
    def deliveries_link(self, obj: NotificationEndpoint) -> str:
        url = reverse("admin:alerts_notificationendpoint_deliveries", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("ver entregas"))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        disabled = NotificationEndpoint.objects.filter(enabled=False, disabled_at__isnull=False).count()
        if disabled and request.method == "GET":
            messages.warning(
                request,
                _("%(n)d destino(s) desativado(s) por falhas seguidas: confira a URL e reative.") % {"n": disabled},
            )
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        endpoint = self.get_object(request, object_id)
        if (
            endpoint is not None
            and not endpoint.enabled
            and endpoint.disabled_at is not None
            and request.method == "GET"
        ):
            messages.warning(
                request,
                _("Destino desativado em %(when)s: %(reason)s Reative marcando “ativo”.")
                % {"when": endpoint.disabled_at.isoformat(timespec="seconds"), "reason": endpoint.disabled_reason},
            )
        context = {**(extra_context or {})}
        if endpoint is not None:
            context["deliveries_url"] = reverse("admin:alerts_notificationendpoint_deliveries", args=[endpoint.pk])
        return super().change_view(request, object_id, form_url, context)

    def save_model(self, request: HttpRequest, obj: NotificationEndpoint, form: Any, change: bool) -> None:
        if change and "enabled" in form.changed_data and obj.enabled:
            obj.consecutive_failures = 0
            obj.disabled_at = None
            obj.disabled_reason = ""
        super().save_model(request, obj, form, change)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.deliveries_view)
        return [
            path("<int:endpoint_id>/deliveries/", view, name="alerts_notificationendpoint_deliveries"),
            *super().get_urls(),
        ]

    def deliveries_view(self, request: HttpRequest, endpoint_id: int) -> HttpResponse:
        from events.alerts.notification_api import delivery_to_json

        endpoint = NotificationEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None or not self.has_view_permission(request, endpoint):
            raise Http404(_("Destino não encontrado."))
        try:
            number = max(1, int(request.GET.get("p", "1")))
        except ValueError:
            number = 1
        try:
            first = delivery_list(endpoint_id=endpoint.pk, limit=PER_PAGE, page=number)
            paginator: Paginator[int] = Paginator(range(first.total), PER_PAGE)
            page = paginator.get_page(number)
            result = (
                first
                if page.number == number
                else delivery_list(endpoint_id=endpoint.pk, limit=PER_PAGE, page=page.number)
            )
        except StoreUnavailable:
            context = {**self.admin_site.each_context(request), "title": _("Armazenamento indisponível")}
            return TemplateResponse(request, "admin/events/unavailable.html", context, status=503)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Entregas de %(endpoint)s") % {"endpoint": endpoint},
            "opts": self.opts,
            "endpoint": endpoint,
            "rows": [delivery_to_json(doc) for doc in result.results],
            "total": result.total,
            "page_obj": page,
            "page_range": paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        }
        return TemplateResponse(request, "admin/alerts/notificationendpoint/deliveries.html", context)
