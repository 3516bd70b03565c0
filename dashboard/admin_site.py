"""Site de administração do projeto: o admin do Django mais as telas do MongoDB.

Eventos e webhooks rejeitados vivem no MongoDB, não em tabelas do Django; por
isso não são ``ModelAdmin``: são views próprias (``events/admin.py``) registradas
aqui e listadas no índice como um app a mais.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import URLPattern, URLResolver
from django.utils.translation import gettext_lazy as _


class TraderAdminSite(admin.AdminSite):
    site_header = _("Trader Monitor — administração")
    site_title = _("Trader Monitor")
    index_title = _("Administração")
    site_url = "/"

    def get_urls(self) -> list[URLResolver | URLPattern]:
        from events.admin import store_admin_urls

        return [*store_admin_urls(self), *super().get_urls()]

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[Any]:
        from events.admin import store_admin_app

        app_list = list(super().get_app_list(request, app_label))
        if app_label in (None, "events") and self.has_permission(request):
            app_list.append(store_admin_app(request))
            app_list.sort(key=lambda app: str(app["name"]).lower())
        return app_list
