"""Interfaces HTTP (DRF) do domínio de eventos: só traduzem entrada e saída."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events.domain import EventPayload
from events.services import event_broadcast
from events.webhook import Delivery, process_delivery

_WEBHOOK_HEADERS = [
    OpenApiParameter(
        "webhook-id",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="Id único da mensagem (Standard Webhooks); chave de idempotência.",
    ),
    OpenApiParameter(
        "webhook-timestamp",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        description="Segundos desde a época Unix; tolerância de ±5 min.",
    ),
    OpenApiParameter(
        "webhook-signature",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="`v1,<base64 HMAC-SHA256>`; vários separados por espaço.",
    ),
    OpenApiParameter(
        "Idempotency-Key",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="Só sem WEBHOOK_SECRET (desenvolvimento): chave de idempotência.",
    ),
]
_ERROR = OpenApiTypes.OBJECT


class WebhookEventView(APIView):
    """Mesma lógica do app ASGI (``events.webhook``); atende WSGI e o cliente de testes do Django."""

    authentication_classes = []  # noqa: RUF012
    permission_classes = [AllowAny]  # noqa: RUF012
    parser_classes = []  # noqa: RUF012

    @extend_schema(
        operation_id="webhook_event",
        summary="Receber evento (webhook assinado)",
        description=(
            "Público; assinado com Standard Webhooks quando `WEBHOOK_SECRET` está definido. "
            "Reenvio com o mesmo `webhook-id` e o mesmo corpo → 200 `duplicate: true`; "
            "mesmo id com outro corpo → 409."
        ),
        tags=["webhook"],
        auth=[],
        parameters=_WEBHOOK_HEADERS,
        request=EventPayload,
        responses={
            201: OpenApiResponse(OpenApiTypes.OBJECT, description="Evento gravado."),
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="Reenvio de evento já gravado."),
            400: OpenApiResponse(_ERROR, description="JSON ou campos inválidos (nomeia o campo)."),
            401: OpenApiResponse(_ERROR, description="Assinatura ausente, inválida ou fora da tolerância."),
            409: OpenApiResponse(_ERROR, description="Chave já usada com outro corpo."),
            413: OpenApiResponse(_ERROR, description="Corpo maior que 64 KiB."),
            429: OpenApiResponse(_ERROR, description="Limite por IP excedido (veja Retry-After)."),
            503: OpenApiResponse(_ERROR, description="Armazenamento indisponível (veja Retry-After)."),
        },
        examples=[
            OpenApiExample(
                "compra",
                value={
                    "userId": "u-42",
                    "type": "purchase",
                    "value": 199.9,
                    "timestamp": "2026-11-29T12:00:00Z",
                    "metadata": {"asset": "PETR4"},
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request) -> Response:
        from django.conf import settings

        limit = settings.WEBHOOK_MAX_BODY_BYTES
        body = request.body
        headers = {name.lower(): value for name, value in request.headers.items()}
        too_large = len(body) > limit
        kept = body[: settings.QUARANTINE_BODY_BYTES] if too_large else body
        delivery = Delivery(headers, kept, request.META.get("REMOTE_ADDR"), len(body), too_large=too_large)
        result = process_delivery(delivery)
        if result.broadcast is not None:
            async_to_sync(event_broadcast)(event=result.broadcast, cursor=result.cursor)
        return Response(result.body, status=result.status, headers=result.headers)
