"""Cria os índices do MongoDB declarados em ``events.store`` (idempotente)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from events.store import get_store


class Command(BaseCommand):
    help = "Cria (ou confirma) os índices das coleções de eventos, agregações e quarentena."

    def handle(self, *args: Any, **options: Any) -> None:
        names = get_store().ensure_indexes()
        self.stdout.write(self.style.SUCCESS(f"{len(names)} índices garantidos: {', '.join(names)}"))
