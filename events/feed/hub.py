"""Hub do feed por processo: uma inscrição no grupo ``events`` repassa a todos os sockets locais.

Cada processo tem UM canal no grupo e UMA tarefa que o lê (uma mensagem por
micro-lote de eventos na camada de canais — ``events/feed/publish.py`` —, não uma por
socket); a tarefa desembrulha o lote (``unpack``) e, por evento, o JSON do evento é serializado
uma vez e o quadro de cada protocolo (``events/feed/frames.py``) é posto na caixa de
saída (``asyncio.Queue`` limitada) de cada socket local cujo filtro aceita o evento e
que ainda não o recebeu (dedupe por id). Quem esvazia a caixa é a tarefa de envio do
socket (``events/feed/consumer.py``) ou, no Socket.IO, a bomba do processo
(``events/feed/socketio.py``).

* **Cliente lento:** caixa cheia (``WS_MAILBOX_SIZE``) → o socket sai do hub, a caixa
  é descartada e o socket recebe ``error``/``slow_consumer`` e fecha com 1013; o
  cliente volta com o cursor da última entrega (retomada sem lacunas).
* **Camada fora do ar:** se a leitura falha, todos os sockets do hub recebem
  ``feed_unavailable`` e fecham com 1013; o hub volta ao estado
  parado e a próxima inscrição tenta de novo — depois de uma espera crescente
  (``HubUnavailable`` enquanto isso), para não martelar o Redis a cada conexão.
* **Alertas:** ``{"type": "alert.new", "alert": {…}}`` no mesmo grupo vira ``alert``
  nos sockets autenticados cujo filtro de ``userId`` aceita o alerta (``dispatch_alert``).
* **Inscrição:** o hub sobe na primeira inscrição (``register`` só volta depois de
  o canal do processo estar no grupo) e para quando o último socket sai; enquanto
  roda, renova a inscrição no grupo periodicamente (``group_expiry`` da camada).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time
from typing import Any, Protocol

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from events.feed.frames import Framer, Frames
from events.feed.protocol import DeliveredIds, Subscription
from events.feed.publish import EVENTS_GROUP, unpack

logger = logging.getLogger(__name__)

# Mensagem da camada com um alerta disparado (``events.feed.publish.alert_broadcast``).
ALERT_MESSAGE = "alert.new"

# Espera antes de tentar de novo depois de uma falha da camada: dobra a cada falha seguida.
BACKOFF_INITIAL_SECONDS = 0.5
BACKOFF_MAX_SECONDS = 30.0


class Signal(enum.Enum):
    """Avisos do hub ao socket, pela mesma caixa de saída (depois do que já estava nela)."""

    SLOW = "slow_consumer"
    UNAVAILABLE = "feed_unavailable"


Mail = str | Signal


class FeedSocket(Protocol):
    """O que o hub usa de um socket (``EventFeedConsumer``, cliente do Socket.IO).

    ``framer`` diz o protocolo do socket: o hub põe na caixa o quadro que ele produz,
    feito uma vez por evento para todos os sockets com o mesmo enquadrador.
    """

    subscription: Subscription
    delivered: DeliveredIds
    mailbox: asyncio.Queue[Mail]
    framer: Framer


class HubUnavailable(ConnectionError):
    """A camada de canais falhou há pouco; o hub espera antes de tentar de novo."""


class FeedHub:
    """Leitor único do grupo ``events`` neste processo (e neste laço de eventos)."""

    def __init__(self, layer: BaseChannelLayer) -> None:
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        # Dicionário como conjunto ordenado (ordem de entrada; ``id`` como chave).
        self.sockets: dict[FeedSocket, None] = {}
        self.channel_name: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._failures = 0
        self._retry_at = 0.0

    @property
    def running(self) -> bool:
        return self._reader is not None

    # --- inscrição dos sockets -----------------------------------------------------

    async def register(self, sock: FeedSocket) -> None:
        """Passa a entregar a ``sock``. Quando volta, o canal do processo já está no grupo.

        Lança o erro da camada (``RedisError``/``OSError``) se não der para entrar no
        grupo, ou ``HubUnavailable`` durante a espera depois de uma falha.
        """
        async with self._lock:
            if self._reader is None:
                await self._start()
            self.sockets[sock] = None

    async def unregister(self, sock: FeedSocket) -> None:
        """Para de entregar a ``sock`` (idempotente); o último a sair para o hub."""
        self.sockets.pop(sock, None)
        if self.sockets or self._reader is None:
            return
        async with self._lock:
            if not self.sockets and self._reader is not None:
                await self._stop()

    async def _start(self) -> None:
        if time.monotonic() < self._retry_at:
            raise HubUnavailable("camada de canais falhou há pouco; aguardando para tentar de novo")
        channel = await self.layer.new_channel()
        try:
            await self.layer.group_add(EVENTS_GROUP, channel)
        except Exception:
            self._note_failure()
            raise
        self._failures = 0
        self.channel_name = channel
        self._reader = asyncio.create_task(self._read(channel), name="feed-hub-reader")
        self._refresher = asyncio.create_task(self._refresh(channel), name="feed-hub-refresher")

    async def _stop(self) -> None:
        channel = self.channel_name
        await self._cancel_tasks()
        if channel is not None:
            with contextlib.suppress(Exception):
                # Sem isso o canal expira sozinho do grupo (group_expiry).
                await self.layer.group_discard(EVENTS_GROUP, channel)

    async def _cancel_tasks(self) -> None:
        tasks = [task for task in (self._reader, self._refresher) if task is not None]
        self._reader = self._refresher = None
        self.channel_name = None
        current = asyncio.current_task()
        for task in tasks:
            if task is not current:
                task.cancel()
        for task in tasks:
            if task is not current:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def _note_failure(self) -> None:
        self._failures += 1
        wait = min(BACKOFF_MAX_SECONDS, BACKOFF_INITIAL_SECONDS * 2 ** (self._failures - 1))
        self._retry_at = time.monotonic() + wait

    # --- leitura do grupo e repasse ----------------------------------------------------

    async def _read(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("hub do feed perdeu a camada de canais; sockets fechados com 1013", exc_info=True)
                await self._fail()
                return
            try:
                items = unpack(message)
            except ValueError:
                logger.exception("lote fora do formato descartado pelo hub do feed")
                continue
            for item in items:
                self.route(item)

    def route(self, message: dict[str, Any]) -> None:
        """Uma mensagem do grupo (sozinha ou de dentro de um lote, na ordem dele)."""
        if message.get("type") == ALERT_MESSAGE:
            self._dispatch_alert_safely(message)
            return
        if message.get("type") != "event.new":
            return
        try:
            self.dispatch(message)
        except Exception:
            # Uma mensagem fora do formato não derruba o feed de todos.
            logger.exception("event.new fora do formato descartado pelo hub do feed")

    async def _fail(self) -> None:
        """Leitura falhou: avisa todos os sockets, volta ao estado parado e espera antes de retomar."""
        self._note_failure()
        sockets, self.sockets = list(self.sockets), {}
        for sock in sockets:
            _signal(sock, Signal.UNAVAILABLE)
        # Esta tarefa é a leitora: _cancel_tasks não a cancela, só a esquece.
        await self._cancel_tasks()

    def dispatch(self, message: dict[str, Any]) -> None:
        """Repasse de um ``event.new``: serializa uma vez, enfileira em cada socket que o aceita.

        O JSON do evento é feito uma vez (só se algum socket o aceita) e cada protocolo
        ganha o seu envelope uma vez (``events/feed/frames.py``).
        Síncrono de propósito: nenhum socket entra ou sai no meio do repasse.
        """
        event = message["event"]
        event_id = event["id"]
        frames = Frames.new_event(event=event, cursor=message["cursor"])
        slow: list[FeedSocket] = []
        for sock in self.sockets:
            if event_id in sock.delivered or not sock.subscription.matches(event):
                continue
            sock.delivered.add(event_id)
            try:
                sock.mailbox.put_nowait(frames.framed(sock.framer))
            except asyncio.QueueFull:
                slow.append(sock)
        self._evict_slow(slow)

    def _evict_slow(self, slow: list[FeedSocket]) -> None:
        """Tira do hub os sockets de caixa cheia; o envio fecha cada um (``slow_consumer``).

        O que estava na caixa é descartado: o cliente retoma do cursor da última entrega.
        """
        for sock in slow:
            del self.sockets[sock]
            _discard_mail(sock)
            _signal(sock, Signal.SLOW)

    # --- alertas (mensagem ``alert.new`` do mesmo grupo) ---------------------------------

    def _dispatch_alert_safely(self, message: dict[str, Any]) -> None:
        try:
            self.dispatch_alert(message)
        except Exception:
            logger.exception("alert.new fora do formato descartado pelo hub do feed")

    def dispatch_alert(self, message: dict[str, Any]) -> None:
        """Repasse de um ``alert.new``: como ``dispatch``, mas sem cursor e sem dedupe.

        Só sockets já autenticados estão no hub (a mesma regra do ``new_event``); o filtro
        do socket vale só pelo ``userId`` (``Subscription.matches_alert``). Cada alerta
        chega uma vez por processo pela camada, por isso não há dedupe por id.
        """
        alert = message["alert"]
        if not isinstance(alert, dict) or not isinstance(alert.get("id"), str):
            raise ValueError("alert.new sem alerta")
        frames = Frames.alert(alert=alert)
        slow: list[FeedSocket] = []
        for sock in self.sockets:
            if not sock.subscription.matches_alert(alert):
                continue
            try:
                sock.mailbox.put_nowait(frames.framed(sock.framer))
            except asyncio.QueueFull:
                slow.append(sock)
        self._evict_slow(slow)

    async def _refresh(self, channel: str) -> None:
        """Renova a inscrição antes que ela expire na camada (``group_expiry``)."""
        group_expiry = float(getattr(self.layer, "group_expiry", 86400))
        while True:
            await asyncio.sleep(min(settings.WS_RECHECK_SECONDS, group_expiry / 2))
            try:
                await self.layer.group_add(EVENTS_GROUP, channel)
            except Exception:
                # Se a camada caiu de vez, a leitura falha e fecha os sockets.
                logger.warning("renovação da inscrição do hub no grupo adiada", exc_info=True)


def _discard_mail(sock: FeedSocket) -> None:
    while not sock.mailbox.empty():
        sock.mailbox.get_nowait()


def _signal(sock: FeedSocket, signal: Signal) -> None:
    if sock.mailbox.full():
        _discard_mail(sock)
    sock.mailbox.put_nowait(signal)


_hub: FeedHub | None = None


def get_hub() -> FeedHub:
    """O hub deste processo para a camada de canais padrão e o laço de eventos atual.

    Um hub novo quando a camada ou o laço mudam (nos testes, cada teste tem os seus).
    """
    global _hub
    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("o feed ao vivo precisa de CHANNEL_LAYERS configurado")
    if _hub is None or _hub.layer is not layer or _hub.loop is not asyncio.get_running_loop():
        _hub = FeedHub(layer)
    return _hub
