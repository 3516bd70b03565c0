"""``manage.py seed`` — usuários de teste e histórico sintético de eventos.

Idempotente: usuários existentes ficam como estão (salvo ``--reset``) e os eventos
têm ``_id`` determinístico (semente + posição), então rodar de novo não duplica.
Funciona com qualquer ``MONGO_URI`` (mongomock ou MongoDB real).
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from events.store import get_store
from events.synthetic import history_seed

DEFAULT_EVENTS = 30_000
DEFAULT_DAYS = 30
DEFAULT_USERS = 200
DEFAULT_SEED = 42


@dataclass(frozen=True)
class SeededUser:
    username: str
    password: str | None  # só quando foi definida agora (para mostrar uma única vez)
    created: bool
    is_staff: bool


def user_ensure(*, username: str, password: str | None, admin: bool, reset: bool) -> SeededUser:
    """Cria o usuário se faltar; com ``reset``, redefine a senha e os papéis.

    Sem senha informada, gera uma aleatória — devolvida para ser mostrada uma vez.
    """
    user_model = get_user_model()
    with transaction.atomic():
        user = user_model.objects.filter(username=username).first()
        if user is not None and not reset:
            return SeededUser(username, None, created=False, is_staff=user.is_staff)
        chosen = password or secrets.token_urlsafe(12)
        created = user is None
        if user is None:
            user = user_model(username=username)
        user.is_staff = admin
        user.is_superuser = admin
        user.is_active = True
        if not user.email:
            user.email = f"{username}@example.com"
        user.set_password(chosen)
        user.save()
    return SeededUser(username, chosen, created=created, is_staff=admin)


class Command(BaseCommand):
    help = "Cria usuários de teste (admin e analistas) e eventos sintéticos dos últimos N dias."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="Quantos eventos gerar.")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="Janela do histórico, em dias até agora.")
        parser.add_argument("--users", type=int, default=DEFAULT_USERS, help="Quantos traders sintéticos (userId).")
        parser.add_argument(
            "--seed", type=int, default=DEFAULT_SEED, help="Semente: a mesma semente gera os mesmos eventos."
        )
        parser.add_argument("--batch-size", type=int, default=2000, help="Eventos por lote gravado.")
        parser.add_argument("--reset", action="store_true", help="Apaga eventos e redefine as senhas dos usuários.")
        parser.add_argument("--no-users", action="store_true", help="Não cria usuários, só eventos.")
        parser.add_argument("--admin-username", default=os.environ.get("SEED_ADMIN_USERNAME", "admin"))
        parser.add_argument(
            "--admin-password",
            default=os.environ.get("SEED_ADMIN_PASSWORD"),
            help="Senha do admin (ou SEED_ADMIN_PASSWORD); sem ela, uma aleatória é gerada e mostrada.",
        )
        parser.add_argument("--analysts", type=int, default=2, help="Quantos analistas (analyst1, analyst2…).")
        parser.add_argument(
            "--analyst-password",
            default=os.environ.get("SEED_ANALYST_PASSWORD"),
            help="Senha dos analistas (ou SEED_ANALYST_PASSWORD); sem ela, uma aleatória por analista.",
        )
        parser.add_argument(
            "--progress",
            choices=("auto", "on", "off"),
            default="auto",
            help="Barra de progresso (auto: só quando a saída é um terminal).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name in ("events", "days", "users", "batch_size"):
            if options[name] < (0 if name == "events" else 1):
                raise CommandError(f"--{name.replace('_', '-')} inválido: {options[name]}")
        if not options["no_users"]:
            self.seed_users(options)
        store = get_store()
        if store.kind == "in-memory":
            self.stdout.write(
                self.style.WARNING(
                    "MONGO_URI usa o mongomock (memória): os eventos somem quando este processo termina. "
                    "Para ver os dados no painel use `make demo`, ou aponte MONGO_URI para um MongoDB."
                )
            )
        if options["reset"]:
            store.drop_all()
            self.stdout.write("Eventos, agregações e quarentena apagados (--reset).")
        self.seed_events(options)
        store.ensure_indexes()

    def seed_users(self, options: dict[str, Any]) -> None:
        reset = options["reset"]
        seeded = [
            user_ensure(username=options["admin_username"], password=options["admin_password"], admin=True, reset=reset)
        ]
        seeded += [
            user_ensure(username=f"analyst{n}", password=options["analyst_password"], admin=False, reset=reset)
            for n in range(1, options["analysts"] + 1)
        ]
        for user in seeded:
            role = "admin" if user.is_staff else "analista"
            if user.password is None:
                self.stdout.write(f"Usuário {user.username} ({role}) já existe; senha mantida (use --reset).")
            else:
                verb = "criado" if user.created else "redefinido"
                # A senha aparece só aqui, uma vez; não é registrada em log.
                self.stdout.write(f"Usuário {user.username} ({role}) {verb} — senha: {user.password}")

    def seed_events(self, options: dict[str, Any]) -> None:
        total = options["events"]
        show = {"on": True, "off": False}.get(options["progress"], self.stdout.isatty())
        with tqdm(
            total=total, unit="ev", desc="eventos", disable=not show, file=getattr(self.stderr, "_out", sys.stderr)
        ) as bar:
            result = history_seed(
                seed=options["seed"],
                events=total,
                days=options["days"],
                users=options["users"],
                now=datetime.now(UTC),
                batch_size=options["batch_size"],
                progress=bar.update,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.inserted} eventos gravados ({result.skipped} já existiam) em {options['days']} dias, "
                f"{options['users']} traders, semente {options['seed']}."
            )
        )
