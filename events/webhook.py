"""``POST /api/webhook/event`` — recepção de eventos assinados (Standard Webhooks).

O caminho quente é um app ASGI próprio (``WebhookApp``), montado antes do Django
em ``trader_monitor/asgi.py``: evita a pilha de middleware e o salto para a thread
síncrona, que limitam a vazão (``bench/RESULTS.md``). A lógica fica em ``process_delivery``
(síncrona, pura em relação ao HTTP), usada também pela view Django de mesma rota.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import bson.errors
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django_ratelimit.core import get_usage
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from events.domain import IdempotencyKey, PayloadError, body_hash, parse_payload
from events.feed.publish import alert_broadcast, event_broadcast
from events.services import event_ingest, rejection_record
from events.store import StoreUnavailable, run_store
from trader_monitor import metrics
from trader_monitor.logging import access_line_wanted, request_id_from_header, request_id_var

logger = logging.getLogger("events.webhook")
access_logger = logging.getLogger("trader_monitor.access")

ROUTE = "/api/webhook/event"
PATHS = frozenset({ROUTE, ROUTE + "/"})
MAX_KEY_LENGTH = 256


@dataclass(frozen=True)
class Delivery:
    """Uma entrega recebida: cabeçalhos em minúsculas, corpo bruto e a requisição Django dela.

    ``request`` é a requisição de verdade (a do Django, ou a ``ASGIRequest`` montada do
    escopo ASGI no caminho rápido): os limites de taxa do django-ratelimit a recebem.
    """

    headers: Mapping[str, str]
    body: bytes
    remote_addr: str | None
    body_size: int
    request: HttpRequest
    too_large: bool = False
    bad_length: bool = False


@dataclass
class WebhookResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    broadcast: dict[str, Any] | None = None
    cursor: int = 0
    alerts: tuple[dict[str, Any], ...] = ()


@cache
def verifiers() -> tuple[Webhook, ...]:
    """Um verificador por segredo em ``WEBHOOK_SECRET`` (rotação: vários, separados por espaço)."""
    try:
        return tuple(Webhook(secret) for secret in settings.WEBHOOK_SECRETS)
    except Exception as exc:
        raise ImproperlyConfigured(f"WEBHOOK_SECRET inválido: {exc}") from exc


def _error(status: int, code: str, detail: str, **extra: Any) -> WebhookResponse:
    body: dict[str, Any] = {"error": code, "detail": detail}
    body.update(extra)
    return WebhookResponse(status, body)


@dataclass(frozen=True)
class Verified:
    """Assinatura válida: ``sender`` identifica o segredo que a conferiu (sem revelá-lo)."""

    sender: str


def _sender(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _verify(delivery: Delivery) -> Verified | tuple[str, str]:
    """Confere a assinatura com cada segredo; devolve o remetente ou ``(motivo, detalhe)``."""
    headers = dict(delivery.headers)
    if not all(headers.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        return "missing_signature", _("Cabeçalhos webhook-id, webhook-timestamp e webhook-signature são obrigatórios.")
    stale = False
    for secret, verifier in zip(settings.WEBHOOK_SECRETS, verifiers(), strict=True):
        try:
            verifier.verify(delivery.body, headers, json_parse=False)
        except WebhookVerificationError as exc:
            if "timestamp too" in str(exc):
                stale = True
        except (ValueError, binascii.Error):
            # Cabeçalho de assinatura malformado.
            continue
        else:
            return Verified(_sender(secret))
    if stale:
        return "stale_timestamp", _("webhook-timestamp fora da tolerância de 5 minutos.")
    return "bad_signature", _("Assinatura inválida.")


def _wait_for(request: HttpRequest, *, group: str, key: str, rate: str) -> int | None:
    """Segundos até liberar, se ``key`` passou de ``rate`` (django-ratelimit); conta esta tentativa.

    Falha aberta se o cache cair: o webhook segue recebendo (o limite é uma proteção a mais).
    """
    if not rate:
        return None
    try:
        usage = get_usage(request, group=group, key=lambda _group, _request: key, rate=rate, increment=True)
    except Exception:
        logger.warning("limite de taxa do webhook indisponível (cache fora do ar); seguindo sem limite")
        return None
    if usage and usage["should_limit"]:
        return max(1, int(usage["time_left"]))
    return None


def _too_many(retry_in: int, reason: str) -> WebhookResponse:
    metrics.WEBHOOK_REJECTED.labels(reason).inc()
    response = _error(429, "rate_limited", _("Limite de requisições excedido; tente mais tarde."))
    response.headers["Retry-After"] = str(retry_in)
    return response


def _refuse(delivery: Delivery, status: int, reason: str, detail: str, **extra: Any) -> WebhookResponse:
    """Recusa uma tentativa inválida; passado o limite por IP, 429 (sem encher a quarentena)."""
    retry_in = _wait_for(
        delivery.request,
        group="webhook:invalid",
        key=f"ip:{delivery.remote_addr or 'unknown'}",
        rate=settings.WEBHOOK_INVALID_RATE_LIMIT,
    )
    if retry_in is not None:
        return _too_many(retry_in, "rate_limited")
    return _reject(delivery, status, reason, detail, **extra)


def _idempotency_key(delivery: Delivery, data: dict[str, Any], signed: bool) -> IdempotencyKey | None:
    webhook_id = delivery.headers.get("webhook-id")
    if webhook_id:
        return IdempotencyKey("webhook-id", webhook_id)
    dev_key = delivery.headers.get("idempotency-key")
    if dev_key and not signed:
        return IdempotencyKey("idempotency-key", dev_key)
    if "timestamp" in data:
        # Sem chave, dois eventos idênticos no mesmo instante são reenvios.
        return IdempotencyKey("body", body_hash(data))
    return None


def _reject(delivery: Delivery, status: int, reason: str, detail: str, **extra: Any) -> WebhookResponse:
    rejection_record(
        reason=reason,
        detail=detail,
        headers=dict(delivery.headers),
        body=delivery.body,
        body_size=delivery.body_size,
        remote_addr=delivery.remote_addr,
        fields=extra.get("fields"),
    )
    return _error(status, reason, detail, **extra)


def process_delivery(delivery: Delivery) -> WebhookResponse:
    """Valida, deduplica e persiste uma entrega; nunca lança (erros viram respostas).

    Limites: entregas com assinatura válida contam por remetente (o segredo que as
    conferiu), num limite alto (``WEBHOOK_RATE_LIMIT``); tentativas inválidas ou sem
    assinatura contam por IP, num limite baixo (``WEBHOOK_INVALID_RATE_LIMIT``).
    """
    if delivery.too_large:
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        return _refuse(delivery, 413, "payload_too_large", _("Corpo maior que %(n)d bytes.") % {"n": limit})

    if delivery.bad_length:
        return _refuse(delivery, 400, "invalid_header", _("Content-Length inválido."))

    try:
        delivery.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # JSON é UTF-8 (RFC 8259); sem isso nem a assinatura pode ser conferida.
        detail = _("O corpo não é UTF-8 válido (byte %(at)d).") % {"at": exc.start}
        return _refuse(delivery, 400, "invalid_encoding", detail, fields={"body": [detail]})

    signed = bool(verifiers())
    sender = f"ip:{delivery.remote_addr or 'unknown'}"
    if signed:
        verified = _verify(delivery)
        if not isinstance(verified, Verified):
            return _refuse(delivery, 401, *verified)
        sender = f"secret:{verified.sender}"
    retry_in = _wait_for(delivery.request, group="webhook:sender", key=sender, rate=settings.WEBHOOK_RATE_LIMIT)
    if retry_in is not None:
        return _too_many(retry_in, "rate_limited")

    for header in ("webhook-id", "idempotency-key"):
        if len(delivery.headers.get(header, "")) > MAX_KEY_LENGTH:
            return _reject(delivery, 400, "invalid_header", _("%(h)s longo demais.") % {"h": header})

    try:
        payload, data = parse_payload(delivery.body)
    except PayloadError as exc:
        reason = "invalid_payload" if exc.fields else "invalid_json"
        extra = {"fields": exc.fields} if exc.fields else {}
        return _reject(delivery, 400, reason, exc.message, **extra)

    key = _idempotency_key(delivery, data, signed)
    try:
        result = event_ingest(payload=payload, data=data, key=key)
    except StoreUnavailable:
        logger.exception("armazenamento indisponível; entrega recusada com 503")
        response = _error(503, "store_unavailable", _("Armazenamento indisponível; reenvie mais tarde."))
        response.headers["Retry-After"] = str(settings.WEBHOOK_RETRY_AFTER_SECONDS)
        return response
    except (bson.errors.BSONError, OverflowError, UnicodeError) as exc:
        # Rede de segurança: a validação já recusa o que o BSON não guarda; se algo passar,
        # é um 400 posto em quarentena com motivo próprio — nunca um 500 reenviado por dias.
        logger.exception("valor que o armazenamento não guarda passou pela validação")
        detail = _("O evento tem um valor que o armazenamento não guarda: %(error)s") % {"error": exc}
        return _reject(delivery, 400, "unstorable_value", detail, fields={"body": [detail]})

    if result.status == "conflict":
        return _reject(
            delivery,
            409,
            "conflict",
            _("Esta chave de idempotência já foi usada com outro corpo."),
            id=result.event["id"],
        )
    if result.status == "deleted":
        # O evento desta entrega foi apagado: a repetição nunca o traz de volta.
        return WebhookResponse(200, {"id": result.event["id"], "duplicate": True, "deleted": True})
    body: dict[str, Any] = {"id": result.event["id"], "duplicate": result.status == "duplicate"}
    body["idempotencyKey"] = key.source if key else None
    if key is None:
        body["warning"] = _(
            "Sem webhook-id, Idempotency-Key nem timestamp no corpo: reenvios deste evento serão duplicados."
        )
    if result.status == "duplicate":
        return WebhookResponse(200, body)
    return WebhookResponse(201, body, broadcast=result.event, cursor=result.cursor, alerts=result.alerts)


async def process_delivery_async(delivery: Delivery) -> WebhookResponse:
    """Processa a entrega no pool do armazenamento (o laço nunca espera o banco) e difunde."""
    response = await run_store(process_delivery, delivery)
    if response.broadcast is not None:
        await event_broadcast(event=response.broadcast, cursor=response.cursor)
    for alert in response.alerts:
        await alert_broadcast(alert=alert)
    return response


# --- ASGI ------------------------------------------------------------------------

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class BodyTooLarge(Exception):
    def __init__(self, head: bytes, size: int) -> None:
        self.head = head
        self.size = size


async def read_body(receive: Receive, limit: int, declared: int | None) -> bytes:
    """Lê o corpo sem passar de ``limit`` bytes, com ou sem Content-Length."""
    if declared is not None and declared > limit:
        raise BodyTooLarge(b"", declared)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(b"".join(chunks)[: settings.QUARANTINE_BODY_BYTES], size)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class WebhookApp:
    """App ASGI de ``POST /api/webhook/event``."""

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        rid = request_id_from_header(headers.get("x-request-id"))
        token = request_id_var.set(rid)
        client = scope.get("client")
        remote_addr = client[0] if client else None
        try:
            if scope["method"] != "POST":
                response = _error(405, "method_not_allowed", _("Use POST."))
                response.headers["Allow"] = "POST"
            else:
                response = await self._handle(scope, headers, receive, remote_addr)
            response.headers["X-Request-ID"] = rid
            await _send_json(send, response)
            duration = time.perf_counter() - started
            metrics.observe_http(scope["method"], ROUTE, response.status, duration)
            sample = access_line_wanted(response.status)
            if sample:
                extra: dict[str, Any] = {
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": ROUTE,
                    "status": response.status,
                    "duration_ms": round(duration * 1000, 2),
                }
                if sample > 1:
                    extra["sample"] = sample
                access_logger.log(
                    logging.ERROR if response.status >= 500 else logging.INFO,
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    response.status,
                    extra=extra,
                )
        except ConnectionAbortedError:
            logger.info("cliente desconectou antes de enviar o corpo")
        finally:
            request_id_var.reset(token)

    async def _handle(
        self, scope: dict[str, Any], headers: dict[str, str], receive: Receive, remote_addr: str | None
    ) -> WebhookResponse:
        limit = settings.WEBHOOK_MAX_BODY_BYTES
        raw_length = headers.get("content-length")
        declared: int | None = None
        if raw_length is not None and not (raw_length.isascii() and raw_length.isdigit()):
            # Recusado (e posto em quarentena) sem ler o corpo: o tamanho não é confiável.
            request = ASGIRequest(scope, io.BytesIO())
            return await process_delivery_async(Delivery(headers, b"", remote_addr, 0, request, bad_length=True))
        if raw_length is not None:
            declared = int(raw_length)
        try:
            body = await read_body(receive, limit, declared)
            delivery = Delivery(headers, body, remote_addr, len(body), ASGIRequest(scope, io.BytesIO(body)))
        except BodyTooLarge as exc:
            request = ASGIRequest(scope, io.BytesIO())
            delivery = Delivery(headers, exc.head, remote_addr, exc.size, request, too_large=True)
        try:
            return await process_delivery_async(delivery)
        except Exception:
            # Um defeito nosso, nunca um dado do cliente: 500 no formato da API, com o
            # rastro no log (e a linha de acesso e a métrica, como toda resposta).
            logger.exception("erro inesperado ao processar o webhook")
            return _error(500, "server_error", _("Erro interno; reenvie mais tarde."))


# Os mesmos cabeçalhos de segurança que o middleware do Django põe nas outras respostas.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
]


async def _send_json(send: Send, response: WebhookResponse) -> None:
    payload = json.dumps(response.body, ensure_ascii=False).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *SECURITY_HEADERS,
    ]
    raw_headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
