"""Livro-caixa das chamadas ao modelo no admin: só leitura."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from insights.models import InsightCall
from insights.selectors import ledger_spent_today

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[InsightCall]
else:
    _ModelAdmin = admin.ModelAdmin


@admin.register(InsightCall)
class InsightCallAdmin(_ModelAdmin):
    list_display = (
        "created_at",
        "user",
        "model",
        "outcome",
        "range_label",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_ms",
    )
    list_filter = ("outcome", "model", "created_at")
    search_fields = ("user__username", "model", "request_id", "fingerprint")
    date_hierarchy = "created_at"
    list_select_related = ("user",)
    readonly_fields = [field.name for field in InsightCall._meta.fields] + ["unverified_numbers"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: InsightCall | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: InsightCall | None = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        spent = ledger_spent_today(now=timezone.now())
        subtitle = _("Gasto de hoje: US$ %(spent)s de US$ %(budget)s") % {
            "spent": f"{spent:.4f}",
            "budget": settings.INSIGHT_DAILY_BUDGET_USD,
        }
        return super().changelist_view(request, {**(extra_context or {}), "subtitle": subtitle})
