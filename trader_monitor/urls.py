"""Rotas HTTP. Caminhos da API sem barra final, como no contrato (docs/ARCHITECTURE.md, README)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from trader_monitor import health
from trader_monitor.metrics import metrics_view
from trader_monitor.openapi import ApiDocsView

urlpatterns = [
    path("api/auth/", include("accounts.urls")),
    path("api/", include("events.urls")),
    path("api/", include("events.alerts.urls")),
    path("api/", include("insights.urls")),
    path("api/health", health.health, name="health"),
    path("api/health/ready", health.ready, name="health-ready"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="docs"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    # Painel, login/logout e troca de idioma.
    path("", include("dashboard.urls")),
    # Das views de conta do Django, só a troca de senha: a recuperação por e-mail não é
    # oferecida (sem servidor de e-mail configurado o envio daria 500).
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]

# 404/500 em JSON sob /api/ (formato de erro da API); páginas seguem os padrões do Django.
handler404 = "trader_monitor.errors.page_not_found"
handler500 = "trader_monitor.errors.server_error"
