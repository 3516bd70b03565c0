"""Quadros do feed: o mesmo evento, um JSON, o envelope certo para cada protocolo."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from socketio import packet as socketio_packet

from events.feed.frames import Framer, Frames, SocketIOEventFramer, websocket_frame

EVENT = {
    "id": "6750c0ffee0000000000abcd",
    "userId": "u-ção",
    "type": "purchase",
    "value": 10.5,
    "timestamp": "2026-12-01T10:00:00.000Z",
    "metadata": {"nota": 'aspas " e barra \\ e 🚀', "n": [1, None, True]},
    "receivedAt": "2026-12-01T10:00:00.001Z",
}


def test_websocket_frame_is_the_documented_new_event_message() -> None:
    text = websocket_frame(Frames.new_event(event=EVENT, cursor=42))

    assert json.loads(text) == {"type": "new_event", "event": EVENT, "cursor": 42}


@pytest.mark.parametrize("namespace", ["/", "/dashboard"])
def test_socketio_frame_decodes_as_an_event_packet_of_its_namespace(namespace: str) -> None:
    text = SocketIOEventFramer(namespace)(Frames.new_event(event=EVENT, cursor=42))

    decoded = socketio_packet.Packet(encoded_packet=text)

    assert decoded.packet_type == socketio_packet.EVENT
    assert (decoded.namespace or "/") == namespace
    assert decoded.id is None
    assert decoded.data == ["new_event", EVENT, 42]


@pytest.mark.parametrize("namespace", ["/", "/dashboard"])
def test_socketio_frame_matches_what_python_socketio_emit_would_send(namespace: str) -> None:
    # Mesmo conteúdo que o encoder da biblioteca (que usa separadores compactos e ASCII).
    ours = SocketIOEventFramer(namespace)(Frames.new_event(event=EVENT, cursor=7))
    library = socketio_packet.Packet(socketio_packet.EVENT, data=["new_event", EVENT, 7], namespace=namespace).encode()

    assert socketio_packet.Packet(encoded_packet=ours).data == socketio_packet.Packet(encoded_packet=library).data
    assert ours.split("[", 1)[0] == library.split("[", 1)[0]


def test_a_broadcast_without_cursor_has_just_the_payload_as_argument() -> None:
    frames = Frames(name="alert", field="alert", payload={"id": "a1"}, cursor=None)

    assert json.loads(websocket_frame(frames)) == {"type": "alert", "alert": {"id": "a1"}}
    assert socketio_packet.Packet(encoded_packet=SocketIOEventFramer("/")(frames)).data == ["alert", {"id": "a1"}]


def test_the_event_is_serialized_once_for_every_protocol_and_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    real_dumps = json.dumps

    def counting_dumps(obj: Any, **kwargs: Any) -> str:
        if obj is EVENT:
            calls.append(obj)
        return real_dumps(obj, **kwargs)

    monkeypatch.setattr(json, "dumps", counting_dumps)
    frames = Frames.new_event(event=EVENT, cursor=1)
    framers: list[Framer] = [websocket_frame, SocketIOEventFramer("/"), SocketIOEventFramer("/dashboard")]

    first = [frames.framed(framer) for framer in framers]
    again = [frames.framed(framer) for framer in framers]

    assert len(calls) == 1
    assert first == again
    assert all(a is b for a, b in zip(first, again, strict=True))


def test_nothing_is_serialized_when_no_socket_asks_for_a_frame(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("serializou sem ninguém pedir")

    monkeypatch.setattr(json, "dumps", forbidden)

    Frames.new_event(event=EVENT, cursor=1)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)


@given(payload=st.dictionaries(st.text(), json_values, max_size=6), cursor=st.integers(0, 2**53))
def test_any_json_payload_round_trips_through_both_envelopes(payload: dict[str, Any], cursor: int) -> None:
    frames = Frames.new_event(event=payload, cursor=cursor)

    ws = json.loads(websocket_frame(frames))
    sio = socketio_packet.Packet(encoded_packet=SocketIOEventFramer("/dashboard")(frames))

    assert ws == {"type": "new_event", "event": payload, "cursor": cursor}
    assert sio.namespace == "/dashboard"
    assert sio.data == ["new_event", payload, cursor]
