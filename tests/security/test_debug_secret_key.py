"""Com ``DJANGO_DEBUG`` e sem ``DJANGO_SECRET_KEY`` (``make demo``) a chave é aleatória por processo.

Uma constante no código é pública: quem a lê forja um JWT do admin da demo. Cada caso roda
num subprocesso com o ambiente controlado, como a demo sobe.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

# A constante que o código usava até esta correção: um JWT assinado com ela não pode valer.
FORMER_PUBLIC_KEY = "dev-insecure-trader-monitor-key-change-me-0123456789abcdef"

PROBE = textwrap.dedent(
    """
    import json
    import django
    import jwt
    django.setup()
    from django.conf import settings
    from rest_framework_simplejwt.exceptions import TokenError
    from rest_framework_simplejwt.tokens import AccessToken

    forged = jwt.encode(
        {"token_type": "access", "exp": 4102444800, "iat": 1700000000, "jti": "forjado", "user_id": "1"},
        FORMER_KEY,
        algorithm="HS256",
    )
    try:
        AccessToken(forged)
        accepted = True
    except TokenError:
        accepted = False
    print(json.dumps({
        "secret": settings.SECRET_KEY,
        "jwt": settings.SIMPLE_JWT["SIGNING_KEY"],
        "forged_accepted": accepted,
    }))
    """
).replace("FORMER_KEY", repr(FORMER_PUBLIC_KEY))


def _debug_process() -> dict[str, object]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "DJANGO_SETTINGS_MODULE": "trader_monitor.settings",
        "DJANGO_DEBUG": "true",
        # Vazia (e não ausente): um .env local com chave não interfere no teste.
        "DJANGO_SECRET_KEY": "",
        "MONGO_URI": "mongomock://localhost/debug_key_probe",
        "REDIS_URL": "",
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    probe: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return probe


def test_debug_without_secret_key_uses_a_random_key_per_process() -> None:
    first, second = _debug_process(), _debug_process()

    assert first["secret"] != second["secret"]
    assert FORMER_PUBLIC_KEY not in {first["secret"], second["secret"]}
    assert len(str(first["secret"])) >= 50
    assert first["jwt"] == first["secret"]


def test_a_jwt_forged_with_the_former_public_key_is_refused_in_debug() -> None:
    assert _debug_process()["forged_accepted"] is False
