"""Exceções que atravessam as camadas e viram respostas HTTP num só lugar (``trader_monitor.errors``).

Módulo folha: o projeto não importa nada dos apps para mapear erros; os apps
derivam suas exceções daqui.
"""

from __future__ import annotations


class DependencyUnavailable(Exception):
    """Uma dependência (banco, cache) não respondeu; a requisição deve ser repetida mais tarde (503)."""

    code = "dependency_unavailable"
    retry_after_seconds = 5
