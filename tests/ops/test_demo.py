"""``manage.py demo`` de verdade: outro processo, porta livre, feed ao vivo, Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from standardwebhooks.webhooks import Webhook

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
STARTUP_DEADLINE = 90.0
METRICS_TOKEN = "token-da-demo-de-teste"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def created_count(client: httpx.Client) -> float:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == HTTPStatus.OK
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "trader_monitor_events_ingested_total" and sample.labels == {"outcome": "created"}:
                return sample.value
    return 0.0


def wait_until(predicate: object, process: subprocess.Popen[str], what: str) -> None:
    """Consulta o processo até ``predicate()`` ser verdadeiro (ou o processo morrer)."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        assert process.poll() is None, f"a demo saiu antes de {what}"
        try:
            if predicate():  # type: ignore[operator]
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"tempo esgotado esperando {what}")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str, Path]]:
    port = free_port()
    log = tmp_path / "demo.log"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
        "DJANGO_DEBUG": "true",
        "MONGO_URI": "mongomock://localhost/trader_monitor_demo",
        "REDIS_URL": "",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "WEBHOOK_SECRET": "",
        "METRICS_TOKEN": METRICS_TOKEN,
        "DEMO_ADMIN_PASSWORD": "senha-da-demo-123",
    }
    command = [sys.executable, "manage.py", "demo", "--port", str(port), "--events", "400", "--rate", "20"]
    with log.open("w") as output:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, text=True
        )
    try:
        yield process, f"http://127.0.0.1:{port}", log
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_demo_serves_seeded_app_with_live_signed_feed_and_stops_cleanly_on_ctrl_c(
    demo: tuple[subprocess.Popen[str], str, Path],
) -> None:
    process, base_url, log = demo
    with httpx.Client(base_url=base_url, timeout=5) as client:
        wait_until(lambda: client.get("/api/health").status_code == HTTPStatus.OK, process, "o /api/health")
        # O feed entrega pelo caminho HTTP real do webhook, com assinatura verificada.
        wait_until(lambda: created_count(client) >= 3, process, "eventos ao vivo aceitos")
        # Notificações: o destino semeado aponta para o receptor embutido, que confere a assinatura.
        access = client.post("/api/auth/login", json={"username": "admin", "password": "senha-da-demo-123"})
        auth = {"Authorization": f"Bearer {access.json()['access']}"}
        (endpoint,) = client.get("/api/notification-endpoints", headers=auth).json()
        secret = client.get(f"/api/notification-endpoints/{endpoint['id']}", headers=auth).json()["secret"]
        body = '{"type":"alert.triggered","timestamp":"2026-12-01T12:00:00.000Z","data":{"id":"al-demo"}}'
        moment = datetime.now(UTC)
        signed = {
            "webhook-id": "msg_demo",
            "webhook-timestamp": str(int(moment.timestamp())),
            "webhook-signature": Webhook(secret).sign("msg_demo", moment, body),
            "content-type": "application/json",
        }
        receiver_ok = client.post("/demo/receiver/", content=body, headers=signed)
        receiver_forged = client.post("/demo/receiver/", content=body, headers={**signed, "webhook-signature": "v1,AA"})
        static = client.get("/static/admin/css/base.css")
        ready = client.get("/api/health/ready")
        admin_login = client.get("/admin/login/")
        healthcheck = subprocess.run(
            [sys.executable, "docker/healthcheck.py"],
            cwd=ROOT,
            env={**os.environ, "PORT": base_url.rsplit(":", 1)[1], "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1"},
            capture_output=True,
            timeout=30,
            check=False,
        )

    process.send_signal(signal.SIGINT)
    exit_code = process.wait(timeout=30)
    output = log.read_text()

    assert endpoint["url"] == f"{base_url}/demo/receiver/"
    assert (receiver_ok.status_code, receiver_forged.status_code) == (HTTPStatus.OK, HTTPStatus.UNAUTHORIZED)
    assert f"Notificações:  regras da demo → {base_url}/demo/receiver/" in output
    assert static.status_code == HTTPStatus.OK
    assert ready.json()["checks"]["store"] == "ok"
    assert admin_login.status_code == HTTPStatus.OK
    assert healthcheck.returncode == 0, healthcheck.stderr
    assert exit_code == 0, output
    assert f"Painel:        {base_url}/" in output
    assert "Login:         admin / senha-da-demo-123" in output
    assert "400 eventos novos, 30 dias (armazenamento em memória)" in output
    assert re.search(r"WEBHOOK_SECRET=whsec_[A-Za-z0-9+/=]+", output)
    assert f"curl -sS -X POST {base_url}/api/webhook/event -H" in output
    assert "webhook-signature: v1," in output
    assert "manage.py send_event" in output
    assert re.search(r"Demo encerrada \(\d+ eventos ao vivo entregues", output)
    assert "Traceback" not in output
    assert "feed ao vivo: 1 eventos entregues (respostas: 201×1)" in output


def test_demo_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
            "DJANGO_DEBUG": "true",
            "MONGO_URI": "mongomock://localhost/trader_monitor_demo",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        }
        result = subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "demo", "--port", str(port), "--events", "10"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    assert result.returncode != 0
    assert f"127.0.0.1:{port}" in result.stderr
    assert "PORT=" in result.stderr
