"""``GET|POST /api/insights``: valida a janela, chama o serviço, serializa."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.serializers import RangeQuerySerializer, SummaryAggregatesOutputSerializer
from events.windows import DEFAULT_RANGE, RangeError, check_span, resolve_window, window_label
from insights.services import (
    InsightBudgetExhausted,
    InsightError,
    InsightParams,
    InsightRateLimited,
    insight_generate,
    model_quota_for,
)

MAX_TOP = 20


class InsightLimited(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "rate_limited"

    def __init__(self, detail: str, code: str, wait: int) -> None:
        super().__init__(detail, code)
        self.wait = wait


class InsightServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "insight_unavailable"

    def __init__(self, detail: str, wait: int) -> None:
        super().__init__(detail, self.default_code)
        self.wait = wait


class InsightInputSerializer(RangeQuerySerializer):
    """Parâmetros do insight: os mesmos de janela do resumo (estritos), mais ``top`` e ``refresh``.

    Desconhecidos, repetidos, vazios (``to=``) ou datas sem fuso → 400 nomeando o parâmetro.
    """

    top = serializers.IntegerField(required=False, min_value=1, max_value=MAX_TOP)
    refresh = serializers.BooleanField(
        required=False, default=False, help_text="Só no POST: ignora o cache e gera de novo."
    )


class UsageOutputSerializer(serializers.Serializer[dict[str, Any]]):
    inputTokens = serializers.IntegerField()
    cachedInputTokens = serializers.IntegerField()
    outputTokens = serializers.IntegerField()
    costUsd = serializers.FloatField(help_text="Custo desta geração pela tabela INSIGHT_PRICES.")


class InsightOutputSerializer(serializers.Serializer[dict[str, Any]]):
    text = serializers.CharField(
        help_text="Texto simples não-confiável (escape ao exibir): resumo + um destaque por linha."
    )
    summary = serializers.CharField()
    highlights = serializers.ListField(child=serializers.CharField())
    source = serializers.ChoiceField(choices=["openai", "offline"])  # type: ignore[assignment]
    model = serializers.CharField(allow_null=True, help_text="Modelo que respondeu; null no motor offline.")
    usage = UsageOutputSerializer()
    cached = serializers.BooleanField()
    generatedAt = serializers.CharField()
    numbersVerified = serializers.BooleanField(
        help_text="Todo número do texto veio das agregações (com arredondamento)."
    )
    unverifiedNumbers = serializers.ListField(child=serializers.CharField())
    fallbackReason = serializers.CharField(
        allow_null=True,
        help_text=(
            "Por que o motor offline respondeu: no_api_key, not_permitted (chamadas pagas só para a "
            "equipe ou quem tem a permissão insights.use_paid_model), budget_exhausted, rate_limited, timeout, "
            "upstream_rate_limited, upstream_error, connection_error, request_error, invalid_output, "
            "unverified_numbers; null quando o modelo respondeu."
        ),
    )
    current = SummaryAggregatesOutputSerializer()
    previous = SummaryAggregatesOutputSerializer()
    comparison = serializers.DictField(
        help_text="O `digest` enviado ao modelo: totais, tipos e usuários com variações e participações (*Pct)."
    )


def _params(data: Any, *, allow_refresh: bool, now: datetime) -> InsightParams:
    serializer = InsightInputSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    values = serializer.validated_data
    if values.get("refresh") and not allow_refresh:
        raise serializers.ValidationError({"refresh": [_("Use POST para forçar um insight novo.")]})
    start, end = values.get("from"), values.get("to")
    try:
        window = resolve_window(range_name=values.get("range"), start=start, end=end, now=now)
        if window is None:  # não acontece: com range padrão sempre há janela
            raise RangeError("range", _("Janela indefinida."))
        check_span(window)
    except RangeError as exc:
        raise serializers.ValidationError({exc.param: [str(exc)]}) from None
    range_name = None if start or end else values.get("range") or DEFAULT_RANGE
    label = window_label(range_name=range_name, window=window, explicit_end=end is not None)
    return InsightParams(
        window=window,
        range_name=range_name,
        range_label=label,
        top=values.get("top") or settings.INSIGHT_TOP_USERS,
        refresh=bool(values.get("refresh")),
    )


def _translate(error: InsightError) -> exceptions.APIException:
    if isinstance(error, InsightBudgetExhausted):
        detail = _(
            "O orçamento diário de insights (US$ %(budget)s) acabou. Tente de novo amanhã; "
            "o painel continua com as agregações."
        ) % {"budget": settings.INSIGHT_DAILY_BUDGET_USD}
        return InsightLimited(detail, "budget_exhausted", error.retry_after)
    if isinstance(error, InsightRateLimited):
        detail = _("Você pediu insights demais em pouco tempo. Tente de novo em %(seconds)d s.") % {
            "seconds": error.retry_after
        }
        return InsightLimited(detail, "rate_limited", error.retry_after)
    # InsightUnavailable (e qualquer outro InsightError): o serviço está indisponível.
    detail = _("O serviço de insights está indisponível agora (%(reason)s). Tente de novo em %(seconds)d s.") % {
        "reason": error.reason,
        "seconds": error.retry_after,
    }
    return InsightServiceUnavailable(detail, error.retry_after)


_ERROR = OpenApiTypes.OBJECT
_RANGE_PARAMS = [
    OpenApiParameter("range", OpenApiTypes.STR, description="`15m`, `24h`, `7d`, `30d`… (padrão 24h)."),
    OpenApiParameter("from", OpenApiTypes.DATETIME, description="Início ISO-8601 (em vez de `range`)."),
    OpenApiParameter("to", OpenApiTypes.DATETIME, description="Fim ISO-8601 (padrão: agora)."),
    OpenApiParameter("top", OpenApiTypes.INT, description=f"Usuários no ranking (1–{MAX_TOP}; padrão 5)."),
]
_RESPONSES = {
    200: InsightOutputSerializer,
    400: OpenApiResponse(_ERROR, description="Parâmetros inválidos (nomeia o campo)."),
    401: OpenApiResponse(_ERROR, description="Sem autenticação."),
    429: OpenApiResponse(
        _ERROR,
        description=(
            "Orçamento diário esgotado ou limite por usuário (só com INSIGHT_FALLBACK=error); veja Retry-After."
        ),
    ),
    503: OpenApiResponse(
        _ERROR,
        description="Modelo indisponível (só com INSIGHT_FALLBACK=error) ou armazenamento fora; veja Retry-After.",
    ),
}
_DESCRIPTION = (
    "Insight curto em português sobre a janela pedida comparada com a anterior de mesma duração. "
    "`source=openai` quando o modelo respondeu; `source=offline` (motor determinístico) sem chave, "
    "para quem não pode usar o modelo pago (só equipe ou a permissão `insights.use_paid_model`) "
    "ou como alternativa (`fallbackReason`). Todo número do texto é conferido contra as agregações "
    "(`numbersVerified`). Cache de `INSIGHT_CACHE_SECONDS` por (janela pedida, números das agregações); "
    '`POST {"refresh": true}` ignora o cache (sujeito a orçamento e limite por usuário).'
)


class InsightApi(APIView):
    @extend_schema(
        operation_id="insights_get",
        summary="Gerar (ou ler do cache) o insight da janela",
        description=_DESCRIPTION,
        tags=["insights"],
        parameters=_RANGE_PARAMS,
        responses=_RESPONSES,
    )
    def get(self, request: Request) -> Response:
        return self._respond(request, request.query_params, allow_refresh=False)

    @extend_schema(
        operation_id="insights_post",
        summary="Gerar o insight da janela (opcionalmente ignorando o cache)",
        description=_DESCRIPTION,
        tags=["insights"],
        request=InsightInputSerializer,
        responses=_RESPONSES,
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, Mapping):
            raise serializers.ValidationError({"body": [_("O corpo deve ser um objeto JSON.")]})
        # URL e corpo viram uma só lista de parâmetros: o mesmo nome nos dois é "repetido" (400).
        params = request.query_params.copy()
        for name, value in body.items():
            params.appendlist(name, value)
        return self._respond(request, params, allow_refresh=True)

    def _respond(self, request: Request, data: Any, *, allow_refresh: bool) -> Response:
        now = timezone.now()
        params = _params(data, allow_refresh=allow_refresh, now=now)
        try:
            result = insight_generate(user=request.user, params=params, now=now, model_quota=model_quota_for(request))
        except InsightError as error:
            raise _translate(error) from None
        return Response(InsightOutputSerializer(result).data)
