"""Exceções da API com significado próprio no formato de erro (``trader_monitor.errors``).

Módulo leve (só ``rest_framework.exceptions``): as classes de autenticação o importam
enquanto o DRF ainda está carregando as próprias configurações.
"""

from __future__ import annotations

from rest_framework import exceptions


class CodedAuthenticationFailed(exceptions.AuthenticationFailed):
    """401 cujo ``default_code`` é estável e vai em ``error`` (ex.: ``session_expired``).

    Os demais 401 saem todos como ``not_authenticated``: o cliente não precisa (nem deve)
    distinguir token adulterado de usuário inexistente. Estes dizem o que fazer: entrar de novo.
    """
