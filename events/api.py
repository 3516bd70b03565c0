"""Interfaces HTTP (DRF) do domínio de eventos: só traduzem entrada e saída."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from asgiref.sync import async_to_sync
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsStaff
from events.domain import EventFilter, EventPayload, parse_event_id
from events.export import CSV_COLUMNS, EXPORT_FORMATS, AsyncExportStream, ChunkSource, ExportStream
from events.export import filename as export_filename
from events.feed.publish import alert_broadcast, event_broadcast
from events.selectors import event_get, event_iter, event_list, summary_cached, timeseries_compute
from events.serializers import (
    SORTS,
    EventListInputSerializer,
    EventListOutputSerializer,
    EventOutputSerializer,
    ExportInputSerializer,
    ListCursor,
    SummaryInputSerializer,
    SummaryOutputSerializer,
    TimeseriesInputSerializer,
    TimeseriesOutputSerializer,
    encode_cursor,
)
from events.services import event_delete
from events.webhook import MAX_KEY_LENGTH, Delivery, process_delivery
from events.windows import DEFAULT_RANGE, RangeError, Window, check_span, isoformat, resolve_window
from trader_monitor.openapi import ErrorSerializer, error_responses

# Os limites documentados são os que o servidor aplica: cabeçalho vazio conta como ausente
# (401) e chaves de idempotência com mais de MAX_KEY_LENGTH caracteres dão 400.
_KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH}
_WEBHOOK_HEADERS = [
    OpenApiParameter(
        "webhook-id",
        _KEY_SCHEMA,
        OpenApiParameter.HEADER,
        required=True,
        description="Id único da mensagem (Standard Webhooks); chave de idempotência.",
    ),
    OpenApiParameter(
        "webhook-timestamp",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        required=True,
        description="Segundos desde a época Unix; tolerância de ±5 min.",
    ),
    OpenApiParameter(
        "webhook-signature",
        {"type": "string", "minLength": 1},
        OpenApiParameter.HEADER,
        required=True,
        description="`v1,<base64 HMAC-SHA256>`; vários separados por espaço.",
    ),
    OpenApiParameter(
        "Idempotency-Key",
        _KEY_SCHEMA,
        OpenApiParameter.HEADER,
        description="Só sem WEBHOOK_SECRET (desenvolvimento): chave de idempotência.",
    ),
]
_ERROR = ErrorSerializer
_WEBHOOK_ACCEPTED = inline_serializer(
    "WebhookAccepted",
    fields={
        "id": serializers.CharField(help_text="Id do evento (ObjectId, 24 hex)."),
        "duplicate": serializers.BooleanField(help_text="`true` quando é reenvio de evento já gravado."),
        "idempotencyKey": serializers.ChoiceField(
            choices=["webhook-id", "idempotency-key", "body"],
            allow_null=True,
            help_text="De onde veio a chave de idempotência (nulo: nenhuma).",
        ),
        "warning": serializers.CharField(required=False, help_text="Presente quando não há chave de idempotência."),
    },
)


class WebhookEventView(APIView):
    """Mesma lógica do app ASGI (``events.webhook``); atende WSGI e o cliente de testes do Django."""

    authentication_classes = []  # noqa: RUF012
    permission_classes = [AllowAny]  # noqa: RUF012
    parser_classes = []  # noqa: RUF012
    # Tem limites próprios (por remetente e, para tentativas inválidas, por IP), com falha aberta.
    throttle_classes = []  # noqa: RUF012

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
        request={"application/json": EventPayload},
        responses={
            201: OpenApiResponse(_WEBHOOK_ACCEPTED, description="Evento gravado."),
            200: OpenApiResponse(_WEBHOOK_ACCEPTED, description="Reenvio de evento já gravado."),
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
        delivery = Delivery(
            headers, kept, request.META.get("REMOTE_ADDR"), len(body), request._request, too_large=too_large
        )
        result = process_delivery(delivery)
        if result.broadcast is not None:
            async_to_sync(event_broadcast)(event=result.broadcast, cursor=result.cursor)
        for alert in result.alerts:
            async_to_sync(alert_broadcast)(alert=alert)
        return Response(result.body, status=result.status, headers=result.headers)


# --- leitura e remoção (ViewSet) ------------------------------------------------------

# Eventos por pedaço da exportação: ~100 KB de CSV; a memória do servidor é proporcional a isto.
EXPORT_BATCH_SIZE = 1000

_EVENT_ID = OpenApiParameter(
    "event_id",
    {"type": "string", "pattern": "^[0-9a-fA-F]{24}$"},
    OpenApiParameter.PATH,
    description="Id do evento (ObjectId, 24 hex). Qualquer outro formato → 404.",
)


def _range_error(exc: RangeError) -> ValidationError:
    return ValidationError({exc.param: [str(exc)]})


def _window(params: dict[str, Any], *, now: datetime) -> Window:
    """Janela do resumo/série: ``range`` (padrão 24h) ou ``from``/``to``, até 366 dias."""
    try:
        window = resolve_window(range_name=params.get("range"), start=params.get("from"), end=params.get("to"), now=now)
        if window is None:  # não acontece: com o range padrão sempre há janela
            raise RangeError("range", _("Janela indefinida."))
        return check_span(window)
    except RangeError as exc:
        raise _range_error(exc) from None


def _filter(params: dict[str, Any], window: Window | None) -> EventFilter:
    return EventFilter(
        types=params.get("type", ()),
        user_id=params.get("userId"),
        start=window.start if window else None,
        end=window.end if window else None,
    )


def _list_filter(params: dict[str, Any], *, now: datetime) -> EventFilter:
    """Filtros da listagem; sem ``range``/``from``/``to`` a listagem cobre todo o histórico."""
    try:
        window = resolve_window(
            range_name=params.get("range"), start=params.get("from"), end=params.get("to"), now=now, default_range=None
        )
    except RangeError as exc:
        raise _range_error(exc) from None
    return _filter(params, window)


def _window_json(event_filter: EventFilter) -> dict[str, str | None] | None:
    """A janela exata da listagem (``range`` já resolvido para ``from``/``to``); nula sem janela."""
    if event_filter.start is None and event_filter.end is None:
        return None
    return {
        "from": isoformat(event_filter.start) if event_filter.start else None,
        "to": isoformat(event_filter.end) if event_filter.end else None,
    }


def _link(request: Request, **params: Any) -> str:
    query = request.query_params.copy()
    for name, value in params.items():
        query[name] = str(value)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class IsStaffToDelete(BasePermission):
    """Leitura para qualquer usuário autenticado; remoção só para administradores."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method != "DELETE" or IsStaff().has_permission(request, view)


class ExportNegotiation(BaseContentNegotiation):
    """Na exportação, ``format`` escolhe o corpo (CSV/NDJSON), não um renderizador do DRF.

    O DRF leria ``?format=csv`` como pedido de um renderizador ``csv`` e responderia 404;
    aqui o sucesso é um ``StreamingHttpResponse`` e os erros saem no JSON de sempre.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class EventViewSet(viewsets.ViewSet):
    """``/api/events``: listagem, detalhe, remoção, resumo e série — só traduz entrada e saída."""

    permission_classes = [IsAuthenticated, IsStaffToDelete]  # noqa: RUF012
    lookup_field = "event_id"
    lookup_value_regex = "[^/]+"

    @extend_schema(
        operation_id="events_list",
        summary="Listar eventos",
        description=(
            "Dois modos de paginação:\n\n"
            "* **por página** (`page`, `limit`): devolve `total` e links `next`/`previous`; "
            "o custo cresce com a profundidade (skip).\n"
            "* **por chave** (`cursor`): mande o `nextCursor` recebido (vem em toda página que "
            "tem continuação, inclusive no modo por página). O cursor é opaco e assinado e já "
            "carrega ordenação e filtros — só `limit` pode acompanhá-lo. Neste modo `total`, "
            "`page` e `previous` são nulos (contar custaria O(n)).\n\n"
            "Ordenação estável: empates desfeitos pelo id. `from` é inclusivo e `to` exclusivo; "
            "sem `range`/`from`/`to` a lista cobre todo o histórico. Parâmetros desconhecidos "
            "ou repetidos → 400."
        ),
        tags=["events"],
        parameters=[EventListInputSerializer],
        responses={200: EventListOutputSerializer, **error_responses(400, 401, 429, 503)},
    )
    def list(self, request: Request) -> Response:
        params_serializer = EventListInputSerializer(data=request.query_params)
        params_serializer.is_valid(raise_exception=True)
        params = params_serializer.validated_data
        limit: int = params["limit"]
        cursor: ListCursor | None = params.get("cursor")
        page: int | None = None
        if cursor is not None:
            sort, event_filter = cursor.sort, cursor.event_filter
        else:
            sort, page = params["sort"], params["page"]
            event_filter = _list_filter(params, now=datetime.now(UTC))
        sort_field, descending = SORTS[sort]
        result = event_list(
            event_filter=event_filter,
            sort_field=sort_field,
            descending=descending,
            limit=limit,
            page=page or 1,
            after=cursor.position if cursor is not None else None,
            with_total=cursor is None,
        )
        next_cursor = (
            encode_cursor(ListCursor(sort, event_filter, result.next_position))
            if result.next_position is not None
            else None
        )
        if page is None:
            next_link = _link(request, cursor=next_cursor, limit=limit) if next_cursor else None
            previous_link = None
        else:
            next_link = _link(request, page=page + 1) if next_cursor else None
            previous_link = _link(request, page=page - 1) if page > 1 else None
        body = {
            "results": result.results,
            "page": page,
            "limit": limit,
            "total": result.total,
            "next": next_link,
            "previous": previous_link,
            "nextCursor": next_cursor,
            "window": _window_json(event_filter),
        }
        return Response(EventListOutputSerializer(body).data)

    @extend_schema(
        operation_id="events_retrieve",
        summary="Detalhar evento",
        tags=["events"],
        parameters=[_EVENT_ID],
        responses={
            200: EventOutputSerializer,
            **error_responses(401, 404, 429, 503, e404="Id desconhecido ou malformado."),
        },
    )
    def retrieve(self, request: Request, event_id: str) -> Response:
        event = event_get(event_id=event_id)
        if event is None:
            raise NotFound(_("Evento não encontrado."))
        return Response(EventOutputSerializer(event).data)

    @extend_schema(
        operation_id="events_destroy",
        summary="Remover evento (administradores)",
        description=(
            "Remove o evento e desconta-o das agregações. A entrega de origem fica lembrada: "
            "um reenvio dela responde `200 {duplicate: true, deleted: true}` e não recria o evento."
        ),
        tags=["events"],
        parameters=[_EVENT_ID],
        responses={
            204: OpenApiResponse(description="Removido."),
            **error_responses(
                401, 403, 404, 429, 503, e403="Só administradores removem.", e404="Id desconhecido ou malformado."
            ),
        },
    )
    def destroy(self, request: Request, event_id: str) -> Response:
        oid = parse_event_id(event_id)
        if oid is None or not event_delete(event_id=oid):
            raise NotFound(_("Evento não encontrado."))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="events_summary",
        summary="Resumo da janela",
        description=(
            "Por tipo: contagem, soma e média; ticket médio (geral e de `purchase`); usuários ativos; "
            "top N usuários por valor e por frequência. Todos os números cobrem **exatamente** a "
            "janela pedida (`from` inclusivo, `to` exclusivo, ao milissegundo) e os filtros `type`/"
            "`userId`: os mesmos eventos que `GET /api/events` devolve com os mesmos parâmetros. "
            f"Guardado em cache por `SUMMARY_CACHE_SECONDS`; padrão `range={DEFAULT_RANGE}`."
        ),
        tags=["events"],
        parameters=[SummaryInputSerializer],
        responses={200: SummaryOutputSerializer, **error_responses(400, 401, 429, 503)},
    )
    @action(detail=False, methods=["get"])
    def summary(self, request: Request) -> Response:
        params_serializer = SummaryInputSerializer(data=request.query_params)
        params_serializer.is_valid(raise_exception=True)
        params = params_serializer.validated_data
        now = datetime.now(UTC)
        window = _window(params, now=now)
        summary = summary_cached(
            cache_key_parts=_cache_key(params),
            window=window,
            top=params["top"],
            now=now,
            event_filter=_filter(params, None),
            compare_previous=params.get("compare") == "previous",
        )
        # O seletor já devolve a forma pública (conferida contra o esquema pelos testes
        # do Schemathesis); reserializar custava ~0,26 ms num acerto de cache de ~1,6 ms.
        return Response(summary)

    @extend_schema(
        operation_id="events_timeseries",
        summary="Série temporal da janela",
        description=(
            "Contagem e soma por intervalo (e contagem por tipo), no máximo 120 pontos. Exata: cada "
            "ponto cobre `[from, to)` (o primeiro e o último recortados pela janela) e a soma dos "
            "pontos é o total do resumo com os mesmos parâmetros. Mesmos parâmetros de janela e "
            f"filtros do resumo; padrão `range={DEFAULT_RANGE}`."
        ),
        tags=["events"],
        parameters=[TimeseriesInputSerializer],
        responses={200: TimeseriesOutputSerializer, **error_responses(400, 401, 429, 503)},
    )
    @action(detail=False, methods=["get"])
    def timeseries(self, request: Request) -> Response:
        params_serializer = TimeseriesInputSerializer(data=request.query_params)
        params_serializer.is_valid(raise_exception=True)
        params = params_serializer.validated_data
        now = datetime.now(UTC)
        window = _window(params, now=now)
        series = timeseries_compute(window=window, now=now, event_filter=_filter(params, None))
        return Response(TimeseriesOutputSerializer(series).data)

    @extend_schema(
        operation_id="events_export",
        summary="Exportar eventos (CSV ou NDJSON)",
        description=(
            "Todos os eventos que `GET /api/events` devolveria com os mesmos filtros (`type`, `userId`, "
            "`range` ou `from`/`to`; sem janela, todo o histórico), em ordem de `timestamp`, num corpo "
            "enviado aos pedaços — memória constante no servidor, qualquer que seja o tamanho.\n\n"
            "* `format=csv` (padrão): RFC 4180 (vírgula, CRLF, aspas quando preciso), com cabeçalho "
            f"`{','.join(CSV_COLUMNS)}`. Texto que começa com `=`, `+`, `-`, `@`, tab ou CR ganha um "
            "apóstrofo na frente (proteção contra injeção de fórmulas em planilhas); `value` é sempre "
            "um número.\n"
            "* `format=ndjson`: um evento JSON por linha, na forma da listagem.\n\n"
            "JWT ou sessão; limite de taxa próprio (`API_RATE_LIMITS['events-export']`)."
        ),
        tags=["events"],
        parameters=[ExportInputSerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="CSV com cabeçalho."),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="Um evento JSON por linha."),
            **error_responses(400, 401, 429, 503),
        },
    )
    @action(detail=False, methods=["get"], content_negotiation_class=ExportNegotiation)
    def export(self, request: Request) -> StreamingHttpResponse:
        params_serializer = ExportInputSerializer(data=request.query_params)
        params_serializer.is_valid(raise_exception=True)
        params = params_serializer.validated_data
        now = datetime.now(UTC)
        fmt = EXPORT_FORMATS[params["format"]]
        events = event_iter(event_filter=_list_filter(params, now=now), batch_size=EXPORT_BATCH_SIZE)
        source = ChunkSource(events, fmt, batch_size=EXPORT_BATCH_SIZE)
        # O 1º lote é lido aqui: armazenamento fora do ar vira 503, não um corpo cortado.
        source.start()
        # Sob ASGI o corpo precisa ser assíncrono, senão o Django o junta inteiro na memória.
        body = AsyncExportStream(source) if isinstance(request._request, ASGIRequest) else ExportStream(source)
        response = StreamingHttpResponse(body, content_type=fmt.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export_filename(fmt, now=now)}"'
        response["Cache-Control"] = "no-store"
        return response


def _cache_key(params: dict[str, Any]) -> tuple[str, ...]:
    start, end = params.get("from"), params.get("to")
    return (
        "v2",
        f"range={params.get('range') or ('' if start or end else DEFAULT_RANGE)}",
        f"from={isoformat(start) if start else ''}",
        f"to={isoformat(end) if end else ''}",
        f"type={','.join(params.get('type', ()))}",
        f"userId={params.get('userId') or ''}",
        f"top={params['top']}",
    )
