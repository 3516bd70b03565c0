"""Admin do app de alertas (o registro acontece nos módulos importados aqui)."""

from __future__ import annotations

from events.alerts import notification_admin  # noqa: F401  (registra NotificationEndpointAdmin)
