"""``manage.py check --deploy --fail-level WARNING`` com as configurações de produção.

Roda num subprocesso com ambiente controlado (só o necessário, segredos com cara de
reais, DEBUG desligado): as proteções de produção (HSTS, redirecionamento para HTTPS,
cookies seguros) vêm dos padrões das configurações, não do ambiente do teste. O caso
com uma chave fraca prova que a checagem falha de verdade.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _production_env(**overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "DJANGO_ALLOWED_HOSTS": "monitor.example.com",
        "METRICS_TOKEN": secrets.token_urlsafe(32),
        # Nunca conectado pelo check: o cliente do MongoDB só nasce no primeiro uso.
        "MONGO_URI": "mongodb://mongo.example.com:27017/trader_monitor?replicaSet=rs0",
    }
    env.update(overrides)
    return env


def _check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_passes_with_production_settings() -> None:
    result = _check(_production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        ({"DJANGO_SECRET_KEY": "curta"}, "security.W009"),
        ({"DJANGO_SECURE_SSL_REDIRECT": "false"}, "security.W008"),
        ({"DJANGO_SECURE_HSTS_SECONDS": "0"}, "security.W004"),
        ({"DJANGO_SECURE_COOKIES": "false"}, "security.W012"),
    ],
)
def test_deploy_check_fails_when_a_protection_is_weakened(overrides: dict[str, str], warning: str) -> None:
    result = _check(_production_env(**overrides))

    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


def test_production_refuses_to_start_without_secrets() -> None:
    env = _production_env()
    del env["WEBHOOK_SECRET"]

    result = _check(env)

    assert result.returncode != 0
    assert "WEBHOOK_SECRET" in result.stderr


def test_old_secret_keys_can_be_kept_as_fallbacks_during_a_rotation() -> None:
    old, older = secrets.token_urlsafe(50), secrets.token_urlsafe(50)
    env = _production_env(DJANGO_SECRET_KEY_FALLBACKS=f"{old},{older}")
    script = "from django.conf import settings; print(len(settings.SECRET_KEY_FALLBACKS))"

    result = subprocess.run(  # noqa: S603 - comando fixo, sem shell
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.stdout.strip().splitlines()[-1] == "2", result.stderr
    assert _check(env).returncode == 0


def test_production_refuses_to_start_without_mongo_uri() -> None:
    env = _production_env()
    del env["MONGO_URI"]

    result = _check(env)

    assert result.returncode != 0
    assert "MONGO_URI" in result.stderr


def test_production_refuses_the_in_memory_store_unless_explicitly_allowed() -> None:
    result = _check(_production_env(MONGO_URI="mongomock://localhost/trader_monitor"))

    assert result.returncode != 0
    assert "MONGO_ALLOW_IN_MEMORY" in result.stderr


def test_an_allowed_in_memory_store_is_reported_by_the_deploy_check_and_at_start_up() -> None:
    env = _production_env(MONGO_URI="mongomock://localhost/trader_monitor", MONGO_ALLOW_IN_MEMORY="true")

    result = _check(env)

    assert result.returncode != 0
    assert "events.W001" in result.stdout + result.stderr
    assert "store: in-memory" in result.stderr
