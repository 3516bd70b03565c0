"""Quadros de uma difusão do feed: o JSON do evento é serializado UMA vez por evento.

O hub (``events/feed/hub.py``) repassa cada evento a sockets de dois protocolos: o
WebSocket próprio (``/ws/events/``) e o Socket.IO (``/socket.io/``, namespaces ``/`` e
``/dashboard``). Os quadros diferem só no envelope em volta do mesmo JSON do evento:

* WebSocket: ``{"type":"new_event","event":<evento>,"cursor":N}``;
* Socket.IO: ``2[/dashboard,]["new_event",<evento>,N]`` — um pacote EVENT do protocolo
  Socket.IO v5 (tipo ``2``, namespace seguido de vírgula quando não é ``/``, e o array
  JSON com o nome do evento e os argumentos).

Alertas disparados (``Frames.alert``) usam os mesmos envelopes, sem cursor:
``{"type":"alert","alert":<alerta>}`` e ``2[/dashboard,]["alert",<alerta>]``.

Por isso ``Frames`` guarda o JSON do evento (feito sob demanda, uma vez) e cada
envelope pronto por enquadrador (também uma vez): com 100 sockets em dois protocolos e
dois namespaces, um evento custa um ``json.dumps`` e três concatenações de texto.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

__all__ = ["Framer", "Frames", "SocketIOEventFramer", "websocket_frame"]


class Framer(Protocol):
    """Transforma a difusão no texto que um tipo de socket manda (o mesmo objeto para todos os sockets do tipo)."""

    def __call__(self, frames: Frames, /) -> str: ...


class Frames:
    """Uma difusão (nome, carga, cursor) e os quadros já prontos, por enquadrador."""

    __slots__ = ("_by_framer", "_payload_json", "cursor", "field", "name", "payload")

    def __init__(self, *, name: str, field: str, payload: dict[str, Any], cursor: int | None) -> None:
        self.name = name
        self.field = field
        self.payload = payload
        self.cursor = cursor
        self._payload_json: str | None = None
        self._by_framer: dict[Framer, str] = {}

    @classmethod
    def new_event(cls, *, event: dict[str, Any], cursor: int) -> Frames:
        return cls(name="new_event", field="event", payload=event, cursor=cursor)

    @classmethod
    def alert(cls, *, alert: dict[str, Any]) -> Frames:
        """Um alerta disparado: ``{"type":"alert","alert":{…}}`` / ``["alert",{…}]`` (sem cursor)."""
        return cls(name="alert", field="alert", payload=alert, cursor=None)

    @property
    def payload_json(self) -> str:
        """O JSON da carga (o evento como a API REST o devolve), serializado na primeira vez que alguém pede."""
        if self._payload_json is None:
            self._payload_json = json.dumps(self.payload, ensure_ascii=False, separators=(",", ":"))
        return self._payload_json

    def framed(self, framer: Framer) -> str:
        """O quadro deste enquadrador, feito na primeira vez e reaproveitado pelos sockets seguintes."""
        text = self._by_framer.get(framer)
        if text is None:
            text = self._by_framer[framer] = framer(self)
        return text

    def arguments_json(self) -> str:
        """Os argumentos do evento em JSON, sem os colchetes: ``<carga>[,<cursor>]``."""
        if self.cursor is None:
            return self.payload_json
        return f"{self.payload_json},{int(self.cursor)}"


def websocket_frame(frames: Frames) -> str:
    """Quadro de texto do ``/ws/events/``: ``{"type": nome, campo: carga, "cursor"?: N}``."""
    cursor = "" if frames.cursor is None else f',"cursor":{int(frames.cursor)}'
    return f'{{"type":{json.dumps(frames.name)},{json.dumps(frames.field)}:{frames.payload_json}{cursor}}}'


class SocketIOEventFramer:
    """Pacote EVENT do Socket.IO (protocolo v5) de um namespace: ``2<ns,>[nome,carga,cursor]``.

    Um objeto por namespace (chave do cache de ``Frames.framed``). O texto vai ao cliente
    como a mensagem de um pacote Engine.IO, igual ao que ``AsyncServer.emit`` produziria.
    """

    __slots__ = ("_prefix", "namespace")

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self._prefix = "2" if namespace == "/" else f"2{namespace},"

    def __call__(self, frames: Frames) -> str:
        return f"{self._prefix}[{json.dumps(frames.name)},{frames.arguments_json()}]"

    def __repr__(self) -> str:
        return f"SocketIOEventFramer({self.namespace!r})"
