"""Matriz de autorização: cada rota × (anônimo, analista/admin por JWT, analista/admin por sessão).

Autorização por função (rotas só de administradores: remover evento, cadastrar usuário,
admin do Django e as telas do MongoDB) e por credencial (as páginas e o admin só
conhecem a sessão; a API aceita JWT e sessão; ``/metrics`` só o METRICS_TOKEN). Todas as
requisições de escrita levam um token CSRF válido: aqui se testa quem pode, não o CSRF
(que tem o próprio arquivo, test_csrf.py). WebSocket: tests/events/test_consumer_auth.py
e test_websocket_auth.py.

Um teste garante que a matriz cobre toda rota registrada (fora as internas do admin do
Django, cobertas pelo índice e pelas telas do MongoDB): uma rota nova precisa de uma linha.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import pytest
from bson import ObjectId
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from events.alerts.models import AlertRule, NotificationEndpoint
from events.services import rejection_record
from tests.accounts.factories import PASSWORD, make_user
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db

IDENTITIES = ["anonymous", "analyst_jwt", "staff_jwt", "analyst_session", "staff_session"]
METRICS_TOKEN = "metrics-token-" + "x" * 32


@dataclass(frozen=True)
class Route:
    name: str  # nome da rota no Django (cobertura)
    method: str
    path: str  # {event} e {rejection} são preenchidos por teste
    expected: dict[str, int]
    body: Callable[[str], dict[str, Any]] | None = None


def _same(status: int) -> dict[str, int]:
    return dict.fromkeys(IDENTITIES, status)


def _api(*, anonymous: int = 401, analyst: int = 200, staff: int = 200) -> dict[str, int]:
    return {
        "anonymous": anonymous,
        "analyst_jwt": analyst,
        "staff_jwt": staff,
        "analyst_session": analyst,
        "staff_session": staff,
    }


def _page(*, signed_in: int = 200, staff: int | None = None) -> dict[str, int]:
    """Páginas só conhecem a sessão: JWT é anônimo para elas (302 para o login)."""
    return {
        "anonymous": 302,
        "analyst_jwt": 302,
        "staff_jwt": 302,
        "analyst_session": signed_in,
        "staff_session": signed_in if staff is None else staff,
    }


def _admin(staff: int = 200) -> dict[str, int]:
    return _page(signed_in=302, staff=staff)


ROUTES = [
    # API pública: a credencial não muda nada.
    Route("webhook-event", "POST", "/api/webhook/event", _same(401)),  # sem assinatura
    Route("auth-login", "POST", "/api/auth/login", _same(200), lambda who: {"username": "ana", "password": PASSWORD}),
    Route("auth-refresh", "POST", "/api/auth/refresh", _same(401), lambda who: {"refresh": "not-a-token"}),
    Route("auth-logout", "POST", "/api/auth/logout", _same(401), lambda who: {"refresh": "not-a-token"}),
    Route("health", "GET", "/api/health", _same(200)),
    Route("health-ready", "GET", "/api/health/ready", _same(200)),
    Route("schema", "GET", "/api/schema/", _same(200)),
    Route("docs", "GET", "/api/docs/", _same(200)),
    # Com METRICS_TOKEN configurado, nem sessão nem JWT abrem as métricas.
    Route("metrics", "GET", "/metrics", _same(401)),
    # API autenticada.
    Route("auth-me", "GET", "/api/auth/me", _api()),
    Route("events-list", "GET", "/api/events", _api()),
    Route("events-summary", "GET", "/api/events/summary", _api()),
    Route("events-timeseries", "GET", "/api/events/timeseries", _api()),
    Route("events-export", "GET", "/api/events/export", _api()),
    Route("events-detail", "GET", "/api/events/{event}", _api()),
    Route("insights", "GET", "/api/insights", _api()),
    Route("insights", "POST", "/api/insights", _api(), lambda who: {}),
    Route(
        "auth-password",
        "POST",
        "/api/auth/password",
        _api(),
        lambda who: {"old_password": PASSWORD, "new_password": "outra-senha-bem-comprida-77"},
    ),
    Route("auth-logout-all", "POST", "/api/auth/logout-all", _api(analyst=204, staff=204)),
    Route("alert-rules-list", "GET", "/api/alert-rules", _api()),
    Route("alert-rules-detail", "GET", "/api/alert-rules/{rule}", _api()),
    Route("alerts-list", "GET", "/api/alerts", _api()),
    Route("alerts-detail", "GET", "/api/alerts/{alert}", _api()),
    Route("alerts-ack", "POST", "/api/alerts/{alert}/ack", _api()),
    # API só de administradores.
    Route("events-detail", "DELETE", "/api/events/{event}", _api(analyst=403, staff=204)),
    Route(
        "auth-register",
        "POST",
        "/api/auth/register",
        _api(analyst=403, staff=201),
        lambda who: {"username": f"novo-{who}", "password": "uma-senha-bem-comprida-42"},
    ),
    Route(
        "alert-rules-list",
        "POST",
        "/api/alert-rules",
        _api(analyst=403, staff=201),
        lambda who: {"name": who, "kind": "threshold", "eventType": "withdraw", "op": ">", "threshold": 1},
    ),
    Route("alert-rules-detail", "DELETE", "/api/alert-rules/{rule}", _api(analyst=403, staff=204)),
    # Destinos de notificação de alertas: só administradores.
    Route("notification-endpoints-list", "GET", "/api/notification-endpoints", _api(analyst=403)),
    Route(
        "notification-endpoints-list",
        "POST",
        "/api/notification-endpoints",
        _api(analyst=403, staff=201),
        lambda who: {"url": "https://93.184.215.14/hook", "description": who},
    ),
    Route("notification-endpoints-detail", "GET", "/api/notification-endpoints/{endpoint}", _api(analyst=403)),
    Route(
        "notification-endpoints-detail",
        "DELETE",
        "/api/notification-endpoints/{endpoint}",
        _api(analyst=403, staff=204),
    ),
    Route(
        "notification-endpoints-deliveries",
        "GET",
        "/api/notification-endpoints/{endpoint}/deliveries",
        _api(analyst=403),
    ),
    # Receptor da demo: só existe com DEBUG.
    Route("demo-receiver", "GET", "/demo/receiver/", _same(404)),
    # Páginas do painel (sessão).
    Route("dashboard", "GET", "/", _page()),
    Route("trader", "GET", "/traders/u-matriz", _page()),
    Route("login", "GET", "/login/", {**_same(200), "analyst_session": 302, "staff_session": 302}),
    Route("logout", "POST", "/logout/", _same(302)),
    Route("password_change", "GET", "/password_change/", _page()),
    Route("password_change_done", "GET", "/password_change/done/", _page()),
    Route("javascript-catalog", "GET", "/jsi18n/", _same(200)),
    Route("set_language", "POST", "/i18n/setlang/", _same(302), lambda who: {"language": "en"}),
    # Admin do Django e as telas do MongoDB: só equipe, só por sessão.
    Route("index", "GET", "/admin/", _admin()),
    Route("login", "GET", "/admin/login/", {**_same(200), "staff_session": 302}),
    Route("events_event_list", "GET", "/admin/events/event/", _admin()),
    Route("events_event_detail", "GET", "/admin/events/event/{event}/", _admin()),
    Route("events_event_delete", "GET", "/admin/events/event/{event}/delete/", _admin()),
    Route("events_event_delete", "POST", "/admin/events/event/{event}/delete/", _admin(staff=302)),
    Route("events_rejection_list", "GET", "/admin/events/rejectedwebhook/", _admin()),
    Route("events_rejection_detail", "GET", "/admin/events/rejectedwebhook/{rejection}/", _admin()),
]
# Rotas que respondem 404 de propósito (recuperação de senha por e-mail não é oferecida).
ABSENT = ["/password_reset/", "/password_reset/done/", "/reset/done/", "/reset/MQ/set-password/"]


def _route_id(route: Route) -> str:
    return f"{route.method} {route.path}"


@pytest.fixture
def people() -> dict[str, User]:
    make_user("ana")  # credencial do login
    return {"analyst": make_user("analista"), "staff": make_user("chefe", staff=True)}


@pytest.fixture
def clients(people: dict[str, User]) -> dict[str, Client]:
    csrf = secrets.token_hex(16)
    made: dict[str, Client] = {}
    for identity in IDENTITIES:
        role, _sep, kind = identity.partition("_")
        headers = {"X-CSRFToken": csrf}
        if kind == "jwt":
            headers["Authorization"] = f"Bearer {RefreshToken.for_user(people[role]).access_token}"
        client = Client(enforce_csrf_checks=True, headers=headers)
        client.cookies["csrftoken"] = csrf
        if kind == "session":
            client.force_login(people[role])
        made[identity] = client
    return made


@pytest.fixture(autouse=True)
def _metrics_token(settings: Any) -> None:
    settings.METRICS_TOKEN = METRICS_TOKEN


@pytest.fixture
def objects(client: Client, sign: Signer, store: Any) -> Callable[[], dict[str, str]]:
    """Evento, regra, alerta e destino novos por requisição (a remoção consome os seus) e uma entrega rejeitada."""
    rejection_record(reason="bad_signature", detail="x", headers={}, body=b"{}", body_size=2, remote_addr="10.0.0.1")
    rejection = str(store.list_rejections(limit=1)[0]["_id"])

    def make() -> dict[str, str]:
        body = event_body()
        headers = {k: v for k, v in sign(body).items() if k != "content-type"}
        response = client.post("/api/webhook/event", body, content_type="application/json", headers=headers)
        assert response.status_code == HTTPStatus.CREATED
        rule = AlertRule.objects.create(name="matriz", kind="threshold", event_type="withdraw", op=">", threshold=1)
        alert = ObjectId()
        store.insert_alert(
            {
                "_id": alert,
                "ruleId": rule.id,
                "ruleName": rule.name,
                "kind": "threshold",
                "severity": "warning",
                "userId": "u-1",
                "eventIds": [ObjectId(response.json()["id"])],
                "triggeredAt": datetime.now(UTC),
                "state": "open",
                "ackBy": None,
                "ackAt": None,
                "message": "matriz",
            }
        )
        endpoint = NotificationEndpoint.objects.create(url="https://93.184.215.14/hook")
        return {
            "event": response.json()["id"],
            "rejection": rejection,
            "rule": str(rule.id),
            "alert": str(alert),
            "endpoint": str(endpoint.pk),
        }

    return make


def _call(client: Client, route: Route, identity: str, ids: dict[str, str]) -> Any:
    path = route.path.format(**ids)
    if route.method == "GET":
        return client.get(path)
    if route.method == "DELETE":
        return client.delete(path)
    data = route.body(identity) if route.body else {}
    if route.path.startswith("/api/"):
        return client.post(path, data, content_type="application/json")
    return client.post(path, data)


@pytest.mark.parametrize("identity", IDENTITIES)
@pytest.mark.parametrize("route", ROUTES, ids=_route_id)
def test_each_route_answers_each_identity_as_specified(
    route: Route, identity: str, clients: dict[str, Client], objects: Callable[[], dict[str, str]]
) -> None:
    response = _call(clients[identity], route, identity, objects())

    assert response.status_code == route.expected[identity], response.content[:300]
    if response.status_code == HTTPStatus.FOUND and route.method == "GET":
        # Quem não pode entrar é mandado a um login, não a outro lugar.
        assert "login" in response["Location"] or route.path in ("/login/", "/admin/login/")


@pytest.mark.parametrize("path", ABSENT)
def test_password_reset_by_email_is_not_offered(client: Client, path: str) -> None:
    # Sem servidor de e-mail configurado o formulário daria 500 ao tentar enviar.
    assert client.get(path).status_code == HTTPStatus.NOT_FOUND


def test_metrics_open_only_with_the_metrics_token(client: Client) -> None:
    assert client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == HTTPStatus.OK
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == HTTPStatus.UNAUTHORIZED


def test_a_staff_user_without_model_permissions_cannot_open_user_admin(
    clients: dict[str, Client], people: dict[str, User]
) -> None:
    # is_staff abre o admin; as tabelas do Django ainda exigem permissão por modelo.
    assert clients["staff_session"].get("/admin/accounts/user/").status_code == HTTPStatus.FORBIDDEN
    superuser = User.objects.create_superuser("raiz", "raiz@example.com", PASSWORD)
    client = Client()
    client.force_login(superuser)
    assert client.get("/admin/accounts/user/").status_code == HTTPStatus.OK


def _registered_routes() -> set[tuple[str | None, str | None]]:
    def walk(patterns: list[Any], namespace: str | None) -> Iterator[tuple[str | None, str | None, str]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern):
                yield namespace, pattern.name, str(pattern.pattern)

    found = set()
    for namespace, name, pattern in walk(get_resolver().url_patterns, None):
        # Do admin do Django, só o índice, o login e as telas do MongoDB; o resto é do próprio Django.
        if namespace == "admin" and name not in {"index", "login"} and not re.match(r"^events/", pattern):
            continue
        found.add((namespace, name))
    return found


def test_the_matrix_covers_every_registered_route() -> None:
    covered = {("admin" if route.path.startswith("/admin/") else None, route.name) for route in ROUTES}

    assert _registered_routes() - covered == set()
