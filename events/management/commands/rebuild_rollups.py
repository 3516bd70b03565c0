"""Recalcula as agregações a partir dos eventos (após uma queda ou migração)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from events.store import get_store


class Command(BaseCommand):
    help = "Recalcula todas as agregações (rollups) lendo a coleção de eventos."

    def handle(self, *args: Any, **options: Any) -> None:
        seen = get_store().rebuild_rollups()
        self.stdout.write(self.style.SUCCESS(f"Agregações recalculadas a partir de {seen} eventos."))
