"""Todo padrão de URL registrado responde com os cabeçalhos de segurança e uma CSP.

Percorre o URLconf inteiro (API, páginas, admin do Django com todas as telas, docs, métricas)
como anônimo e como superusuário: uma rota nova entra no teste sozinha. O webhook rápido
(``events/webhook.py``) é um app ASGI fora do Django e tem teste próprio.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
# Valores de exemplo para parâmetros de rota: inteiro, texto, id hexadecimal de 24, caminho.
CANDIDATES = ["1", "x", "0" * 24, "a/b"]


def _patterns(patterns: list[Any], namespace: str | None = None) -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}:{pattern.namespace}" if namespace and pattern.namespace else pattern.namespace
            yield from _patterns(pattern.url_patterns, inner or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), pattern


def _path_for(name: str, pattern: URLPattern) -> str | None:
    params = list(pattern.pattern.regex.groupindex)
    if not params:
        try:
            return reverse(name)
        except NoReverseMatch:
            return None
    for value in CANDIDATES:
        try:
            return reverse(name, kwargs=dict.fromkeys(params, value))
        except NoReverseMatch:
            continue
    return None


def _every_path() -> list[str]:
    paths = set()
    for name, pattern in _patterns(get_resolver().url_patterns):
        path = _path_for(name, pattern)
        if path is not None:
            paths.add(path)
    return sorted(paths)


PATHS = _every_path()


def test_the_walk_reaches_the_api_the_pages_and_the_admin() -> None:
    assert {"/api/auth/password", "/api/events", "/api/docs/", "/metrics", "/", "/admin/"} <= set(PATHS)
    assert len([path for path in PATHS if path.startswith("/admin/")]) > 20


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("raiz", "raiz@example.com", PASSWORD))
    return client


@pytest.mark.parametrize("identity", ["anonymous", "superuser"])
def test_every_route_sends_the_security_headers_and_a_content_security_policy(
    identity: str, client: Client, superuser_client: Client
) -> None:
    http = superuser_client if identity == "superuser" else client
    missing = {}
    for path in PATHS:
        response = http.get(path)
        headers = {name: response.headers.get(name) for name in EXPECTED}
        if headers != EXPECTED or "Content-Security-Policy" not in response.headers:
            missing[path] = (response.status_code, headers, response.headers.get("Content-Security-Policy"))

    assert missing == {}
