"""/ws/events/: retomada sem lacunas nem repetições a partir do último cursor."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import User
from events.feed.publish import event_broadcast
from events.store import EventStore, StoreUnavailable
from tests.events import ws_support as ws

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect
session_cookie = ws.session_cookie


async def _first_session(connect: ws.Connect, user: User, asgi_client, sign) -> int:
    """Um cliente recebe um evento ao vivo e cai; devolve o cursor que ele guardou."""
    communicator, _ = await ws.authenticated(connect, user)
    await ws.ingest(asgi_client, sign, value=1)
    cursor: int = (await ws.receive(communicator))["cursor"]
    await communicator.disconnect()
    return cursor


async def test_reconnect_with_cursor_gets_exactly_the_missed_events_then_live(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    cursor = await _first_session(connect, user, asgi_client, sign)
    missed = [await ws.ingest(asgi_client, sign, value=v) for v in (2, 3, 4)]

    communicator, hello = await ws.authenticated(connect, user)
    await communicator.send_json_to({"type": "resume", "cursor": cursor})
    replayed = [await ws.receive(communicator) for _ in range(3)]
    done = await ws.receive(communicator)
    live_id = await ws.ingest(asgi_client, sign, value=5)
    live = await ws.receive(communicator)

    assert hello["cursor"] == cursor + 3
    assert [m["type"] for m in replayed] == ["new_event"] * 3
    assert [m["event"]["id"] for m in replayed] == missed
    assert [m["cursor"] for m in replayed] == [cursor + 1, cursor + 2, cursor + 3]
    assert [m["event"]["value"] for m in replayed] == [2, 3, 4]
    assert done == {"type": "resumed", "cursor": cursor + 3, "replayed": 3}
    assert live["type"] == "new_event"
    assert live["event"]["id"] == live_id
    assert live["cursor"] == cursor + 4


async def test_cursor_in_auth_message_replays_before_any_live_event(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    cursor = await _first_session(connect, user, asgi_client, sign)
    missed = [await ws.ingest(asgi_client, sign) for _ in range(2)]

    communicator, _ = await ws.authenticated(connect, user, cursor=cursor)
    messages = [await ws.receive(communicator) for _ in range(3)]

    assert [m.get("event", {}).get("id") for m in messages[:2]] == missed
    assert messages[2] == {"type": "resumed", "cursor": cursor + 2, "replayed": 2}


async def test_session_client_resumes_with_cursor_in_query_string(
    connect: ws.Connect, user: User, session_cookie, asgi_client, sign
) -> None:
    cursor = await _first_session(connect, user, asgi_client, sign)
    missed = await ws.ingest(asgi_client, sign)

    communicator = await connect(session_cookie, path=f"{ws.WS_PATH}?cursor={cursor}")
    hello = await ws.receive(communicator)
    replayed = await ws.receive(communicator)
    done = await ws.receive(communicator)

    assert hello["type"] == "hello"
    assert replayed["event"]["id"] == missed
    assert done["type"] == "resumed"


async def test_events_already_delivered_live_are_not_replayed(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    communicator, hello = await ws.authenticated(connect, user)
    live_id = await ws.ingest(asgi_client, sign)
    live = await ws.receive(communicator)

    await communicator.send_json_to({"type": "resume", "cursor": hello["cursor"]})
    done = await ws.receive(communicator)

    assert live["event"]["id"] == live_id
    assert done == {"type": "resumed", "cursor": hello["cursor"] + 1, "replayed": 0}


async def test_live_copy_of_a_replayed_event_is_dropped_but_late_events_still_arrive(
    connect: ws.Connect, user: User, asgi_client, sign, store: EventStore
) -> None:
    cursor = await _first_session(connect, user, asgi_client, sign)
    await ws.ingest(asgi_client, sign)
    communicator, _ = await ws.authenticated(connect, user, cursor=cursor)
    replayed = await ws.receive(communicator)
    await ws.receive(communicator)  # resumed

    # A cópia ao vivo do mesmo evento chegando depois da retomada (corrida entre processos)…
    await event_broadcast(event=replayed["event"], cursor=replayed["cursor"])
    # …e um evento de outro processo com seq menor que o último entregue, que chegou atrasado.
    late = {**replayed["event"], "id": "late-event-from-another-process"}
    await event_broadcast(event=late, cursor=replayed["cursor"] - 1)

    message = await ws.receive(communicator)
    assert message["event"]["id"] == "late-event-from-another-process"
    assert message["cursor"] == replayed["cursor"] - 1


async def test_resume_honours_the_subscription_filter(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    cursor = await _first_session(connect, user, asgi_client, sign)
    await ws.ingest(asgi_client, sign, type="purchase")
    deposit_id = await ws.ingest(asgi_client, sign, type="deposit")
    await ws.ingest(asgi_client, sign, type="deposit", userId="someone-else")

    communicator, _ = await ws.authenticated(connect, user)
    await communicator.send_json_to({"type": "subscribe", "types": ["deposit"], "userId": "u-1", "cursor": cursor})
    ack = await ws.receive(communicator)
    replayed = await ws.receive(communicator)
    done = await ws.receive(communicator)

    assert ack["type"] == "subscribed"
    assert replayed["event"]["id"] == deposit_id
    assert done == {"type": "resumed", "cursor": cursor + 2, "replayed": 1}


async def test_too_many_missed_events_asks_for_resync_then_streams_live(
    connect: ws.Connect, user: User, asgi_client, sign
) -> None:
    cursor = await _first_session(connect, user, asgi_client, sign)
    for _ in range(3):
        await ws.ingest(asgi_client, sign)

    with override_settings(WS_REPLAY_LIMIT=2):
        communicator, _ = await ws.authenticated(connect, user)
        await communicator.send_json_to({"type": "resume", "cursor": cursor})
        resync = await ws.receive(communicator)
    live_id = await ws.ingest(asgi_client, sign)
    live = await ws.receive(communicator)

    assert resync["type"] == "resync_required"
    assert resync["reason"] == "too_many_missed"
    assert resync["cursor"] == cursor + 3
    assert resync["detail"]
    assert live["event"]["id"] == live_id


async def test_cursor_far_behind_asks_for_resync_without_scanning(
    connect: ws.Connect, user: User, asgi_client, sign, store: EventStore, monkeypatch
) -> None:
    for _ in range(3):
        await ws.ingest(asgi_client, sign)

    def no_scan(*args, **kwargs):
        raise AssertionError("não deveria consultar o armazenamento")

    monkeypatch.setattr(store, "events_after_seq", no_scan)
    with override_settings(WS_RESUME_SCAN_LIMIT=2):
        communicator, _ = await ws.authenticated(connect, user, cursor=0)
        resync = await ws.receive(communicator)

    assert resync == {
        "type": "resync_required",
        "reason": "too_far_behind",
        "cursor": 3,
        "detail": resync["detail"],
    }


async def test_cursor_ahead_of_the_feed_asks_for_resync(connect: ws.Connect, user: User, asgi_client, sign) -> None:
    await ws.ingest(asgi_client, sign)

    communicator, _ = await ws.authenticated(connect, user, cursor=99)
    resync = await ws.receive(communicator)

    assert resync["type"] == "resync_required"
    assert resync["reason"] == "cursor_ahead"
    assert resync["cursor"] == 1


async def test_store_outage_during_resume_is_reported_and_live_continues(
    connect: ws.Connect, user: User, asgi_client, sign, store: EventStore, monkeypatch
) -> None:
    communicator, _ = await ws.authenticated(connect, user)

    def down(*args, **kwargs):
        raise StoreUnavailable("fora do ar")

    monkeypatch.setattr(store, "events_after_seq", down)
    await communicator.send_json_to({"type": "resume", "cursor": 0})
    error = await ws.receive(communicator)
    monkeypatch.undo()
    live_id = await ws.ingest(asgi_client, sign)

    assert error["code"] == "store_unavailable"
    assert (await ws.receive(communicator))["event"]["id"] == live_id
