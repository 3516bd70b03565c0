"""API dos destinos de notificação (``/api/notification-endpoints``): só equipe.

Valida → chama o serviço/seletor → serializa. O ``secret`` só aparece no cadastro e no
detalhe (nunca na listagem); as entregas vêm da caixa de saída no MongoDB.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import URLValidator
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsStaff
from events.alerts.models import NotificationEndpoint
from events.alerts.notifications import delivery_list, endpoint_create, endpoint_update
from events.alerts.ssrf import ALLOWED_SCHEMES, BlockedDestination, url_parts
from events.serializers import AwareDateTimeField
from events.windows import isoformat
from trader_monitor.openapi import error_responses

MAX_DELIVERIES_PAGE = 100


def _reject_unknown(data: Any, allowed: set[str]) -> None:
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": [_("Envie um objeto JSON.")]})
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError({name: [_("Campo desconhecido.")] for name in unknown})


class EndpointCreateInput(serializers.Serializer[dict[str, Any]]):
    url = serializers.CharField(max_length=2000, trim_whitespace=True, help_text="URL http(s) pública.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate_url(self, value: str) -> str:
        try:
            URLValidator(schemes=list(ALLOWED_SCHEMES))(value)
            url_parts(value)
        except BlockedDestination as exc:
            raise serializers.ValidationError(str(exc)) from None
        except Exception:  # o URLValidator levanta ValidationError do Django (e ValueError em IPv6 malformado)
            raise serializers.ValidationError(_("Informe uma URL http ou https válida.")) from None
        return value


class EndpointUpdateInput(serializers.Serializer[dict[str, Any]]):
    enabled = serializers.BooleanField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class EndpointOutput(serializers.Serializer[NotificationEndpoint]):
    """O destino, sem o segredo (listagem)."""

    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    enabled = serializers.BooleanField()
    consecutiveFailures = serializers.IntegerField(source="consecutive_failures")
    disabledAt = AwareDateTimeField(source="disabled_at", allow_null=True)
    disabledReason = serializers.CharField(source="disabled_reason")
    createdAt = AwareDateTimeField(source="created_at")


class EndpointDetailOutput(EndpointOutput):
    """O destino com o segredo ``whsec_…`` (cadastro e detalhe, só para a equipe)."""

    secret = serializers.CharField(help_text="Segredo Standard Webhooks (`whsec_…`) para conferir as assinaturas.")


class AttemptOutput(serializers.Serializer[dict[str, Any]]):
    at = serializers.CharField(help_text="Início da tentativa (ISO-8601, UTC).")
    statusCode = serializers.IntegerField(required=False, help_text="Status HTTP, quando houve resposta.")
    error = serializers.CharField(required=False, help_text="Erro sem resposta (tempo esgotado, conexão…).")
    durationMs = serializers.IntegerField()


class DeliveryOutput(serializers.Serializer[dict[str, Any]]):
    id = serializers.CharField(help_text="Id da entrega; é o `webhook-id` de todas as tentativas.")
    alertId = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "delivered", "failed"])
    attempts = AttemptOutput(many=True)
    nextAttemptAt = serializers.CharField(allow_null=True)
    createdAt = serializers.CharField()


class DeliveryListOutput(serializers.Serializer[dict[str, Any]]):
    results = DeliveryOutput(many=True)
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()


class DeliveryListInput(serializers.Serializer[dict[str, Any]]):
    page = serializers.IntegerField(min_value=1, max_value=100_000, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_DELIVERIES_PAGE, default=50)


def delivery_to_json(doc: dict[str, Any]) -> dict[str, Any]:
    attempts = []
    for attempt in doc.get("attempts", []):
        item: dict[str, Any] = {"at": isoformat(attempt["at"]), "durationMs": attempt.get("durationMs", 0)}
        if "statusCode" in attempt:
            item["statusCode"] = attempt["statusCode"]
        if "error" in attempt:
            item["error"] = attempt["error"]
        attempts.append(item)
    next_at = doc.get("nextAttemptAt") if doc["status"] == "pending" else None
    return {
        "id": str(doc["_id"]),
        "alertId": doc["alertId"],
        "status": doc["status"],
        "attempts": attempts,
        "nextAttemptAt": isoformat(next_at) if next_at else None,
        "createdAt": isoformat(doc["createdAt"]),
    }


_ENDPOINT_ID = OpenApiParameter("endpoint_id", int, OpenApiParameter.PATH, description="Id do destino.")


class NotificationEndpointViewSet(viewsets.ViewSet):
    """``/api/notification-endpoints``: cadastro, listagem, detalhe, ativação, remoção e entregas."""

    permission_classes = [IsAuthenticated, IsStaff]  # noqa: RUF012
    lookup_field = "endpoint_id"
    lookup_value_regex = "[^/]+"

    def _get(self, endpoint_id: str) -> NotificationEndpoint:
        if not endpoint_id.isdigit() or len(endpoint_id) > 18:
            raise NotFound(_("Destino não encontrado."))
        endpoint = NotificationEndpoint.objects.filter(pk=int(endpoint_id)).first()
        if endpoint is None:
            raise NotFound(_("Destino não encontrado."))
        return endpoint

    @extend_schema(
        operation_id="notification_endpoints_list",
        summary="Listar destinos de notificação",
        description="Todos os destinos (são poucos), sem o segredo, em ordem de cadastro.",
        tags=["notifications"],
        responses={200: EndpointOutput(many=True), **error_responses(401, 403, 429)},
    )
    def list(self, request: Request) -> Response:
        endpoints = NotificationEndpoint.objects.order_by("id")
        return Response([EndpointOutput(endpoint).data for endpoint in endpoints])

    @extend_schema(
        operation_id="notification_endpoints_create",
        summary="Cadastrar destino de notificação",
        description=(
            "Devolve o `secret` (`whsec_…`) com que cada entrega é assinada (Standard Webhooks). "
            "Fora do DEBUG, URLs que levam a endereços privados, de loopback, link-local e afins "
            "são recusadas (400 em `url`), a menos que `NOTIFY_ALLOW_PRIVATE=true`."
        ),
        tags=["notifications"],
        request=EndpointCreateInput,
        responses={201: EndpointDetailOutput, **error_responses(400, 401, 403, 429)},
        examples=[
            OpenApiExample(
                "destino",
                value={"url": "https://hooks.example.com/trader-monitor", "description": "Plantão"},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        _reject_unknown(request.data, {"url", "description"})
        params = EndpointCreateInput(data=request.data)
        params.is_valid(raise_exception=True)
        try:
            endpoint = endpoint_create(
                url=params.validated_data["url"], description=params.validated_data["description"]
            )
        except BlockedDestination as exc:
            raise ValidationError({"url": [str(exc)]}) from None
        return Response(EndpointDetailOutput(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="notification_endpoints_retrieve",
        summary="Detalhar destino de notificação (com o segredo)",
        tags=["notifications"],
        parameters=[_ENDPOINT_ID],
        responses={200: EndpointDetailOutput, **error_responses(401, 403, 404, 429)},
    )
    def retrieve(self, request: Request, endpoint_id: str) -> Response:
        return Response(EndpointDetailOutput(self._get(endpoint_id)).data)

    @extend_schema(
        operation_id="notification_endpoints_partial_update",
        summary="Ativar/desativar destino ou trocar a descrição",
        description=(
            "Reativar (`enabled: true`) zera as falhas seguidas e o motivo da desativação. Com o "
            "destino desativado, entregas pendentes terminam como `failed` (destino desativado) "
            "quando vencem, sem contar como falha; alertas novos não geram entregas para ele."
        ),
        tags=["notifications"],
        parameters=[_ENDPOINT_ID],
        request=EndpointUpdateInput,
        responses={200: EndpointDetailOutput, **error_responses(400, 401, 403, 404, 429)},
    )
    def partial_update(self, request: Request, endpoint_id: str) -> Response:
        endpoint = self._get(endpoint_id)
        _reject_unknown(request.data, {"enabled", "description"})
        params = EndpointUpdateInput(data=request.data)
        params.is_valid(raise_exception=True)
        endpoint = endpoint_update(
            endpoint=endpoint,
            enabled=params.validated_data.get("enabled"),
            description=params.validated_data.get("description"),
        )
        return Response(EndpointDetailOutput(endpoint).data)

    @extend_schema(
        operation_id="notification_endpoints_destroy",
        summary="Remover destino de notificação",
        description="Entregas ainda pendentes para ele terminam como `failed` (destino removido).",
        tags=["notifications"],
        parameters=[_ENDPOINT_ID],
        responses={204: None, **error_responses(401, 403, 404, 429)},
    )
    def destroy(self, request: Request, endpoint_id: str) -> Response:
        self._get(endpoint_id).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="notification_endpoints_deliveries",
        summary="Entregas de um destino, com as tentativas",
        description=(
            "Mais novas primeiro. Cada tentativa traz `statusCode` (houve resposta) ou `error` "
            "(tempo esgotado, conexão recusada, destino recusado) e `durationMs`."
        ),
        tags=["notifications"],
        parameters=[_ENDPOINT_ID, DeliveryListInput],
        responses={200: DeliveryListOutput, **error_responses(400, 401, 403, 404, 429, 503)},
    )
    @action(detail=True, methods=["get"], url_path="deliveries")
    def deliveries(self, request: Request, endpoint_id: str) -> Response:
        endpoint = self._get(endpoint_id)
        params = DeliveryListInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        page, limit = params.validated_data["page"], params.validated_data["limit"]
        result = delivery_list(endpoint_id=endpoint.pk, limit=limit, page=page)
        body = {
            "results": [delivery_to_json(doc) for doc in result.results],
            "page": page,
            "limit": limit,
            "total": result.total,
        }
        return Response(DeliveryListOutput(body).data)
