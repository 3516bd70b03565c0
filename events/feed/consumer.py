"""``/ws/events/`` — feed autenticado de eventos novos (Channels).

Autenticação (nunca pela URL, que vai para logs de acesso):

* sessão do painel: o cookie de sessão do Django (``AuthMiddlewareStack``);
* JWT de acesso: primeira mensagem ``{"type": "auth", "token": …}`` em até
  ``WS_AUTH_TIMEOUT_SECONDS``.

Sem credencial válida o socket recebe ``{"type": "error", "code": …}`` e é
fechado com o código 4401. O socket também fecha (4401) quando a credencial
expira (``exp`` do JWT; expiração da sessão) ou é revogada (logout, usuário
desativado — conferido a cada ``WS_RECHECK_SECONDS``).

Alertas disparados chegam como ``{"type": "alert", "alert": {…}}`` pelo mesmo hub (só
ao vivo; ver ``events/feed/protocol.py``).

A lógica do protocolo (mensagens, filtro, retomada) está em ``events/feed/protocol.py``;
o repasse dos eventos ao vivo, no hub do processo (``events/feed/hub.py``): o socket não
tem canal próprio na camada de canais — o hub põe o texto pronto na caixa de saída
do socket e a tarefa de envio do socket o manda.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils.translation import gettext as _
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from events.feed.auth import (
    CredentialRejected,
    Principal,
    principal_from_jwt,
    principal_from_session,
    principal_still_valid,
)
from events.feed.frames import Framer, websocket_frame
from events.feed.hub import FeedHub, Mail, Signal, get_hub
from events.feed.protocol import (
    AuthMessage,
    DeliveredIds,
    PingMessage,
    ProtocolError,
    ResumeMessage,
    SubscribeMessage,
    Subscription,
    feed_head,
    feed_replay,
    parse_client_message,
)
from events.store import StoreUnavailable, run_store
from trader_monitor import metrics

logger = logging.getLogger(__name__)

# Códigos de fechamento da aplicação (faixa 4000–4999 do RFC 6455).
CLOSE_UNAUTHENTICATED = 4401
# Camada de canais (Redis) fora do ar: 1013 "Try Again Later" (RFC 6455). O painel
# reconecta com backoff e recupera o que perdeu pela retomada com cursor.
CLOSE_TRY_AGAIN_LATER = 1013
CLOSE_INTERNAL_ERROR = 1011
CLOSE_POLICY_VIOLATION = 1008
_LAYER_ERRORS = (RedisError, OSError)
# Nenhuma camada com esse nome: o Channels não cria um canal por socket (quem lê o
# grupo é o hub do processo, ``events/feed/hub.py``).
_NO_LAYER = "events.feed.hub:sem-canal-por-socket"


class EventFeedConsumer(AsyncWebsocketConsumer):
    """Um socket do feed: autentica, filtra, retoma pelo cursor e repassa ``new_event``."""

    channel_layer_alias = _NO_LAYER

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.principal: Principal | None = None
        self.subscription = Subscription()
        self.delivered = DeliveredIds()
        # Caixa de saída preenchida pelo hub (texto ``new_event`` pronto ou um aviso).
        self.mailbox: asyncio.Queue[Mail] = asyncio.Queue(maxsize=settings.WS_MAILBOX_SIZE)
        # O hub põe na caixa o quadro deste protocolo (o mesmo texto para todos os sockets).
        self.framer: Framer = websocket_frame
        self.hub: FeedHub | None = None
        self.sender: asyncio.Task[None] | None = None
        # Segura o envio ao vivo enquanto o hello e a retomada saem: a retomada vem
        # inteira antes de qualquer evento ao vivo (senão o cursor do cliente pularia
        # eventos ainda não reenviados).
        self.live_lock = asyncio.Lock()
        self.closed = False
        self.counted = False
        # Cursor da URL (``?cursor=N``) guardado até o "auth" de quem entra por JWT.
        self.pending_cursor: int | None = None
        # Instante (epoch) em que o socket fecha: prazo do "auth" ou fim da credencial.
        self.deadline: float | None = None
        self.next_recheck = math.inf
        self.watchdog: asyncio.Task[None] | None = None
        self.rearm = asyncio.Event()
        self.accepted = False
        # Chave do limite de mensagens deste socket (por processo).
        self.socket_key = f"ws:{id(self)}:{time.monotonic_ns()}"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        except _LAYER_ERRORS:
            # Sem a camada de canais não há feed ao vivo; o resto do sistema segue.
            logger.warning("camada de canais indisponível; socket fechado com 1013", exc_info=True)
            already_closed, self.closed = self.closed, True
            await self._release()
            if already_closed:
                return
            with contextlib.suppress(OSError, RuntimeError):
                if self.accepted:
                    payload = {
                        "type": "error",
                        "code": "feed_unavailable",
                        "detail": _("Feed ao vivo indisponível no momento; reconecte em instantes."),
                    }
                    await self.send(text_data=json.dumps(payload, ensure_ascii=False))
                await self.close(code=CLOSE_TRY_AGAIN_LATER, reason="feed_unavailable")

    # --- ciclo de vida --------------------------------------------------------

    async def connect(self) -> None:
        await self.accept()
        self.accepted = True
        metrics.WS_CONNECTIONS.inc()
        self.counted = True
        cursor = self._query_cursor()
        principal = await principal_from_session(self.scope)
        if principal is not None:
            await self._start(principal, cursor)
        else:
            self.pending_cursor = cursor
            self.deadline = time.time() + settings.WS_AUTH_TIMEOUT_SECONDS
        self.watchdog = asyncio.create_task(self._watch())

    async def disconnect(self, code: int) -> None:
        self.closed = True
        await self._release()

    async def _release(self) -> None:
        """Sai do hub, para o envio e o vigia e desconta a métrica (idempotente; com ``closed`` já marcado)."""
        current = asyncio.current_task()
        if self.hub is not None:
            hub, self.hub = self.hub, None
            await hub.unregister(self)
        if self.sender is not None and self.sender is not current:
            self.sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.sender
        if self.watchdog is not None and self.watchdog is not current:
            self.watchdog.cancel()
            # No Python 3.11 o wait_for engole o cancelamento se a espera interna terminar ao
            # mesmo tempo (gh-86296); acordado, o vigia vê ``closed`` e sai sozinho.
            self.rearm.set()
            with contextlib.suppress(asyncio.CancelledError):
                await self.watchdog
        if self.counted:
            metrics.WS_CONNECTIONS.dec()
            self.counted = False

    # --- mensagens do cliente ---------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.closed:
            return
        if not message_allowed(self.socket_key):
            # Um cliente que inunda o socket é fechado (1008): as mensagens são tratadas em
            # ordem, uma por vez, e nenhuma retomada anda em paralelo no mesmo socket.
            await self._error("rate_limited", _("Mensagens demais neste socket; reconecte mais devagar."))
            self._leave_hub()
            with contextlib.suppress(OSError):
                await self.close(code=CLOSE_POLICY_VIOLATION, reason="rate_limited")
            return
        try:
            if text_data is None:
                raise ProtocolError({"_": ["send JSON text frames"]})
            message = parse_client_message(text_data)
        except ProtocolError as exc:
            if self.principal is None:
                await self._deny("unauthenticated", _('Envie primeiro {"type": "auth", "token": …}.'))
                return
            await self._error("invalid_message", _("Mensagem inválida."), fields=exc.fields)
            return

        if self.principal is None:
            if isinstance(message, AuthMessage):
                await self._authenticate_jwt(message)
            else:
                await self._deny("unauthenticated", _('Envie primeiro {"type": "auth", "token": …}.'))
            return

        if isinstance(message, AuthMessage):
            await self._error("already_authenticated", _("Este socket já está autenticado."))
        elif isinstance(message, SubscribeMessage):
            self.subscription = Subscription.from_message(message)
            await self._send_json({"type": "subscribed", **self.subscription.to_json()})
            if message.cursor is not None:
                await self._replay(message.cursor)
        elif isinstance(message, ResumeMessage):
            await self._replay(message.cursor)
        elif isinstance(message, PingMessage):
            await self._send_json({"type": "pong"})

    async def _authenticate_jwt(self, message: AuthMessage) -> None:
        try:
            principal = await principal_from_jwt(message.token)
        except CredentialRejected as exc:
            await self._deny(exc.code, exc.detail)
            return
        cursor = message.cursor if message.cursor is not None else self.pending_cursor
        await self._start(principal, cursor)

    async def _start(self, principal: Principal, cursor: int | None) -> None:
        """Autenticado: entra no hub, manda ``hello`` e, com cursor, os eventos perdidos.

        Entrar no hub (e o hub no grupo) ANTES de ler o armazenamento fecha a janela
        da corrida: um evento gravado depois da leitura chega pelo hub; um gravado
        antes vem da leitura (e, se vier pelos dois, o dedupe por id descarta a
        cópia). Os eventos ao vivo esperam na caixa de saída enquanto a retomada roda.
        """
        self.principal = principal
        self.deadline = principal.expires_at
        self.next_recheck = time.time() + settings.WS_RECHECK_SECONDS
        self.rearm.set()
        async with self.live_lock:
            hub = get_hub()
            await hub.register(self)
            self.hub = hub
            self.sender = asyncio.create_task(self._send_live())
            try:
                head: int | None = await run_store(feed_head)
            except StoreUnavailable:
                head = None
            await self._send_json(
                {
                    "type": "hello",
                    "cursor": head,
                    "user": principal.username,
                    "auth": principal.kind,
                    "expiresAt": _iso(principal.expires_at),
                }
            )
            if cursor is not None:
                await self._replay_locked(cursor)

    async def _replay(self, cursor: int) -> None:
        async with self.live_lock:
            await self._replay_locked(cursor)

    async def _replay_locked(self, cursor: int) -> None:
        try:
            async with replay_slot():
                replay = await run_store(feed_replay, cursor=cursor, subscription=self.subscription)
        except StoreUnavailable:
            logger.warning("retomada do feed adiada: armazenamento indisponível")
            await self._error("store_unavailable", _("Armazenamento indisponível; tente retomar mais tarde."))
            return
        if replay.resync_reason is not None:
            await self._send_json(
                {
                    "type": "resync_required",
                    "reason": replay.resync_reason,
                    "cursor": replay.head,
                    "detail": _("Eventos perdidos demais para reenviar; recarregue pela API e siga deste cursor."),
                }
            )
            return
        last = cursor
        replayed = 0
        for seq, event in replay.events:
            last = max(last, seq)
            if event["id"] in self.delivered:
                continue
            self.delivered.add(event["id"])
            replayed += 1
            await self._send_json({"type": "new_event", "event": event, "cursor": seq})
        await self._send_json({"type": "resumed", "cursor": last, "replayed": replayed})

    # --- eventos ao vivo (caixa de saída preenchida pelo hub) ------------------------

    async def _send_live(self) -> None:
        """Esvazia a caixa de saída até o socket fechar."""
        try:
            while not self.closed:
                mail = await self.mailbox.get()
                async with self.live_lock:
                    await self._deliver(mail)
        except Exception:
            # Erro inesperado do servidor ASGI: sem esta tarefa o socket ficaria mudo.
            logger.exception("envio ao vivo do feed falhou; socket fechado")
            self._leave_hub()
            with contextlib.suppress(Exception):
                await self.close(code=CLOSE_INTERNAL_ERROR)

    async def _deliver(self, mail: Mail) -> None:
        """Manda um ``new_event`` já serializado pelo hub, ou atende um aviso do hub."""
        if self.closed:
            return
        if isinstance(mail, Signal):
            if mail is Signal.SLOW:
                detail = _("Conexão lenta demais para o feed; reconecte e retome pelo cursor.")
            else:
                detail = _("Feed ao vivo indisponível no momento; reconecte em instantes.")
            await self._close_try_again(mail.value, detail)
            return
        # A credencial vale por entrega: uma comparação de tempo, sem E/S.
        if self.deadline is not None and time.time() >= self.deadline:
            await self._deny("credential_expired", _("Credencial expirada; autentique-se de novo."))
            return
        try:
            await self.send(text_data=mail)
        except OSError:
            # Cliente já foi embora (ver _send_json).
            self.closed = True

    def _leave_hub(self) -> None:
        """Marca o socket como fechado e o tira do repasse já (o hub para no ``disconnect``)."""
        self.closed = True
        if self.hub is not None:
            self.hub.sockets.pop(self, None)

    async def _close_try_again(self, code: str, detail: str) -> None:
        """Explica e fecha com 1013: o cliente reconecta e retoma pelo cursor."""
        await self._error(code, detail)
        self._leave_hub()
        with contextlib.suppress(OSError):
            await self.close(code=CLOSE_TRY_AGAIN_LATER, reason=code)

    # --- vigia: prazos e revalidação --------------------------------------------------

    async def _watch(self) -> None:
        """Fecha o socket no prazo (auth/expiração) e reconfere a credencial periodicamente."""
        while True:
            wake = min(self.deadline if self.deadline is not None else math.inf, self.next_recheck)
            # Acorda no prazo, ou antes se os prazos mudarem (autenticação).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.rearm.wait(), timeout=max(0.0, wake - time.time()))
            if self.closed:
                return
            if self.rearm.is_set():
                self.rearm.clear()
                continue
            now = time.time()
            if self.deadline is not None and now >= self.deadline:
                if self.principal is None:
                    await self._deny("auth_timeout", _("Autenticação não recebida a tempo."))
                else:
                    await self._deny("credential_expired", _("Credencial expirada; autentique-se de novo."))
                return
            if self.principal is not None and now >= self.next_recheck:
                self.next_recheck = now + settings.WS_RECHECK_SECONDS
                await self._recheck(self.principal)

    async def _recheck(self, principal: Principal) -> None:
        try:
            valid = await principal_still_valid(principal)
        except Exception:
            # Banco fora do ar não derruba quem já está autenticado; tenta no próximo ciclo.
            logger.warning("revalidação do socket adiada", exc_info=True)
            return
        if not valid:
            await self._deny("credential_revoked", _("Sessão encerrada ou usuário desativado."))

    # --- envio ---------------------------------------------------------------------

    def _query_cursor(self) -> int | None:
        raw = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("cursor")
        if not raw:
            return None
        try:
            value = int(raw[-1])
        except ValueError:
            return None
        return value if value >= 0 else None

    async def _send_json(self, payload: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            await self.send(text_data=json.dumps(payload, ensure_ascii=False))
        except OSError:
            # ASGI: enviar para um socket já fechado levanta uma subclasse de OSError
            # (o "disconnect" ainda está na fila). Nada a fazer além de parar de enviar.
            self.closed = True

    async def _error(self, code: str, detail: str, **extra: Any) -> None:
        await self._send_json({"type": "error", "code": code, "detail": detail, **extra})

    async def _deny(self, code: str, detail: str) -> None:
        """Explica o motivo numa mensagem e fecha com 4401 (o motivo vai também no frame de fechamento)."""
        if self.closed:
            return
        await self._error(code, detail)
        self._leave_hub()
        # Se o cliente já saiu, o fechamento também falha com OSError: nada a fazer.
        with contextlib.suppress(OSError):
            await self.close(code=CLOSE_UNAUTHENTICATED, reason=code)


_message_limiter = MovingWindowRateLimiter(MemoryStorage())


def message_allowed(socket_key: str) -> bool:
    """Conta uma mensagem do cliente; ``False`` passado ``WS_MESSAGE_RATE_LIMIT`` (por socket)."""
    return bool(_message_limiter.hit(parse(settings.WS_MESSAGE_RATE_LIMIT), socket_key))


_replay_slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}


def replay_slot() -> asyncio.Semaphore:
    """Vaga para uma retomada (``WS_REPLAY_CONCURRENCY`` por processo e laço de eventos).

    As retomadas leem muito do armazenamento; limitadas, nunca ocupam todas as threads
    do pool e a ingestão (e os outros sockets) seguem andando. As que esperam a vez
    esperam no laço, sem custo.
    """
    loop = asyncio.get_running_loop()
    slots = _replay_slots.get(loop)
    if slots is None:
        for stale in [other for other in _replay_slots if other.is_closed()]:
            del _replay_slots[stale]
        slots = _replay_slots[loop] = asyncio.Semaphore(settings.WS_REPLAY_CONCURRENCY)
    return slots


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")
