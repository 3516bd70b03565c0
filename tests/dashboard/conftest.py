"""Fixtures do painel: usuários, servidor ASGI real numa thread e o Chromium do Debian.

O servidor (uvicorn) roda numa thread deste mesmo processo: o mongomock e a
camada de canais em memória são por processo, então o teste e o servidor
enxergam o mesmo armazenamento. O banco do Django é o SQLite em memória
compartilhado (``cache=shared``) dos testes, com ``transactional_db`` para que
o servidor veja os usuários criados aqui.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from events.domain import EventPayload, IdempotencyKey
from events.services import event_ingest
from tests.conftest import require_service

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "senha-de-teste-123"
SERVER_START_TIMEOUT = 15.0


# --- usuários -----------------------------------------------------------------------


@pytest.fixture
def analyst(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("analista", password=PASSWORD)


@pytest.fixture
def staff_user(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user("admin", password=PASSWORD, is_staff=True)


# --- eventos ------------------------------------------------------------------------


def ingest(
    *,
    user_id: str,
    event_type: str,
    value: float,
    ago: timedelta = timedelta(minutes=5),
    metadata: dict[str, Any] | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """Grava um evento pelo serviço real (documento, seq e rollups como na ingestão)."""
    data: dict[str, Any] = {
        "userId": user_id,
        "type": event_type,
        "value": value,
        "timestamp": (datetime.now(UTC) - ago).isoformat(),
    }
    if metadata is not None:
        data["metadata"] = metadata
    payload = EventPayload.model_validate(data)
    idempotency = IdempotencyKey("webhook-id", key) if key else None
    return event_ingest(payload=payload, data=data, key=idempotency).event


# --- servidor ASGI real -------------------------------------------------------------


@pytest.fixture
def live_server_url(transactional_db: None, settings: Any) -> Iterator[str]:
    """Sobe a aplicação ASGI completa (HTTP + WebSocket) num uvicorn em porta livre."""
    # Os testes rodam com DEBUG desligado; cookies "Secure" não iriam por http://.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    from trader_monitor.asgi import application

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(application, lifespan="off", log_level="warning", access_log=False, ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    # Espera de prontidão (não de tempo): o uvicorn marca ``started`` ao escutar.
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("o servidor de teste não subiu")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# --- navegador -------------------------------------------------------------------------


def chromium_available() -> bool:
    return Path(CHROMIUM).is_file() or shutil.which("chromium") is not None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium do sistema (nunca ``playwright install``), um por módulo de teste.

    Por módulo, não por sessão: enquanto o Playwright síncrono vive, o laço de
    eventos dele fica marcado como ativo nesta thread, o que atrapalharia os
    testes assíncronos de outros módulos.
    """
    require_service(chromium_available(), f"Chromium não encontrado em {CHROMIUM} (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        # O ORM roda na thread do teste enquanto o laço do Playwright existe; é seguro aqui.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(
                executable_path=CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium"),
                args=CHROMIUM_ARGS,
                headless=True,
            )
            try:
                yield instance
            finally:
                instance.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class PageProbe:
    """Erros de JavaScript e do console (inclui violações de CSP) vistos pela página."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def on_page_error(self, error: Any) -> None:
        self.errors.append(f"pageerror: {error}")


@pytest.fixture
def page_probe() -> PageProbe:
    return PageProbe()


@pytest.fixture
def page(browser: Any, live_server_url: str, request: pytest.FixtureRequest, page_probe: PageProbe) -> Iterator[Any]:
    """Página nova (contexto isolado); captura de tela em ``test-artifacts/`` se o teste falhar."""
    context = browser.new_context(
        base_url=live_server_url, viewport={"width": 1440, "height": 1000}, locale="pt-BR", timezone_id="UTC"
    )
    context.set_default_timeout(10_000)
    instance = context.new_page()
    instance.on("console", page_probe.on_console)
    instance.on("pageerror", page_probe.on_page_error)
    try:
        yield instance
    finally:
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            name = request.node.nodeid.replace("/", "_").replace("::", "__")
            instance.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        context.close()


def log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    """Entra pelo formulário de login, como um usuário faria."""
    page.goto("/")
    page.get_by_label("Nome de usuário").fill(username)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url("**/")


def post_webhook(base_url: str, sign: Any, **payload: Any) -> dict[str, Any]:
    """Entrega um evento assinado ao servidor real, como um remetente faria."""
    import httpx

    from tests.conftest import event_body

    body = event_body(**payload)
    response = httpx.post(f"{base_url}/api/webhook/event", content=body, headers=sign(body), timeout=10)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def seed_day(*, users: int = 6, per_user: int = 8) -> list[dict[str, Any]]:
    """Histórico pequeno e determinístico nas últimas 24 h (vários tipos e usuários)."""
    kinds = [("purchase", 120.0), ("deposit", 500.0), ("login", 0.0), ("withdraw", 80.0)]
    created = []
    for user in range(users):
        for index in range(per_user):
            kind, base = kinds[(user + index) % len(kinds)]
            created.append(
                ingest(
                    user_id=f"trader-{user + 1:02d}",
                    event_type=kind,
                    value=base * (1 + user) / 2 + index,
                    ago=timedelta(minutes=20 + 170 * index + 7 * user),
                    metadata={"asset": ["PETR4", "VALE3", "ITUB4"][index % 3], "channel": "app"},
                )
            )
    return created


# --- dependências de outros ramos --------------------------------------------------
# A página consome a API de leitura (/api/events…) e o feed (/ws/events/), que
# chegam por outros ramos. Enquanto a rota não existir neste código, o teste é
# pulado com o motivo; quando existe, roda sempre (inclusive em CI).


@pytest.fixture
def read_api() -> None:
    from django.urls import Resolver404, resolve

    missing = []
    for path in ("/api/events", "/api/events/summary", "/api/events/timeseries"):
        try:
            resolve(path)
        except Resolver404:
            missing.append(path)
    if missing:
        pytest.skip(f"API de leitura ainda não integrada neste código: {', '.join(missing)}")


@pytest.fixture
def live_feed() -> None:
    from events.routing import websocket_urlpatterns

    if not websocket_urlpatterns:
        pytest.skip("feed /ws/events/ ainda não integrado neste código")


@pytest.fixture
def insights_api() -> None:
    from django.urls import Resolver404, resolve

    try:
        resolve("/api/insights")
    except Resolver404:
        pytest.skip("API de insights ainda não integrada neste código")
