"""/ws/events/: quem pode entrar, como, e quando o socket é fechado."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from events.feed.publish import event_broadcast
from tests.events import ws_support as ws
from trader_monitor import metrics

pytestmark = pytest.mark.django_db(transaction=True)

user = ws.user
connect = ws.connect
session_cookie = ws.session_cookie
Cookie = tuple[bytes, bytes]


async def test_session_user_is_greeted_with_current_cursor(
    connect: ws.Connect, user: User, asgi_client, sign, session_cookie: Cookie
) -> None:
    await ws.ingest(asgi_client, sign)
    await ws.ingest(asgi_client, sign)

    communicator = await connect(session_cookie)

    hello = await ws.receive(communicator)
    assert hello["type"] == "hello"
    assert hello["cursor"] == 2
    assert hello["user"] == "ana"
    assert hello["auth"] == "session"
    assert hello["expiresAt"].endswith("Z")


async def test_jwt_in_first_message_authenticates(connect: ws.Connect, user: User) -> None:
    token = ws.access_token(user)
    communicator = await connect()

    await communicator.send_json_to({"type": "auth", "token": token})

    hello = await ws.receive(communicator)
    assert hello["type"] == "hello"
    assert hello["auth"] == "jwt"
    assert hello["user"] == "ana"
    assert hello["cursor"] == 0
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert hello["expiresAt"] == datetime.fromtimestamp(exp, UTC).isoformat().replace("+00:00", "Z")


async def test_message_other_than_auth_without_credentials_closes_4401(connect: ws.Connect) -> None:
    communicator = await connect()

    await communicator.send_json_to({"type": "subscribe", "types": ["login"]})

    error, close = await ws.closed_with(communicator)
    assert error["type"] == "error"
    assert error["code"] == "unauthenticated"
    assert error["detail"]
    assert close["code"] == 4401
    assert close["reason"] == "unauthenticated"


async def test_silence_without_credentials_closes_after_auth_deadline(connect: ws.Connect) -> None:
    with override_settings(WS_AUTH_TIMEOUT_SECONDS=0.05):
        communicator = await connect()

        error, close = await ws.closed_with(communicator)

    assert error["code"] == "auth_timeout"
    assert close["code"] == 4401


def _foreign_key_token(user: User) -> str:
    payload = {"token_type": "access", "user_id": str(user.pk), "exp": 4102444800, "jti": "x"}
    return jwt.encode(payload, "another-signing-key-of-sufficient-length-0123456789", algorithm="HS256")


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda user: "not-a-jwt", id="garbage"),
        pytest.param(_foreign_key_token, id="foreign-signature"),
        pytest.param(lambda user: str(RefreshToken.for_user(user)), id="refresh-token"),
    ],
)
async def test_invalid_token_closes_4401(connect: ws.Connect, user: User, make_token) -> None:
    communicator = await connect()

    await communicator.send_json_to({"type": "auth", "token": await sync_to_async(make_token)(user)})

    error, close = await ws.closed_with(communicator)
    assert error["code"] == "token_invalid"
    assert close["code"] == 4401


async def test_expired_token_closes_4401_saying_so(connect: ws.Connect, user: User) -> None:
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=1)):
        token = ws.access_token(user)
    communicator = await connect()

    await communicator.send_json_to({"type": "auth", "token": token})

    error, close = await ws.closed_with(communicator)
    assert error["code"] == "token_expired"
    assert close["code"] == 4401
    assert close["reason"] == "token_expired"


async def test_token_of_inactive_user_is_rejected(connect: ws.Connect, user: User) -> None:
    token = ws.access_token(user)
    await User.objects.filter(pk=user.pk).aupdate(is_active=False)
    communicator = await connect()

    await communicator.send_json_to({"type": "auth", "token": token})

    error, close = await ws.closed_with(communicator)
    assert error["code"] == "token_invalid"
    assert close["code"] == 4401


async def test_malformed_auth_message_closes_4401(connect: ws.Connect) -> None:
    communicator = await connect()

    await communicator.send_to(text_data="{not json")

    error, close = await ws.closed_with(communicator)
    assert error["code"] == "unauthenticated"
    assert close["code"] == 4401


@pytest.mark.parametrize(
    "origin",
    [b"http://evil.example", b"https://testserver.evil.example", b"null"],
)
async def test_foreign_origin_is_refused_at_handshake(
    connect: ws.Connect, user: User, origin: bytes, session_cookie: Cookie
) -> None:
    accepted, _ = await connect((b"origin", origin), session_cookie, origin=False, handshake=True)

    assert accepted is False


async def test_missing_origin_is_refused_at_handshake(connect: ws.Connect, user: User, session_cookie: Cookie) -> None:
    accepted, _ = await connect(session_cookie, origin=False, handshake=True)

    assert accepted is False


async def test_allowed_origin_with_session_is_accepted(connect: ws.Connect, session_cookie: Cookie) -> None:
    accepted, _ = await connect(session_cookie, handshake=True)

    assert accepted is True


async def test_socket_closes_when_jwt_expires(connect: ws.Connect, user: User) -> None:
    # Relógio congelado a 100 ms de um segundo cheio; o token (exp inteiro) vence
    # nesse segundo. O vigia dorme os 100 ms (reais); o relógio é adiantado antes.
    base = datetime.now(UTC).replace(microsecond=900_000)
    with time_machine.travel(base, tick=False) as clock:
        token = ws.access_token(user, lifetime=timedelta(seconds=1))
        communicator = await connect()
        await communicator.send_json_to({"type": "auth", "token": token})
        hello = await ws.receive(communicator)
        clock.shift(timedelta(seconds=1))

        error, close = await ws.closed_with(communicator)

    assert hello["type"] == "hello"
    assert hello["expiresAt"] == (base.replace(microsecond=0) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert error["code"] == "credential_expired"
    assert close["code"] == 4401


async def test_event_after_session_expiry_is_not_delivered_and_closes(
    connect: ws.Connect, user: User, session_cookie: Cookie
) -> None:
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        communicator = await connect(session_cookie)
        hello = await ws.receive(communicator)
        clock.shift(timedelta(seconds=settings.SESSION_COOKIE_AGE + 1))

        await event_broadcast(event={"id": "e1", "type": "login", "userId": "u"}, cursor=1)

        error, close = await ws.closed_with(communicator)
    assert hello["auth"] == "session"
    assert error["code"] == "credential_expired"
    assert close["code"] == 4401


async def test_logout_elsewhere_closes_session_socket_on_recheck(
    connect: ws.Connect, user: User, session_cookie: Cookie
) -> None:
    with override_settings(WS_RECHECK_SECONDS=0.05):
        communicator = await connect(session_cookie)
        await ws.receive(communicator)

        await Session.objects.all().adelete()

        error, close = await ws.closed_with(communicator)
    assert error["code"] == "credential_revoked"
    assert close["code"] == 4401


async def test_deactivated_user_is_dropped_on_recheck(connect: ws.Connect, user: User) -> None:
    with override_settings(WS_RECHECK_SECONDS=0.05):
        communicator, _ = await ws.authenticated(connect, user)

        await User.objects.filter(pk=user.pk).aupdate(is_active=False)

        error, close = await ws.closed_with(communicator)
    assert error["code"] == "credential_revoked"
    assert close["code"] == 4401


async def test_second_auth_message_is_an_error_but_keeps_socket(connect: ws.Connect, user: User) -> None:
    communicator, _ = await ws.authenticated(connect, user)

    await communicator.send_json_to({"type": "auth", "token": ws.access_token(user)})
    error = await ws.receive(communicator)
    await communicator.send_json_to({"type": "ping"})

    assert error["code"] == "already_authenticated"
    assert await ws.receive(communicator) == {"type": "pong"}


async def test_connection_gauge_counts_open_sockets(connect: ws.Connect, user: User) -> None:
    before = metrics.WS_CONNECTIONS._value.get()

    communicator, _ = await ws.authenticated(connect, user)
    during = metrics.WS_CONNECTIONS._value.get()
    await communicator.disconnect()

    assert during == before + 1
    assert metrics.WS_CONNECTIONS._value.get() == before
