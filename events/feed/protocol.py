"""Protocolo do feed em tempo real: mensagens, filtro e retomada.

Tudo aqui é independente do transporte; o consumer (``events/feed/consumer.py``) só
traduz frames WebSocket para estas funções.

Mensagens do cliente (JSON, uma por frame, até ``MAX_CLIENT_MESSAGE_BYTES``):

* ``{"type": "auth", "token": "<JWT de acesso>", "cursor"?: N}`` — só sem sessão;
* ``{"type": "subscribe", "types"?: [...], "userId"?: "...", "cursor"?: N}``;
* ``{"type": "resume", "cursor": N}``;
* ``{"type": "ping"}``.

Mensagens do servidor: ``hello``, ``new_event``, ``alert``, ``subscribed``, ``resumed``,
``resync_required``, ``pong`` e ``error``.

``{"type": "alert", "alert": {…}}`` é um alerta disparado (o mesmo JSON de
``GET /api/alerts/<id>``), só ao vivo: o filtro ``userId`` vale para alertas e o
``types`` não; a retomada por cursor não os reenvia (o cliente lê
``GET /api/alerts?state=open`` a cada ``hello`` — ver o README).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter, ValidationError

from events.domain import EventFilter, event_to_json
from events.store import get_store

MAX_CLIENT_MESSAGE_BYTES = 8 * 1024
MAX_FILTER_TYPES = 20

Cursor = Annotated[StrictInt, Field(ge=0)]
TypeName = Annotated[str, Field(min_length=1, max_length=64, strict=True)]
UserId = Annotated[str, Field(min_length=1, max_length=128, strict=True)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AuthMessage(_Message):
    type: Literal["auth"]
    token: Annotated[str, Field(min_length=1, max_length=4096, strict=True)]
    cursor: Cursor | None = None


class SubscribeMessage(_Message):
    type: Literal["subscribe"]
    types: Annotated[list[TypeName], Field(max_length=MAX_FILTER_TYPES)] | None = None
    user_id: Annotated[UserId | None, Field(alias="userId")] = None
    cursor: Cursor | None = None


class ResumeMessage(_Message):
    type: Literal["resume"]
    cursor: Cursor


class PingMessage(_Message):
    type: Literal["ping"]


ClientMessage = AuthMessage | SubscribeMessage | ResumeMessage | PingMessage
_client_message: TypeAdapter[ClientMessage] = TypeAdapter(Annotated[ClientMessage, Field(discriminator="type")])


class ProtocolError(Exception):
    """Mensagem do cliente inválida; ``fields`` segue o formato de erro da API."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("mensagem inválida")
        self.fields = fields


def parse_client_message(text: str) -> ClientMessage:
    """Valida um frame de texto do cliente. Lança ``ProtocolError``."""
    if len(text.encode("utf-8", errors="replace")) > MAX_CLIENT_MESSAGE_BYTES:
        raise ProtocolError({"_": [f"message larger than {MAX_CLIENT_MESSAGE_BYTES} bytes"]})
    try:
        return _client_message.validate_json(text)
    except ValidationError as exc:
        fields: dict[str, list[str]] = {}
        for error in exc.errors(include_url=False):
            # O primeiro item do caminho é o nome do tipo escolhido pelo discriminador.
            path = [str(part) for part in error["loc"]]
            if len(path) > 1 and path[0] in {"auth", "subscribe", "resume", "ping"}:
                path = path[1:]
            if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
                path = ["type"]
            fields.setdefault(".".join(path) or "_", []).append(error["msg"])
        raise ProtocolError(fields) from None


@dataclass(frozen=True)
class Subscription:
    """Filtro do socket: vazio recebe tudo."""

    types: tuple[str, ...] = ()
    user_id: str | None = None

    @classmethod
    def from_message(cls, message: SubscribeMessage) -> Subscription:
        types = tuple(dict.fromkeys(message.types or ()))
        return cls(types=types, user_id=message.user_id)

    def matches(self, event: dict[str, Any]) -> bool:
        return EventFilter(types=self.types, user_id=self.user_id).matches(event)

    def matches_alert(self, alert: dict[str, Any]) -> bool:
        """Alertas seguem só o filtro de ``userId``; ``types`` (tipos de evento) não se aplica a eles.

        Quem acompanha um trader vê os alertas dele; quem filtra por tipo de evento continua
        vendo todos os alertas (um alerta pode juntar eventos de tipos diferentes, como o
        ``sequence``).
        """
        return self.user_id is None or alert.get("userId") == self.user_id

    def to_json(self) -> dict[str, Any]:
        return {"types": list(self.types), "userId": self.user_id}


@dataclass
class DeliveredIds:
    """Ids já entregues neste socket (janela limitada), para descartar repetições.

    Dedupe por id, não por ``seq``: com vários processos a ordem de entrega pode
    diferir um pouco da ordem de ``seq``, e um evento atrasado (``seq`` menor que
    o último entregue) ainda precisa chegar. A janela (o dobro do limite padrão da
    retomada) custa ~130 KB por socket quando cheia.
    """

    capacity: int = 1024
    _order: deque[str] = field(default_factory=deque)
    _seen: set[str] = field(default_factory=set)

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seen

    def add(self, event_id: str) -> None:
        if event_id in self._seen:
            return
        self._order.append(event_id)
        self._seen.add(event_id)
        while len(self._order) > self.capacity:
            self._seen.discard(self._order.popleft())


@dataclass(frozen=True)
class Replay:
    """Resultado da retomada: os eventos perdidos, ou o pedido de recarregar via REST."""

    events: list[tuple[int, dict[str, Any]]]
    head: int
    resync_reason: str | None = None


def feed_head() -> int:
    """Cursor mais recente do feed (``seq`` do último evento reservado)."""
    return get_store().last_seq()


def feed_replay(*, cursor: int, subscription: Subscription) -> Replay:
    """Eventos com ``seq > cursor`` que passam no filtro, em ordem — no máximo ``WS_REPLAY_LIMIT``.

    Pede ``resync_required`` quando faltam mais eventos que o limite, quando o cursor
    está longe demais (varrer o intervalo seria caro) ou à frente do feed (o
    armazenamento foi trocado/zerado): nesses casos o cliente recarrega pela API REST.
    """
    store = get_store()
    head = store.last_seq()
    if cursor > head:
        return Replay([], head, "cursor_ahead")
    if head - cursor > settings.WS_RESUME_SCAN_LIMIT:
        return Replay([], head, "too_far_behind")
    limit = settings.WS_REPLAY_LIMIT
    # Custo limitado: no máximo ``WS_RESUME_SCAN_LIMIT`` posições do índice de ``seq`` (até a
    # cabeça lida agora), mesmo com um filtro que quase nada aceita.
    docs = store.events_after_seq(
        cursor, limit=limit + 1, upto=head, types=subscription.types, user_id=subscription.user_id
    )
    if len(docs) > limit:
        return Replay([], head, "too_many_missed")
    return Replay([(int(doc["seq"]), event_to_json(doc)) for doc in docs], head)
