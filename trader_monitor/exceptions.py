"""Exceções que atravessam as camadas e viram respostas HTTP num só lugar (``trader_monitor.errors``).

Módulo folha: o projeto não importa nada dos apps para mapear erros; os apps derivam suas
exceções daqui. Só depende de ``rest_framework.exceptions``: as classes de autenticação o
importam enquanto o DRF ainda carrega as próprias configurações.
"""

from __future__ import annotations

from rest_framework import exceptions


class DependencyUnavailable(Exception):
    """Uma dependência (banco, cache) não respondeu; a requisição deve ser repetida mais tarde (503)."""

    code = "dependency_unavailable"
    retry_after_seconds = 5


class CodedAuthenticationFailed(exceptions.AuthenticationFailed):
    """401 cujo ``default_code`` é estável e vai em ``error`` (ex.: ``session_expired``).

    Os demais 401 saem todos como ``not_authenticated``: o cliente não precisa (nem deve)
    distinguir token adulterado de usuário inexistente. Estes dizem o que fazer: entrar de novo.
    """
