"""Difusão de eventos e alertas novos para os feeds ao vivo, sempre depois da gravação confirmada.

As mensagens vão à camada de canais em **micro-lotes**: um ``group_send`` por lote, que
fecha ``FEED_BATCH_SECONDS`` (2 ms) depois da primeira mensagem ou ao chegar a
``FEED_BATCH_MAX`` (100) mensagens, o que vier primeiro. No ``channels_redis`` cada
``group_send`` custa duas idas ao Redis (~200 µs de CPU), com uma mensagem ou com cem
(``python -m bench.group_send_cost``).

Envelope (genérico: qualquer mensagem do grupo ``events`` pode ir num lote):

* lote de 1 → a própria mensagem, sem envelope (``{"type": "event.new", ...}``) — o
  mesmo formato de antes, e o que se vê a taxas baixas;
* lote de 2+ → ``{"type": "feed.batch", "messages": [m1, m2, ...]}``, na ordem de
  chegada; o hub (``events/feed/hub.py``) desembrulha e trata cada uma como se viesse só.

Quem publica espera o envio do seu lote (≤ 2 ms a mais numa taxa baixa) e recebe se deu
certo: a resposta do webhook continua saindo depois da difusão, e um servidor que para
com graça (espera os pedidos em andamento) não deixa lote para trás. Os lotes saem em
ordem, um ``group_send`` de cada vez, pela mesma tarefa. Uma falha é registrada e contada
(uma por mensagem do lote), nunca propagada: o evento já está salvo e o feed o recupera
pela retomada com cursor.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from typing import Any

from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

from trader_monitor import metrics

logger = logging.getLogger(__name__)

EVENTS_GROUP = "events"
# Tipo do envelope de um lote com 2+ mensagens (ver ``unpack``).
BATCH_TYPE = "feed.batch"


def unpack(message: dict[str, Any]) -> list[dict[str, Any]]:
    """As mensagens de uma leitura do grupo: o conteúdo do lote, ou a própria mensagem."""
    if message.get("type") != BATCH_TYPE:
        return [message]
    items = message.get("messages")
    if not isinstance(items, list):
        raise ValueError("feed.batch sem a lista 'messages'")
    return [item for item in items if isinstance(item, dict)]


class _Batch:
    __slots__ = ("done", "messages")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.messages: list[dict[str, Any]] = []
        # Resultado do envio (True/False), compartilhado por quem pôs mensagem no lote.
        self.done: asyncio.Future[bool] = loop.create_future()


class FeedPublisher:
    """Junta as mensagens do grupo ``events`` deste processo (e deste laço) em lotes."""

    def __init__(self, layer: BaseChannelLayer, *, max_messages: int, window_seconds: float) -> None:
        self.layer = layer
        self.loop = asyncio.get_running_loop()
        self.max_messages = max(1, max_messages)
        self.window_seconds = max(0.0, window_seconds)
        self._open: _Batch | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._ready: collections.deque[_Batch] = collections.deque()
        self._sender: asyncio.Task[None] | None = None

    async def publish(self, message: dict[str, Any]) -> bool:
        """Põe ``message`` no lote aberto e espera o envio dele; True se a camada aceitou."""
        batch = self._open
        if batch is None:
            batch = self._open = _Batch(self.loop)
            if self.max_messages > 1 and self.window_seconds > 0:
                self._timer = self.loop.call_later(self.window_seconds, self._seal)
        batch.messages.append(message)
        if len(batch.messages) >= self.max_messages or self._timer is None:
            self._seal()
        # ``shield``: quem desiste (cliente desconectou) não cancela o envio dos outros.
        return await asyncio.shield(batch.done)

    def pending(self) -> int:
        """Mensagens ainda não entregues à camada (lote aberto + lotes na fila)."""
        queued = sum(len(batch.messages) for batch in self._ready)
        return queued + (len(self._open.messages) if self._open else 0)

    async def flush(self) -> None:
        """Fecha o lote aberto e espera todos os envios (desligamento, testes)."""
        self._seal()
        while self._sender is not None:
            await asyncio.shield(self._sender)

    def _seal(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._open = self._open, None
        if batch is None:
            return
        self._ready.append(batch)
        if self._sender is None:
            self._sender = self.loop.create_task(self._send_ready(), name="feed-publisher")

    async def _send_ready(self) -> None:
        try:
            while self._ready:
                batch = self._ready.popleft()
                batch.done.set_result(await self._send(batch.messages))
        finally:
            self._sender = None
            # Cancelado no meio (laço fechando): quem espera não fica pendurado.
            for batch in self._ready:
                if not batch.done.done():
                    batch.done.set_result(False)

    async def _send(self, messages: list[dict[str, Any]]) -> bool:
        message = messages[0] if len(messages) == 1 else {"type": BATCH_TYPE, "messages": messages}
        try:
            await self.layer.group_send(EVENTS_GROUP, message)
        except Exception:
            metrics.BROADCAST_FAILURES.inc(len(messages))
            ids = [m["event"].get("id") for m in messages if isinstance(m.get("event"), dict)]
            logger.exception("falha ao difundir %d mensagem(ns) do feed", len(messages), extra={"event_ids": ids[:100]})
            return False
        return True


_publisher: FeedPublisher | None = None


def get_publisher() -> FeedPublisher | None:
    """O publicador deste processo para a camada padrão e o laço atual (None sem camada).

    Um novo quando a camada ou o laço mudam (nos testes, cada teste tem o seu; o
    ``async_to_sync`` de uma view síncrona fora do servidor roda num laço próprio). O
    antigo continua vivo enquanto tiver lote pendente: o temporizador e quem espera o
    seguram.
    """
    global _publisher
    layer = get_channel_layer()
    if layer is None:
        return None
    loop = asyncio.get_running_loop()
    if _publisher is None or _publisher.layer is not layer or _publisher.loop is not loop:
        _publisher = FeedPublisher(
            layer, max_messages=settings.FEED_BATCH_MAX, window_seconds=settings.FEED_BATCH_SECONDS
        )
    return _publisher


async def event_broadcast(*, event: dict[str, Any], cursor: int) -> bool:
    """Publica ``new_event`` para os hubs dos processos (grupo ``events``), num micro-lote.

    Volta depois de o lote ir para a camada. Uma falha aqui é registrada e contada, nunca
    propagada: o evento já está salvo e o feed o recupera pela retomada com cursor.
    """
    publisher = get_publisher()
    if publisher is None:
        return False
    return await publisher.publish({"type": "event.new", "event": event, "cursor": cursor})


async def alert_broadcast(*, alert: dict[str, Any]) -> bool:
    """Publica ``alert.new`` no mesmo grupo (e nos mesmos micro-lotes) dos eventos; nunca lança.

    O alerta já está gravado: uma falha aqui só atrasa o painel, que o lê em ``GET /api/alerts``.
    """
    publisher = get_publisher()
    if publisher is None:
        return False
    return await publisher.publish({"type": "alert.new", "alert": alert})
