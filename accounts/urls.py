"""Rotas HTTP do app `accounts` (montadas em trader_monitor/urls.py em ``api/auth/``).

Sem barra final, como no contrato; a forma com barra também responde (sem redirecionar POST).
"""

from __future__ import annotations

from django.urls import re_path

from accounts import api

urlpatterns = [
    re_path(r"^register/?$", api.RegisterApi.as_view(), name="auth-register"),
    re_path(r"^login/?$", api.LoginApi.as_view(), name="auth-login"),
    re_path(r"^refresh/?$", api.RefreshApi.as_view(), name="auth-refresh"),
    re_path(r"^logout/?$", api.LogoutApi.as_view(), name="auth-logout"),
    re_path(r"^logout-all/?$", api.LogoutAllApi.as_view(), name="auth-logout-all"),
    re_path(r"^password/?$", api.PasswordChangeApi.as_view(), name="auth-password"),
    re_path(r"^me/?$", api.MeApi.as_view(), name="auth-me"),
]
