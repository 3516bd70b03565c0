"""Custo de enquadrar um evento para os protocolos do feed (``events/feed/frames.py``).

Compara, por evento, os três quadros que um processo com clientes nos dois protocolos e
nos dois namespaces do Socket.IO precisa (``/ws/events/``, ``/socket.io/`` em ``/`` e
``/dashboard``):

* ``Frames``: o JSON do evento uma vez e os envelopes por concatenação (o que o hub faz);
* por protocolo: ``json.dumps`` da mensagem do WebSocket e o encoder de pacotes do
  python-socketio (``socketio.packet.Packet.encode``) uma vez por namespace — o que o
  ``AsyncServer.emit`` faria para uma sala.

Uso::

    .venv/bin/python -m bench.frames_cost
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable

from socketio import packet as socketio_packet

from events.feed.frames import Framer, Frames, SocketIOEventFramer, websocket_frame

EVENT = {
    "id": "6750c0ffee0000000000abcd",
    "userId": "u-0042",
    "type": "purchase",
    "value": 1234.56,
    "timestamp": "2026-12-01T10:00:00.000Z",
    "metadata": {"asset": "PETR4", "channel": "app", "bench": 12345},
    "receivedAt": "2026-12-01T10:00:00.001Z",
}
NAMESPACES = ("/", "/dashboard")
FRAMERS: list[Framer] = [websocket_frame, *(SocketIOEventFramer(ns) for ns in NAMESPACES)]


def with_frames() -> list[str]:
    frames = Frames.new_event(event=EVENT, cursor=987654)
    return [frames.framed(framer) for framer in FRAMERS]


def per_protocol() -> list[str]:
    texts = [json.dumps({"type": "new_event", "event": EVENT, "cursor": 987654}, ensure_ascii=False)]
    for namespace in NAMESPACES:
        pkt = socketio_packet.Packet(socketio_packet.EVENT, data=["new_event", EVENT, 987654], namespace=namespace)
        texts.append(pkt.encode())
    return texts


def measure(fn: Callable[[], list[str]], *, loops: int = 20_000, rounds: int = 7) -> float:
    """Mediana de ``rounds`` rodadas, em µs de CPU por evento."""
    samples = []
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(loops):
            fn()
        samples.append((time.process_time() - start) / loops * 1e6)
    return statistics.median(samples)


def main() -> None:
    # Os dois caminhos produzem os mesmos quadros (conteúdo; a forma do JSON difere).
    for ours_text, naive_text in zip(with_frames(), per_protocol(), strict=True):
        ours_json = ours_text[ours_text.index("[") :] if ours_text[0] == "2" else ours_text
        naive_json = naive_text[naive_text.index("[") :] if naive_text[0] == "2" else naive_text
        assert json.loads(ours_json) == json.loads(naive_json)
    ours = measure(with_frames)
    naive = measure(per_protocol)
    print("# enquadrar 1 evento para /ws/events/ + /socket.io/ (/ e /dashboard), µs de CPU por evento")
    print(f"Frames (1 json.dumps + envelopes): {ours:.2f}")
    print(f"por protocolo (json.dumps + Packet.encode × 2): {naive:.2f}")
    print(f"razão: {naive / ours:.2f}×")


if __name__ == "__main__":
    main()
