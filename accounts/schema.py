"""Extensão do drf-spectacular: a autenticação JWT do projeto documenta-se como a do simplejwt.

Importado em ``AccountsConfig.ready`` (a extensão se registra ao ser definida).
"""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme


class VersionedJWTScheme(SimpleJWTScheme):  # type: ignore[no-untyped-call]
    """Mesmo esquema ``jwtAuth`` (Bearer JWT) para ``VersionedJWTAuthentication``."""

    target_class = "accounts.authentication.VersionedJWTAuthentication"
