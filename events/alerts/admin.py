"""Regras de alerta no admin (os alertas em si vivem no MongoDB e aparecem na API e no painel)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from events.alerts.models import AlertRule
from events.alerts.rules import REQUIRED_FIELDS, rule_problems
from events.alerts.serializers import problem_text

_ATTRIBUTES = {name: attribute for fields in REQUIRED_FIELDS.values() for name, attribute in fields} | {
    "zScore": "z_score",
    "minRatio": "min_ratio",
}

if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[AlertRule]
else:
    _ModelAdmin = admin.ModelAdmin


class AlertRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    """As mesmas exigências por tipo da API (``rules.rule_problems``), no campo do formulário."""

    class Meta:
        model = AlertRule
        fields = (
            "name",
            "kind",
            "severity",
            "enabled",
            "cooldown_seconds",
            "notify",
            "event_type",
            "user_id",
            "op",
            "threshold",
            "count",
            "window_seconds",
            "z_score",
            "min_samples",
            "first_type",
            "second_type",
            "min_ratio",
        )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        kind = data.get("kind", "")
        for name, code in rule_problems(kind, data.get).items():
            self.add_error(_ATTRIBUTES[name], problem_text(code, kind))
        return data


@admin.register(AlertRule)
class AlertRuleAdmin(_ModelAdmin):
    form = AlertRuleForm
    list_display = ("name", "kind", "severity", "enabled", "cooldown_seconds", "updated_at")
    list_filter = ("kind", "severity", "enabled")
    search_fields = ("name", "event_type", "first_type", "second_type", "user_id")
    filter_horizontal = ("notify",)
    readonly_fields = ("created_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "kind", "severity", "enabled", "cooldown_seconds", "notify")}),
        (_("Limite (threshold)"), {"fields": ("event_type", "user_id", "op", "threshold")}),
        (
            _("Frequência e sequência"),
            {"fields": ("count", "window_seconds", "first_type", "second_type", "min_ratio")},
        ),
        (_("Anomalia"), {"fields": ("z_score", "min_samples")}),
        (_("Registro"), {"fields": ("created_by", "created_at", "updated_at")}),
    )

    def save_model(self, request: HttpRequest, obj: AlertRule, form: Any, change: bool) -> None:
        if not change and obj.created_by_id is None and request.user.is_authenticated:
            obj.created_by_id = request.user.pk
        super().save_model(request, obj, form, change)
