"""Rotas HTTP. Caminhos da API sem barra final, como no contrato (DESIGN.md)."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from events.api import WebhookEventView
from trader_monitor import health
from trader_monitor.metrics import metrics_view

urlpatterns = [
    re_path(r"^api/webhook/event/?$", WebhookEventView.as_view(), name="webhook-event"),
    path("api/auth/", include("accounts.urls")),
    path("api/", include("events.urls")),
    path("api/", include("insights.urls")),
    path("api/health", health.health, name="health"),
    path("api/health/ready", health.ready, name="health-ready"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    # Painel, login/logout e troca de idioma; antes de auth.urls para o login usar o nosso template.
    path("", include("dashboard.urls")),
    path("", include("django.contrib.auth.urls")),
]
