"""Modelo de usuário próprio desde o primeiro dia (trocar depois exige migração dolorosa)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser


class User(AbstractUser):
    """Analistas e administradores do painel. ``is_staff`` marca administradores."""
