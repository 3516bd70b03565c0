from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "events.alerts"
    label = "alerts"
    verbose_name = _("Alertas")
