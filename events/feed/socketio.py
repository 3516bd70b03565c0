"""``/socket.io/`` — o feed ao vivo pelo protocolo Socket.IO (python-socketio, ASGI).

Para frontends escritos contra o contrato original (``socket.io-client`` 4.x). Roda na
mesma aplicação ASGI do Channels (``trader_monitor/asgi.py``) e é alimentado pelo mesmo
hub do processo (``events/feed/hub.py``): cada cliente Socket.IO é um ``FeedSocket``
como os sockets do ``/ws/events/``, com o filtro, o dedupe por id e a caixa de saída;
o hub põe nela o pacote EVENT já pronto (``events/feed/frames.py``, o JSON do evento é
feito uma vez para todos os protocolos). Não há gerenciador de clientes entre processos:
cada processo lê o grupo ``events`` da camada de canais e entrega aos seus clientes.

Envio: uma tarefa por processo (a "bomba") esvazia as caixas dos clientes na fila do
Engine.IO, que tem a sua própria tarefa de escrita por conexão. Uma tarefa de envio por
cliente, como no ``/ws/events/``, somaria um segundo salto entre tarefas por entrega
(medido: ``bench/OTIMIZACOES.md``, seção do Socket.IO). A bomba não entrega a um cliente
enquanto o ``hello`` e a retomada dele saem (``live_lock``); quem solta a trava a chama.

Contrato (namespaces ``/`` e ``/dashboard``, o mesmo feed nos dois):

* handshake ``auth: {token?, cursor?}``: ``token`` é o JWT de acesso; sem ``token``,
  vale o cookie de sessão do painel (página da mesma origem). Sem credencial válida o
  cliente recebe ``connect_error`` com ``message`` = código (``unauthenticated``,
  ``token_invalid``, ``token_expired``, ``invalid_auth``, ``feed_unavailable``) e
  ``data = {code, detail}``;
* servidor → cliente: ``hello`` ``{cursor, user, auth, expiresAt}``; ``new_event``
  ``(evento, cursor)`` — o evento exatamente como ``GET /api/events/<id>``; ``alert``
  ``(alerta)`` — um alerta disparado, como ``GET /api/alerts/<id>``, só ao vivo (filtrado
  pelo ``userId`` da inscrição; ``types`` não se aplica; a retomada não reenvia alertas);
  ``resumed`` ``{cursor, replayed}``; ``resync_required`` ``{reason, cursor, detail}``;
  ``subscribed`` ``{types, userId}``; ``error`` ``{code, detail, fields?}``;
* cliente → servidor: ``subscribe`` ``{types?, userId?, cursor?}`` e ``resume``
  ``{cursor}``, como no ``/ws/events/`` (com ack, a resposta vem também no callback), com
  os mesmos limites (``WS_MESSAGE_RATE_LIMIT`` por cliente: o excesso recebe
  ``rate_limited`` e é desconectado; ``WS_REPLAY_CONCURRENCY`` retomadas por processo);
* retomada: com ``cursor`` no handshake, os eventos perdidos chegam em ordem antes de
  qualquer evento ao vivo, com as garantias e limites do ``/ws/events/``
  (``events/feed/protocol.py``);
* credencial vencida ou revogada: ``error`` (``credential_expired`` /
  ``credential_revoked``) e desconexão pelo servidor — o cliente não reconecta sozinho:
  renove o token e chame ``socket.connect()``;
* camada de canais fora do ar ou cliente que não acompanha: ``error``
  (``feed_unavailable`` / ``slow_consumer``) e o transporte é fechado — o cliente
  reconecta sozinho e retoma pelo cursor. O Engine.IO entrega ao transporte tudo o que
  recebe (a fila dele não tem limite): quem segura o atraso de um cliente lento é o
  heartbeat do Engine.IO: o PING entra na mesma fila e, sem PONG em ``ping_timeout``, a
  conexão cai (~45 s de atraso no pior caso).

Transportes: ``SOCKETIO_TRANSPORTS`` (ver ``trader_monitor/settings.py``): long-polling
só com um processo ou sessões fixas; com vários workers, só WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn, TypeVar

import socketio
from django.conf import settings
from django.http.cookie import parse_cookie
from django.utils.translation import gettext as _
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from redis.exceptions import RedisError
from socketio.exceptions import ConnectionRefusedError as SocketIORefused

from events.feed.auth import (
    CredentialRejected,
    Principal,
    principal_from_jwt,
    principal_from_session_key,
    principal_still_valid,
)
from events.feed.consumer import message_allowed, replay_slot
from events.feed.frames import Framer, Frames, SocketIOEventFramer
from events.feed.hub import FeedHub, Mail, Signal, get_hub
from events.feed.origins import origin_allowed
from events.feed.protocol import (
    MAX_CLIENT_MESSAGE_BYTES,
    Cursor,
    DeliveredIds,
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

SOCKETIO_PATH = "/socket.io/"
NAMESPACES = ("/", "/dashboard")
_LAYER_ERRORS = (RedisError, OSError)
_FRAMERS = {namespace: SocketIOEventFramer(namespace) for namespace in NAMESPACES}
_M = TypeVar("_M", SubscribeMessage, ResumeMessage)
_MESSAGE_TYPES: dict[type[SubscribeMessage | ResumeMessage], str] = {
    SubscribeMessage: "subscribe",
    ResumeMessage: "resume",
}


def is_socketio_path(path: str) -> bool:
    return path == SOCKETIO_PATH.rstrip("/") or path.startswith(SOCKETIO_PATH)


class HandshakeAuth(BaseModel):
    """O objeto ``auth`` do handshake do Socket.IO."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: Annotated[str, Field(min_length=1, max_length=4096, strict=True)] | None = None
    cursor: Cursor | None = None


def _refuse(code: str, detail: str, **extra: Any) -> NoReturn:
    """Recusa o handshake: o cliente recebe ``connect_error`` com ``message`` = código e ``data``."""
    raise SocketIORefused(code, {"code": code, "detail": detail, **extra})


class _Mailbox(asyncio.Queue[Mail]):
    """Caixa de saída que avisa a bomba do feed a cada carta (o hub só usa ``put_nowait``)."""

    def __init__(self, maxsize: int, on_mail: Callable[[], None]) -> None:
        super().__init__(maxsize)
        self._on_mail = on_mail

    def put_nowait(self, item: Mail) -> None:
        super().put_nowait(item)
        self._on_mail()


@dataclass(eq=False)
class SocketIOClient:
    """Um cliente num namespace: o ``FeedSocket`` do hub e o estado da conexão."""

    sid: str
    namespace: str
    eio_sid: str
    principal: Principal
    cursor: int | None
    on_mail: Callable[[SocketIOClient], None]
    subscription: Subscription = field(default_factory=Subscription)
    delivered: DeliveredIds = field(default_factory=DeliveredIds)
    # Segura o envio ao vivo enquanto a retomada sai (ver EventFeedConsumer.live_lock).
    live_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # O CONNECT já foi para a fila do Engine.IO: daqui em diante o cliente pode receber eventos.
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    # ``hello`` e a retomada do handshake saíram: só então a bomba entrega e as mensagens
    # do cliente são atendidas.
    greeted: asyncio.Event = field(default_factory=asyncio.Event)
    # Saindo (credencial vencida, aviso do hub, erro): a bomba não entrega mais nada.
    leaving: bool = False
    closed: bool = False
    hub: FeedHub | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.mailbox: asyncio.Queue[Mail] = _Mailbox(settings.WS_MAILBOX_SIZE, lambda: self.on_mail(self))
        # O mesmo enquadrador para todos os clientes do namespace: o hub faz o pacote uma vez.
        self.framer: Framer = _FRAMERS[self.namespace]

    @property
    def deadline(self) -> float | None:
        return self.principal.expires_at


class _ConnectNotifyingManager(socketio.AsyncManager):
    """O gerenciador padrão (em memória, por processo) que avisa quando o CONNECT já saiu.

    O python-socketio põe o pacote CONNECT na fila do Engine.IO e só então marca o
    cliente como conectado aqui; o feed espera esse aviso para mandar ``hello`` e a
    retomada, que assim chegam depois do aceite (e antes de qualquer evento ao vivo).
    """

    def __init__(self, feed: SocketIOFeed) -> None:
        super().__init__()
        self.feed = feed

    async def connect(self, sid: str, namespace: str) -> Any:
        result = await super().connect(sid, namespace)
        self.feed.connected(sid, namespace)
        return result


class _FeedNamespace(socketio.AsyncNamespace):
    """Traduz os eventos do python-socketio para o ``SocketIOFeed`` (um por namespace)."""

    def __init__(self, namespace: str, feed: SocketIOFeed) -> None:
        super().__init__(namespace)
        self.feed = feed

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        return await self.feed.connect(sid, self.namespace, environ, auth)

    async def on_disconnect(self, sid: str, reason: str | None = None) -> None:
        await self.feed.disconnect(sid, self.namespace)

    async def on_subscribe(self, sid: str, data: Any = None) -> dict[str, Any] | None:
        return await self.feed.subscribe(sid, self.namespace, data)

    async def on_resume(self, sid: str, data: Any = None) -> dict[str, Any] | None:
        return await self.feed.resume(sid, self.namespace, data)


class SocketIOFeed:
    """O servidor Socket.IO do feed e os clientes deste processo."""

    def __init__(self, *, transports: Sequence[str] | None = None) -> None:
        self.clients: dict[tuple[str, str], SocketIOClient] = {}
        # Clientes com cartas na caixa (conjunto ordenado), o sinal e a tarefa da bomba.
        self._ready: dict[SocketIOClient, None] = {}
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self.server = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=_ConnectNotifyingManager(self),
            namespaces=list(NAMESPACES),
            transports=list(transports if transports is not None else settings.SOCKETIO_TRANSPORTS),
            # A mesma regra de origem do /ws/events/ (events/feed/origins.py), também nos
            # cabeçalhos CORS do long-polling.
            cors_allowed_origins=origin_allowed,
            cors_credentials=True,
            # Só handshake, subscribe e resume chegam do cliente (um polling pode juntar alguns).
            max_http_buffer_size=2 * MAX_CLIENT_MESSAGE_BYTES,
            logger=False,
            engineio_logger=False,
        )
        for namespace in NAMESPACES:
            self.server.register_namespace(_FeedNamespace(namespace, self))
        self.app = socketio.ASGIApp(self.server, socketio_path=SOCKETIO_PATH.strip("/"))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    async def shutdown(self) -> None:
        """Para a bomba e as tarefas de fundo do Engine.IO (testes; o processo do servidor não precisa)."""
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump
            self._pump = None
        await self.server.shutdown()

    # --- conexão ----------------------------------------------------------------------

    async def connect(self, sid: str, namespace: str, environ: dict[str, Any], auth: Any) -> bool:
        """Autentica o handshake e põe o cliente no hub; recusa com ``connect_error`` nomeando o motivo."""
        try:
            handshake = HandshakeAuth.model_validate(auth if auth is not None else {})
        except ValidationError as exc:
            fields = {".".join(str(p) for p in e["loc"]) or "_": [e["msg"]] for e in exc.errors(include_url=False)}
            _refuse("invalid_auth", _("Handshake inválido: use auth: {token, cursor}."), fields=fields)
        principal = await self._authenticate(handshake, environ)
        eio_sid = self.server.manager.eio_sid_from_sid(sid, namespace)
        client = SocketIOClient(
            sid=sid,
            namespace=namespace,
            eio_sid=eio_sid,
            principal=principal,
            cursor=handshake.cursor,
            on_mail=self._mark_ready,
        )
        self._ensure_pump()
        hub = get_hub()
        try:
            # Antes de ler o armazenamento (hello/retomada): um evento gravado depois da
            # leitura chega pelo hub e espera na caixa; o dedupe por id descarta a cópia.
            await hub.register(client)
        except _LAYER_ERRORS:
            logger.warning("camada de canais indisponível; handshake do Socket.IO recusado", exc_info=True)
            _refuse("feed_unavailable", _("Feed ao vivo indisponível no momento; reconecte em instantes."))
        client.hub = hub
        if self.server.get_environ(sid, namespace) is None:
            # O transporte fechou durante a autenticação: não haverá CONNECT nem desconexão.
            await hub.unregister(client)
            return False
        self.clients[(sid, namespace)] = client
        metrics.SOCKETIO_CONNECTIONS.inc()
        client.tasks = [
            asyncio.create_task(self._greet(client), name=f"socketio-greet-{sid}"),
            asyncio.create_task(self._watch(client), name=f"socketio-watch-{sid}"),
        ]
        return True

    async def _authenticate(self, handshake: HandshakeAuth, environ: dict[str, Any]) -> Principal:
        if handshake.token is not None:
            try:
                return await principal_from_jwt(handshake.token)
            except CredentialRejected as exc:
                _refuse(exc.code, exc.detail)
        cookies = parse_cookie(environ.get("HTTP_COOKIE", ""))
        principal = await principal_from_session_key(cookies.get(settings.SESSION_COOKIE_NAME))
        if principal is None:
            _refuse("unauthenticated", _("Envie o JWT de acesso em auth: {token} (ou entre pelo painel)."))
        return principal

    def connected(self, sid: str, namespace: str) -> None:
        """Aviso do gerenciador: o CONNECT do cliente já está na fila do Engine.IO."""
        client = self.clients.get((sid, namespace))
        if client is not None:
            client.connected.set()

    async def disconnect(self, sid: str, namespace: str) -> None:
        client = self.clients.pop((sid, namespace), None)
        if client is not None:
            await self._release(client)

    async def _release(self, client: SocketIOClient) -> None:
        """Sai do hub, para as tarefas do cliente e desconta a métrica (uma vez por cliente)."""
        client.closed = True
        if client.hub is not None:
            hub, client.hub = client.hub, None
            await hub.unregister(client)
        current = asyncio.current_task()
        others = [task for task in client.tasks if task is not current]
        for task in others:
            task.cancel()
        # O resultado (ou a falha) de cada tarefa já não importa; só não pode ficar sem dono.
        await asyncio.gather(*others, return_exceptions=True)
        metrics.SOCKETIO_CONNECTIONS.dec()

    # --- mensagens do cliente ----------------------------------------------------------

    async def subscribe(self, sid: str, namespace: str, data: Any) -> dict[str, Any] | None:
        client = await self._greeted_client(sid, namespace)
        if client is None:
            return None
        message = await self._parse(client, SubscribeMessage, data)
        if isinstance(message, dict):
            return message
        client.subscription = Subscription.from_message(message)
        answer = client.subscription.to_json()
        async with self._holding_live(client):
            await self._emit(client, "subscribed", answer)
            if message.cursor is not None:
                await self._replay_locked(client, message.cursor)
        return answer

    async def resume(self, sid: str, namespace: str, data: Any) -> dict[str, Any] | None:
        client = await self._greeted_client(sid, namespace)
        if client is None:
            return None
        message = await self._parse(client, ResumeMessage, data)
        if isinstance(message, dict):
            return message
        async with self._holding_live(client):
            return await self._replay_locked(client, message.cursor)

    async def _greeted_client(self, sid: str, namespace: str) -> SocketIOClient | None:
        """O cliente, depois de ``hello`` e da retomada do handshake (ordem das respostas).

        Conta a mensagem no limite por socket do ``/ws/events/`` (``WS_MESSAGE_RATE_LIMIT``):
        o excesso recebe ``rate_limited`` e o cliente é desconectado pelo servidor.
        """
        client = self.clients.get((sid, namespace))
        if client is None or client.leaving:
            return None
        if not message_allowed(f"socketio:{sid}:{namespace}"):
            await self._deny(client, "rate_limited", _("Mensagens demais neste socket; reconecte mais devagar."))
            return None
        await client.greeted.wait()
        return None if client.closed else client

    async def _parse(self, client: SocketIOClient, kind: type[_M], data: Any) -> _M | dict[str, Any]:
        """Valida o argumento como a mensagem ``kind`` do ``/ws/events/``; se inválido, emite e devolve o erro."""
        try:
            if not isinstance(data, dict):
                raise ProtocolError({"_": ["send an object as the only argument"]})
            message = parse_client_message(json.dumps({**data, "type": _MESSAGE_TYPES[kind]}))
        except ProtocolError as exc:
            error = {"code": "invalid_message", "detail": _("Mensagem inválida."), "fields": exc.fields}
            await self._emit(client, "error", error)
            return error
        if not isinstance(message, kind):  # pragma: no cover - o "type" foi posto aqui
            raise TypeError(kind)
        return message

    # --- retomada e eventos ao vivo -------------------------------------------------------

    async def _greet(self, client: SocketIOClient) -> None:
        """Depois do CONNECT: ``hello`` e a retomada do handshake, antes de qualquer evento ao vivo."""
        try:
            await client.connected.wait()
            async with self._holding_live(client):
                try:
                    head: int | None = await run_store(feed_head)
                except StoreUnavailable:
                    head = None
                await self._emit(
                    client,
                    "hello",
                    {
                        "cursor": head,
                        "user": client.principal.username,
                        "auth": client.principal.kind,
                        "expiresAt": _iso(client.deadline),
                    },
                )
                if client.cursor is not None:
                    await self._replay_locked(client, client.cursor)
        except Exception:
            logger.exception("saudação do feed Socket.IO falhou; transporte fechado")
            client.leaving = True
            with contextlib.suppress(Exception):
                await self._close_transport(client)
        finally:
            # Quem espera a saudação (a bomba, subscribe/resume) não fica preso se ela falhar.
            client.greeted.set()
            self._mark_ready(client)

    @contextlib.asynccontextmanager
    async def _holding_live(self, client: SocketIOClient) -> AsyncIterator[None]:
        """Segura as entregas ao vivo do cliente; ao soltar, a bomba entrega o que chegou no meio."""
        try:
            async with client.live_lock:
                yield
        finally:
            self._mark_ready(client)

    # --- a bomba: caixas de saída → fila do Engine.IO -------------------------------------

    def _mark_ready(self, client: SocketIOClient) -> None:
        self._ready[client] = None
        self._wake.set()

    def _ensure_pump(self) -> None:
        """A bomba deste processo (uma por laço de eventos; nos testes, cada teste tem o seu)."""
        if self._pump is None or self._pump.done() or self._pump.get_loop() is not asyncio.get_running_loop():
            self._wake = asyncio.Event()
            self._pump = asyncio.create_task(self._run_pump(self._wake), name="socketio-pump")

    async def _run_pump(self, wake: asyncio.Event) -> None:
        while True:
            await wake.wait()
            wake.clear()
            ready, self._ready = self._ready, {}
            for client in ready:
                if client.leaving or client.closed or not client.greeted.is_set() or client.live_lock.locked():
                    # Sem entregas agora; quem segura a trava chama a bomba ao soltar.
                    continue
                try:
                    await self._drain(client)
                except Exception:
                    # Um cliente com problema não para a bomba dos outros.
                    logger.exception("entrega do feed Socket.IO falhou; transporte fechado")
                    client.leaving = True
                    self._spawn(client, self._close_transport(client))

    async def _drain(self, client: SocketIOClient) -> None:
        """Entrega o que está na caixa: pacotes prontos do hub e, se vier, um aviso do hub.

        O envio ao Engine.IO só enfileira (a fila dele não tem limite) e não suspende: a
        bomba nunca espera um cliente lento. Desconectar e avisar, que esperam, vão para
        tarefas do próprio cliente.
        """
        while not (client.leaving or client.closed):
            try:
                mail = client.mailbox.get_nowait()
            except asyncio.QueueEmpty:
                return
            if isinstance(mail, Signal):
                client.leaving = True
                self._spawn(client, self._signal(client, mail))
                return
            # A credencial vale por entrega: uma comparação de tempo, sem E/S.
            if client.deadline is not None and time.time() >= client.deadline:
                client.leaving = True
                self._spawn(
                    client, self._deny(client, "credential_expired", _("Credencial expirada; autentique-se de novo."))
                )
                return
            await self.server.eio.send(client.eio_sid, mail)

    def _spawn(self, client: SocketIOClient, work: Coroutine[Any, Any, None]) -> None:
        client.tasks.append(asyncio.create_task(work, name=f"socketio-leave-{client.sid}"))

    async def _signal(self, client: SocketIOClient, signal: Signal) -> None:
        """Aviso do hub (cliente lento, camada fora do ar): explica e fecha o transporte."""
        if signal is Signal.SLOW:
            detail = _("Conexão lenta demais para o feed; reconecte e retome pelo cursor.")
        else:
            detail = _("Feed ao vivo indisponível no momento; reconecte em instantes.")
        await self._emit(client, "error", {"code": signal.value, "detail": detail})
        await self._close_transport(client)

    async def _replay_locked(self, client: SocketIOClient, cursor: int) -> dict[str, Any] | None:
        try:
            # A mesma vaga por processo das retomadas do /ws/events/ (WS_REPLAY_CONCURRENCY).
            async with replay_slot():
                replay = await run_store(feed_replay, cursor=cursor, subscription=client.subscription)
        except StoreUnavailable:
            logger.warning("retomada do feed Socket.IO adiada: armazenamento indisponível")
            error = {"code": "store_unavailable", "detail": _("Armazenamento indisponível; tente retomar mais tarde.")}
            await self._emit(client, "error", error)
            return error
        if replay.resync_reason is not None:
            resync = {
                "reason": replay.resync_reason,
                "cursor": replay.head,
                "detail": _("Eventos perdidos demais para reenviar; recarregue pela API e siga deste cursor."),
            }
            await self._emit(client, "resync_required", resync)
            return resync
        last = cursor
        replayed = 0
        for seq, event in replay.events:
            last = max(last, seq)
            if event["id"] in client.delivered:
                continue
            client.delivered.add(event["id"])
            replayed += 1
            await self._send_packet(client, client.framer(Frames.new_event(event=event, cursor=seq)))
        resumed = {"cursor": last, "replayed": replayed}
        await self._emit(client, "resumed", resumed)
        return resumed

    # --- vigia: prazo da credencial e revalidação -------------------------------------------

    async def _watch(self, client: SocketIOClient) -> None:
        next_recheck = time.time() + settings.WS_RECHECK_SECONDS
        while True:
            wake = min(client.deadline if client.deadline is not None else math.inf, next_recheck)
            await asyncio.sleep(max(0.0, wake - time.time()))
            now = time.time()
            if client.closed:
                return
            if client.deadline is not None and now >= client.deadline:
                await self._deny(client, "credential_expired", _("Credencial expirada; autentique-se de novo."))
                return
            if now < next_recheck:
                continue
            next_recheck = now + settings.WS_RECHECK_SECONDS
            try:
                valid = await principal_still_valid(client.principal)
            except Exception:
                # Banco fora do ar não derruba quem já está autenticado; tenta no próximo ciclo.
                logger.warning("revalidação do cliente Socket.IO adiada", exc_info=True)
                continue
            if not valid:
                await self._deny(client, "credential_revoked", _("Sessão encerrada ou usuário desativado."))
                return

    # --- envio ---------------------------------------------------------------------------

    async def _send_packet(self, client: SocketIOClient, packet: str) -> None:
        """Um pacote Socket.IO já codificado vai como mensagem do Engine.IO (como faz o ``emit``)."""
        if not client.closed:
            await self.server.eio.send(client.eio_sid, packet)

    async def _emit(self, client: SocketIOClient, event: str, data: dict[str, Any]) -> None:
        if not client.closed:
            await self.server.emit(event, data, to=client.sid, namespace=client.namespace)

    async def _deny(self, client: SocketIOClient, code: str, detail: str) -> None:
        """Explica o motivo (``error``) e desconecta pelo servidor: o cliente não reconecta sozinho."""
        if client.closed:
            return
        client.leaving = True
        await self._emit(client, "error", {"code": code, "detail": detail})
        client.closed = True
        await self.server.disconnect(client.sid, namespace=client.namespace)

    async def _close_transport(self, client: SocketIOClient) -> None:
        """Fecha a conexão Engine.IO: o ``socket.io-client`` reconecta sozinho e retoma pelo cursor."""
        client.leaving = client.closed = True
        await self.server.eio.disconnect(client.eio_sid)


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")
