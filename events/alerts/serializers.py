"""Entrada e saída da API de alertas: regras (camelCase, validação por tipo) e alertas.

Os limites numéricos existem para que nenhuma entrada vire 500 mais adiante: janelas e
intervalos de até 366 dias (um ``timedelta`` de 10^18 s estoura), limites no mesmo teto
dos valores de evento, e nada de NaN ou infinito.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from django.core import signing
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from events.alerts.domain import ALERT_STATES, SEVERITIES, AlertFilter, AlertPosition
from events.alerts.models import AlertRule, NotificationEndpoint
from events.alerts.rules import rule_problems
from events.domain import MAX_ABS_VALUE
from events.serializers import (
    MAX_USER_ID_LENGTH,
    AwareDateTimeField,
    CursorField,
    PlainTextField,
    RangeQuerySerializer,
)

MAX_SECONDS = 366 * 24 * 3600
MAX_COUNT = 1_000_000
MAX_FACTOR = 1e6
MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_RULE_ID = 2**63 - 1
CURSOR_SALT = "alerts.list.cursor"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# O corpo é JSON: cada campo aceita só o tipo que o esquema declara (o DRF, por padrão,
# converteria "5" em 5, 1 em True e 0 em "0").


class FiniteFloatField(serializers.FloatField):
    """Número JSON finito (sem NaN/infinito, sem texto)."""

    default_error_messages = {"not_finite": _("Informe um número finito.")}  # noqa: RUF012

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            self.fail("not_finite")
        return value


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictTextField(PlainTextField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class EndpointIdField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


def _type_field(source: str, help_text: str) -> StrictTextField:
    return StrictTextField(source=source, max_length=64, required=False, allow_blank=True, help_text=help_text)


def _seconds(source: str, help_text: str, *, min_value: int) -> serializers.IntegerField:
    return serializers.IntegerField(
        source=source, min_value=min_value, max_value=MAX_SECONDS, required=False, help_text=help_text
    )


def problem_text(code: str, kind: str) -> str:
    """Texto (traduzível) de um código de ``rules.rule_problems``."""
    if code == "positive":
        return str(_("Deve ser maior que zero."))
    return str(_("Obrigatório para regras do tipo %(kind)s.") % {"kind": kind})


class AlertRuleSerializer(serializers.ModelSerializer[AlertRule]):
    """Regra de alerta; os campos usados dependem de ``kind`` (os demais são ignorados na avaliação)."""

    name = StrictTextField(max_length=120)
    kind = StrictChoiceField(choices=AlertRule.Kind.choices)
    severity = StrictChoiceField(choices=AlertRule.Severity.choices, required=False)
    enabled = StrictBooleanField(required=False)
    cooldownSeconds = StrictIntegerField(
        source="cooldown_seconds",
        min_value=0,
        max_value=MAX_SECONDS,
        required=False,
        help_text="Sem novo disparo para o mesmo usuário neste intervalo (padrão 300).",
    )
    notify = EndpointIdField(
        many=True,
        queryset=NotificationEndpoint.objects.all(),
        required=False,
        help_text="Ids dos destinos de notificação.",
    )
    eventType = _type_field("event_type", "threshold, frequency, anomaly: o tipo de evento observado.")
    userId = StrictTextField(
        source="user_id",
        max_length=MAX_USER_ID_LENGTH,
        required=False,
        allow_blank=True,
        help_text="threshold (opcional): só este usuário.",
    )
    op = StrictChoiceField(choices=AlertRule.Op.choices, required=False, allow_blank=True)
    threshold = FiniteFloatField(
        required=False, allow_null=True, min_value=-MAX_ABS_VALUE, max_value=MAX_ABS_VALUE, help_text="threshold."
    )
    count = StrictIntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_COUNT, help_text="frequency: mínimo de eventos."
    )
    windowSeconds = StrictIntegerField(
        source="window_seconds",
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_SECONDS,
        help_text="frequency, sequence: janela em segundos.",
    )
    zScore = FiniteFloatField(
        source="z_score",
        required=False,
        allow_null=True,
        max_value=MAX_FACTOR,
        help_text="anomaly: desvios-padrão (> 0).",
    )
    minSamples = StrictIntegerField(
        source="min_samples",
        required=False,
        allow_null=True,
        min_value=2,
        max_value=MAX_COUNT,
        help_text="anomaly: amostras do histórico antes de comparar.",
    )
    firstType = _type_field("first_type", "sequence: o primeiro tipo.")
    secondType = _type_field("second_type", "sequence: o segundo tipo.")
    minRatio = FiniteFloatField(
        source="min_ratio",
        required=False,
        allow_null=True,
        max_value=MAX_FACTOR,
        help_text="sequence (opcional): mínimo de second.value / first.value (> 0).",
    )
    createdAt = AwareDateTimeField(source="created_at", read_only=True)
    updatedAt = AwareDateTimeField(source="updated_at", read_only=True)

    class Meta:
        model = AlertRule
        fields = (
            "id",
            "name",
            "kind",
            "severity",
            "enabled",
            "cooldownSeconds",
            "notify",
            "eventType",
            "userId",
            "op",
            "threshold",
            "count",
            "windowSeconds",
            "zScore",
            "minSamples",
            "firstType",
            "secondType",
            "minRatio",
            "createdAt",
            "updatedAt",
        )
        read_only_fields = ("id",)

    def _effective(self, attrs: dict[str, Any], source: str) -> Any:
        if source in attrs:
            return attrs[source]
        return getattr(self.instance, source) if self.instance is not None else None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        kind = self._effective(attrs, "kind")
        problems = rule_problems(kind, lambda attribute: self._effective(attrs, attribute))
        if problems:
            raise serializers.ValidationError({name: [problem_text(code, kind)] for name, code in problems.items()})
        return attrs


# --- alertas ---------------------------------------------------------------------------


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("instante inválido no cursor")
    return _EPOCH + value * _MICROSECOND


@dataclass(frozen=True)
class AlertCursor:
    """Filtros e posição da próxima página: tudo que ela precisa."""

    alert_filter: AlertFilter
    position: AlertPosition


def encode_cursor(cursor: AlertCursor) -> str:
    """Cursor opaco e assinado (``django.core.signing``), como o da listagem de eventos."""
    flt = cursor.alert_filter
    payload = {
        "st": flt.state,
        "sv": flt.severity,
        "r": flt.rule_id,
        "u": flt.user_id,
        "a": None if flt.start is None else _micros(flt.start),
        "b": None if flt.end is None else _micros(flt.end),
        "k": _micros(cursor.position.triggered_at),
        "i": str(cursor.position.alert_id),
    }
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def decode_cursor(token: str) -> AlertCursor:
    """Inverso de ``encode_cursor``; ``ValueError`` se inválido ou adulterado."""
    try:
        payload = signing.loads(token, salt=CURSOR_SALT)
    except signing.BadSignature:
        raise ValueError("assinatura inválida") from None
    try:
        if not isinstance(payload, Mapping) or not ObjectId.is_valid(payload["i"]):
            raise ValueError("formato desconhecido")
        triggered_at = _moment(payload["k"])
        if triggered_at is None:
            raise ValueError("posição ausente")
        alert_filter = AlertFilter(
            state=payload["st"],
            severity=payload["sv"],
            rule_id=payload["r"],
            user_id=payload["u"],
            start=_moment(payload["a"]),
            end=_moment(payload["b"]),
        )
        return AlertCursor(alert_filter, AlertPosition(triggered_at, ObjectId(payload["i"])))
    except (KeyError, TypeError, OverflowError) as exc:
        raise ValueError(str(exc)) from None


class AlertCursorField(CursorField):
    def decode(self, text: str) -> AlertCursor:
        return decode_cursor(text)


class AlertListInputSerializer(RangeQuerySerializer):
    """Filtros de ``GET /api/alerts``: janela sobre ``triggeredAt`` (``range`` ou ``from``/``to``)."""

    state = serializers.ChoiceField(choices=list(ALERT_STATES), required=False)
    severity = serializers.ChoiceField(choices=list(SEVERITIES), required=False)
    ruleId = serializers.IntegerField(min_value=1, max_value=MAX_RULE_ID, required=False)
    userId = PlainTextField(required=False, max_length=MAX_USER_ID_LENGTH)
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, help_text="Itens por página (máx. 200)."
    )
    cursor = AlertCursorField(
        required=False, help_text="O `nextCursor` da página anterior (já carrega os filtros; só `limit` o acompanha)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if "cursor" in attrs:
            extra = sorted(name for name in self.initial_data if name not in {"cursor", "limit"})
            if extra:
                message = _("O cursor já carrega os filtros; envie só cursor e limit.")
                raise serializers.ValidationError({name: [message] for name in extra})
        return attrs


class AlertOutputSerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.CharField(help_text="ObjectId (24 hex), derivado de (regra, usuário, gatilho).")
    ruleId = serializers.IntegerField()
    ruleName = serializers.CharField()
    kind = serializers.ChoiceField(choices=AlertRule.Kind.choices)
    severity = serializers.ChoiceField(choices=AlertRule.Severity.choices)
    userId = serializers.CharField()
    eventIds = serializers.ListField(child=serializers.CharField(), help_text="Evento(s) que dispararam.")
    triggeredAt = serializers.DateTimeField()
    state = serializers.ChoiceField(choices=list(ALERT_STATES))
    ackBy = serializers.CharField(allow_null=True)
    ackAt = serializers.DateTimeField(allow_null=True)
    message = serializers.CharField(help_text="Em português, com os números que dispararam.")


@extend_schema_serializer(many=False)
class AlertListOutputSerializer(serializers.Serializer[dict[str, Any]]):
    results = AlertOutputSerializer(many=True)
    limit = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    nextCursor = serializers.CharField(allow_null=True, help_text="Cursor da página seguinte; nulo na última.")
