"""Rotas das páginas (montadas na raiz em trader_monitor/urls.py, antes de ``auth.urls``)."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog

from dashboard import views
from dashboard.security import csp_protect

urlpatterns = [
    path("", views.dashboard_index, name="dashboard"),
    # O userId pode ter "/" (só caracteres de controle e cara de operador são recusados).
    re_path(r"^traders/(?P<user_id>.+)$", views.trader_detail, name="trader"),
    path(
        "login/",
        csp_protect(auth_views.LoginView.as_view(redirect_authenticated_user=True)),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(domain="djangojs"), name="javascript-catalog"),
]
