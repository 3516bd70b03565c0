from __future__ import annotations

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("Painel")


class TraderAdminConfig(AdminConfig):
    """Substitui ``django.contrib.admin``: o site padrão ganha as telas do MongoDB."""

    default_site = "dashboard.admin_site.TraderAdminSite"
