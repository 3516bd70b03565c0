"""/socket.io/: quem entra (JWT no handshake ou sessão do painel), de onde, e quando sai."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
import socketio
import time_machine
from asgiref.sync import sync_to_async
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.services import user_tokens_revoke
from events.feed.publish import event_broadcast
from events.feed.socketio import SocketIOFeed
from tests.events.socketio_feed.conftest import Connect, Token
from trader_monitor import metrics

pytestmark = pytest.mark.django_db(transaction=True)

# Motivo da desconexão pelo servidor no cliente python-socketio (no socket.io-client: "io server disconnect").
SERVER_DISCONNECT = socketio.AsyncClient.reason.SERVER_DISCONNECT


async def test_jwt_in_handshake_is_greeted_with_user_cursor_and_expiry(
    connect: Connect, user: User, token: Token, ingest
) -> None:
    await ingest()
    access = token(user)

    client = await connect(auth={"token": access})

    hello = await client.expect("hello")
    exp = jwt.decode(access, options={"verify_signature": False})["exp"]
    assert hello == {
        "cursor": 1,
        "user": "ana",
        "auth": "jwt",
        "expiresAt": datetime.fromtimestamp(exp, UTC).isoformat().replace("+00:00", "Z"),
    }


async def test_same_origin_page_authenticates_with_its_session_cookie(
    connect: Connect, user: User, session_cookie: str
) -> None:
    client = await connect(headers={"Cookie": session_cookie})

    hello = await client.expect("hello")
    assert hello["auth"] == "session"
    assert hello["user"] == "ana"


async def test_without_credentials_the_handshake_is_refused_naming_the_reason(connect: Connect) -> None:
    client = await connect(refused=True)

    refusal = client.refusals["/"]
    assert refusal["message"] == "unauthenticated"
    assert refusal["data"]["code"] == "unauthenticated"
    assert refusal["data"]["detail"]


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
async def test_invalid_token_is_refused_as_token_invalid(connect: Connect, user: User, make_token) -> None:
    client = await connect(auth={"token": await sync_to_async(make_token)(user)}, refused=True)

    assert client.refusals["/"]["message"] == "token_invalid"


async def test_expired_token_is_refused_saying_so(connect: Connect, user: User, token: Token) -> None:
    with time_machine.travel(datetime.now(UTC) - timedelta(hours=1)):
        access = token(user)

    client = await connect(auth={"token": access}, refused=True)

    assert client.refusals["/"]["message"] == "token_expired"
    assert "/api/auth/refresh" in client.refusals["/"]["data"]["detail"]


async def test_token_of_inactive_user_is_refused(connect: Connect, user: User, token: Token) -> None:
    access = token(user)
    await User.objects.filter(pk=user.pk).aupdate(is_active=False)

    client = await connect(auth={"token": access}, refused=True)

    assert client.refusals["/"]["message"] == "token_invalid"


@pytest.mark.parametrize(
    "auth",
    [
        pytest.param({"token": 42}, id="token-not-a-string"),
        pytest.param({"token": "x", "cursor": -1}, id="negative-cursor"),
        pytest.param({"token": "x", "extra": True}, id="unknown-key"),
    ],
)
async def test_malformed_auth_object_is_refused_naming_the_field(connect: Connect, auth) -> None:
    client = await connect(auth=auth, refused=True)

    refusal = client.refusals["/"]
    assert refusal["message"] == "invalid_auth"
    assert set(refusal["data"]["fields"]) <= {"token", "cursor", "extra"}
    assert refusal["data"]["fields"]


async def test_a_valid_token_wins_over_a_session_cookie_and_a_bad_one_is_not_rescued_by_it(
    connect: Connect, user: User, session_cookie: str
) -> None:
    client = await connect(auth={"token": "not-a-jwt"}, headers={"Cookie": session_cookie}, refused=True)

    assert client.refusals["/"]["message"] == "token_invalid"


async def test_dashboard_namespace_requires_the_same_credentials(connect: Connect, user: User, token: Token) -> None:
    refused = await connect(namespaces=("/dashboard",), refused=True)
    accepted = await connect(auth={"token": token(user)}, namespaces=("/dashboard",))

    assert refused.refusals["/dashboard"]["message"] == "unauthenticated"
    assert (await accepted.expect("hello", "/dashboard"))["user"] == "ana"


@pytest.mark.parametrize("origin", ["http://evil.example", "https://testserver.evil.example", "null"])
@pytest.mark.parametrize("transport", ["websocket", "polling"])
async def test_foreign_origin_is_refused_at_the_handshake(
    connect: Connect, user: User, session_cookie: str, origin: str, transport: str
) -> None:
    client = await connect(headers={"Origin": origin, "Cookie": session_cookie}, transports=(transport,), refused=True)

    assert client.sio.connected is False


async def test_origin_listed_in_cors_allowed_origins_is_accepted(connect: Connect, user: User, token: Token) -> None:
    with override_settings(CORS_ALLOWED_ORIGINS=["https://painel.example.com"]):
        client = await connect(auth={"token": token(user)}, headers={"Origin": "https://painel.example.com"})

        assert (await client.expect("hello"))["user"] == "ana"


async def test_client_without_origin_header_authenticates_by_token(connect: Connect, user: User, token: Token) -> None:
    # Clientes fora do navegador (Node, Python) não mandam Origin; o navegador sempre manda.
    client = await connect(auth={"token": token(user)}, origin=None)

    assert (await client.expect("hello"))["auth"] == "jwt"


async def test_client_is_disconnected_by_the_server_when_its_jwt_expires(
    connect: Connect, user: User, token: Token
) -> None:
    # Relógio congelado a 100 ms de um segundo cheio; o token (exp inteiro) vence
    # nesse segundo. O vigia dorme os 100 ms (reais); o relógio é adiantado antes.
    base = datetime.now(UTC).replace(microsecond=900_000)
    with time_machine.travel(base, tick=False) as clock:
        client = await connect(auth={"token": token(user, lifetime=timedelta(seconds=1))})
        hello = await client.expect("hello")
        clock.shift(timedelta(seconds=1))

        error = await client.expect("error")
        disconnect = await client.expect("disconnect")

    assert hello["expiresAt"] == (base.replace(microsecond=0) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert error["code"] == "credential_expired"
    assert disconnect == SERVER_DISCONNECT


def _session_expiring_in_one_second(user: User) -> str:
    panel = Client()
    panel.force_login(user)
    session = panel.session
    session.set_expiry(1)
    session.save()
    return str(session.session_key)


async def test_event_after_session_expiry_is_not_delivered_and_disconnects(connect: Connect, user: User) -> None:
    # Sessão que vence em 1 s (o relógio só anda por shift; saltos maiores que o
    # ping_timeout do Engine.IO derrubariam a conexão por outro motivo).
    base = datetime.now(UTC).replace(microsecond=0)
    with time_machine.travel(base, tick=False) as clock:
        session_key = await sync_to_async(_session_expiring_in_one_second)(user)
        client = await connect(headers={"Cookie": f"sessionid={session_key}"})
        hello = await client.expect("hello")
        clock.shift(timedelta(seconds=2))

        await event_broadcast(event={"id": "e1", "type": "login", "userId": "u"}, cursor=1)

        error = await client.expect("error")
        disconnect = await client.expect("disconnect")
    assert hello["auth"] == "session"
    assert error["code"] == "credential_expired"
    assert disconnect == SERVER_DISCONNECT


async def test_logout_elsewhere_disconnects_the_session_client_on_recheck(
    connect: Connect, user: User, session_cookie: str
) -> None:
    with override_settings(WS_RECHECK_SECONDS=0.05):
        client = await connect(headers={"Cookie": session_cookie})
        await client.expect("hello")

        await Session.objects.all().adelete()

        error = await client.expect("error")
        disconnect = await client.expect("disconnect")
    assert error["code"] == "credential_revoked"
    assert disconnect == SERVER_DISCONNECT


async def test_deactivated_user_is_dropped_on_recheck(connect: Connect, user: User, token: Token) -> None:
    with override_settings(WS_RECHECK_SECONDS=0.05):
        client = await connect(auth={"token": token(user)})
        await client.expect("hello")

        await User.objects.filter(pk=user.pk).aupdate(is_active=False)

        error = await client.expect("error")
        disconnect = await client.expect("disconnect")
    assert error["code"] == "credential_revoked"
    assert disconnect == SERVER_DISCONNECT


async def test_revoking_the_users_tokens_drops_the_jwt_client_on_recheck(
    connect: Connect, user: User, token: Token
) -> None:
    with override_settings(WS_RECHECK_SECONDS=0.05):
        client = await connect(auth={"token": token(user)})
        await client.expect("hello")

        # Troca de senha, desativação e logout-all sobem a geração das credenciais (claim ver).
        await sync_to_async(user_tokens_revoke)(user=user)

        error = await client.expect("error")
        disconnect = await client.expect("disconnect")
    assert error["code"] == "credential_revoked"
    assert disconnect == SERVER_DISCONNECT


async def test_a_revoked_token_is_refused_at_the_handshake(connect: Connect, user: User, token: Token) -> None:
    access = token(user)
    await sync_to_async(user_tokens_revoke)(user=user)

    client = await connect(auth={"token": access}, refused=True)

    assert client.refusals["/"]["message"] == "token_invalid"


async def test_connection_gauge_counts_authenticated_clients_per_namespace(
    connect: Connect, user: User, token: Token, socketio_feed: SocketIOFeed
) -> None:
    before = metrics.SOCKETIO_CONNECTIONS._value.get()

    client = await connect(auth={"token": token(user)}, namespaces=("/", "/dashboard"))
    await client.expect("hello", "/")
    await client.expect("hello", "/dashboard")
    during = metrics.SOCKETIO_CONNECTIONS._value.get()
    for namespace in ("/", "/dashboard"):
        await socketio_feed.server.disconnect(client.sio.get_sid(namespace), namespace=namespace)

    assert during == before + 2
    assert metrics.SOCKETIO_CONNECTIONS._value.get() == before
