from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class TraderMonitorUserAdmin(UserAdmin):  # type: ignore[type-arg]
    """Administradores (``is_staff``) e analistas do painel."""

    list_display = ("username", "email", "is_staff", "is_active", "last_login", "date_joined")
    list_filter = ("is_staff", "is_active", "is_superuser")
    ordering = ("username",)
