"""API dos alertas: regras (``/api/alert-rules``) e alertas (``/api/alerts``). Só traduz entrada e saída."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from accounts.permissions import IsStaff, authenticated_user
from events.alerts.domain import AlertFilter
from events.alerts.models import AlertRule
from events.alerts.selectors import alert_get, alert_list
from events.alerts.serializers import (
    AlertCursor,
    AlertListInputSerializer,
    AlertListOutputSerializer,
    AlertOutputSerializer,
    AlertRuleSerializer,
    encode_cursor,
)
from events.alerts.services import alert_acknowledge
from events.windows import RangeError, resolve_window
from trader_monitor.openapi import error_responses


class IsStaffToWrite(BasePermission):
    """Leitura para qualquer usuário autenticado; escrita só para administradores."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or IsStaff().has_permission(request, view)


_RULE_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Id da regra.")
_ALERT_ID = OpenApiParameter(
    "alert_id",
    {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"},
    OpenApiParameter.PATH,
    description="Id do alerta (ObjectId, 24 hex). Qualquer outro formato → 404.",
)


@extend_schema_view(
    list=extend_schema(
        operation_id="alert_rules_list",
        summary="Listar regras de alerta",
        tags=["alerts"],
        responses={200: AlertRuleSerializer(many=True), **error_responses(401, 429)},
    ),
    create=extend_schema(
        operation_id="alert_rules_create",
        summary="Criar regra de alerta (administradores)",
        description=(
            "Campos por `kind`: `threshold` exige `eventType`, `op`, `threshold` (`userId` opcional); "
            "`frequency` exige `eventType`, `count` ≥ 1, `windowSeconds` ≥ 1; `anomaly` exige `eventType`, "
            "`zScore` > 0, `minSamples` ≥ 2; `sequence` exige `firstType`, `secondType`, `windowSeconds` "
            "(`minRatio` > 0 opcional). Erros nomeiam o campo."
        ),
        tags=["alerts"],
        responses={201: AlertRuleSerializer, **error_responses(400, 401, 403, 429)},
    ),
    retrieve=extend_schema(
        operation_id="alert_rules_retrieve",
        summary="Detalhar regra de alerta",
        tags=["alerts"],
        parameters=[_RULE_ID],
        responses={200: AlertRuleSerializer, **error_responses(401, 404, 429)},
    ),
    partial_update=extend_schema(
        operation_id="alert_rules_partial_update",
        summary="Alterar regra de alerta (administradores)",
        tags=["alerts"],
        parameters=[_RULE_ID],
        responses={200: AlertRuleSerializer, **error_responses(400, 401, 403, 404, 429)},
    ),
    destroy=extend_schema(
        operation_id="alert_rules_destroy",
        summary="Remover regra de alerta (administradores)",
        tags=["alerts"],
        parameters=[_RULE_ID],
        responses={204: OpenApiResponse(description="Removida."), **error_responses(401, 403, 404, 429)},
    ),
)
class AlertRuleViewSet(viewsets.ModelViewSet[AlertRule]):
    """``/api/alert-rules``: administradores escrevem, analistas autenticados leem."""

    permission_classes = [IsAuthenticated, IsStaffToWrite]  # noqa: RUF012
    serializer_class = AlertRuleSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]  # noqa: RUF012
    lookup_value_regex = "[0-9]{1,18}"

    def get_queryset(self) -> QuerySet[AlertRule]:
        return AlertRule.objects.prefetch_related("notify").order_by("id")

    def get_object(self) -> AlertRule:
        # O 404 no formato de erro da API (com ``detail``), como nas outras rotas.
        try:
            return super().get_object()
        except Http404:
            raise NotFound(_("Regra não encontrada.")) from None

    def perform_create(self, serializer: BaseSerializer[AlertRule]) -> None:
        serializer.save(created_by=authenticated_user(self.request))


def _alert_filter(params: dict[str, Any], *, now: datetime) -> AlertFilter:
    try:
        window = resolve_window(
            range_name=params.get("range"), start=params.get("from"), end=params.get("to"), now=now, default_range=None
        )
    except RangeError as exc:
        raise ValidationError({exc.param: [str(exc)]}) from None
    return AlertFilter(
        state=params.get("state"),
        severity=params.get("severity"),
        rule_id=params.get("ruleId"),
        user_id=params.get("userId"),
        start=window.start if window else None,
        end=window.end if window else None,
    )


class AlertViewSet(viewsets.ViewSet):
    """``/api/alerts``: listagem por chave, detalhe e reconhecimento (qualquer usuário autenticado)."""

    permission_classes = [IsAuthenticated]  # noqa: RUF012
    lookup_field = "alert_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        operation_id="alerts_list",
        summary="Listar alertas",
        description=(
            "Mais recentes primeiro (`triggeredAt`, desempate pelo id). Filtros: `state`, `severity`, "
            "`ruleId`, `userId` e a janela sobre `triggeredAt` (`range` ou `from` inclusivo/`to` exclusivo). "
            "Paginação por chave: mande o `nextCursor` recebido (com `limit`, se quiser)."
        ),
        tags=["alerts"],
        parameters=[AlertListInputSerializer],
        responses={200: AlertListOutputSerializer, **error_responses(400, 401, 429, 503)},
    )
    def list(self, request: Request) -> Response:
        params_serializer = AlertListInputSerializer(data=request.query_params)
        params_serializer.is_valid(raise_exception=True)
        params = params_serializer.validated_data
        limit: int = params["limit"]
        cursor: AlertCursor | None = params.get("cursor")
        if cursor is not None:
            alert_filter, after = cursor.alert_filter, cursor.position
        else:
            alert_filter, after = _alert_filter(params, now=datetime.now(UTC)), None
        page = alert_list(alert_filter=alert_filter, limit=limit, after=after)
        next_cursor = (
            encode_cursor(AlertCursor(alert_filter, page.next_position)) if page.next_position is not None else None
        )
        next_link = None
        if next_cursor is not None:
            query = request.query_params.copy()
            for name in list(query):
                if name != "limit":
                    del query[name]
            query["cursor"] = next_cursor
            next_link = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        body = {"results": page.results, "limit": limit, "next": next_link, "nextCursor": next_cursor}
        return Response(AlertListOutputSerializer(body).data)

    @extend_schema(
        operation_id="alerts_retrieve",
        summary="Detalhar alerta",
        tags=["alerts"],
        parameters=[_ALERT_ID],
        responses={
            200: AlertOutputSerializer,
            **error_responses(401, 404, 429, 503, e404="Id desconhecido ou malformado."),
        },
    )
    def retrieve(self, request: Request, alert_id: str) -> Response:
        alert = alert_get(alert_id=alert_id)
        if alert is None:
            raise NotFound(_("Alerta não encontrado."))
        return Response(AlertOutputSerializer(alert).data)

    @extend_schema(
        operation_id="alerts_ack",
        summary="Reconhecer alerta",
        description=(
            "Marca o alerta aberto como `acknowledged`, com `ackBy` (o usuário) e `ackAt`. Idempotente: "
            "repetir devolve o alerta como está (quem reconheceu primeiro fica)."
        ),
        tags=["alerts"],
        parameters=[_ALERT_ID],
        request=None,
        responses={
            200: AlertOutputSerializer,
            **error_responses(401, 404, 429, 503, e404="Id desconhecido ou malformado."),
        },
    )
    @action(detail=True, methods=["post"])
    def ack(self, request: Request, alert_id: str) -> Response:
        user = authenticated_user(request)
        alert = alert_acknowledge(alert_id=alert_id, username=user.get_username())
        if alert is None:
            raise NotFound(_("Alerta não encontrado."))
        return Response(AlertOutputSerializer(alert).data)
