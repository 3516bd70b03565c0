from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "events.alerts"
    label = "alerts"
    verbose_name = _("Alertas")

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from events.alerts.cache import rules_invalidate
        from events.alerts.models import AlertRule

        # O cache de regras do processo (events/alerts/cache.py) relê na próxima avaliação.
        post_save.connect(rules_invalidate, sender=AlertRule, dispatch_uid="alerts-rules-saved")
        post_delete.connect(rules_invalidate, sender=AlertRule, dispatch_uid="alerts-rules-deleted")
        m2m_changed.connect(rules_invalidate, sender=AlertRule.notify.through, dispatch_uid="alerts-rules-notify")
