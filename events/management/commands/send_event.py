"""``manage.py send_event`` — envia (ou mostra como ``curl``) um webhook assinado na hora.

Assinaturas Standard Webhooks expiram em 5 minutos, então um ``curl`` fixo no README
ou no banner da demo envelhece; este comando gera um novo a cada chamada.
"""

from __future__ import annotations

import json
import random
import shlex
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from events.synthetic import EVENT_TYPES, Market, signed_headers

DEFAULT_URL = "http://127.0.0.1:8000/api/webhook/event"


def curl_command(*, url: str, headers: dict[str, str], body: str) -> str:
    """Linha de ``curl`` pronta para colar num shell POSIX."""
    parts = ["curl", "-sS", "-X", "POST", shlex.quote(url)]
    for name, value in headers.items():
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    parts += ["--data-raw", shlex.quote(body)]
    return " ".join(parts)


def delivery_build(
    *,
    secret: str,
    user_id: str | None = None,
    event_type: str | None = None,
    value: float | None = None,
    metadata: dict[str, Any] | None = None,
    msg_id: str | None = None,
) -> tuple[str, dict[str, str]]:
    """Corpo JSON e cabeçalhos assinados de um evento (sintético onde faltar campo)."""
    market = Market(seed=random.SystemRandom().randrange(2**31), users=50)
    now = datetime.now(UTC)
    trader = market.pick_trader()
    payload = market.payload(trader, event_type or market.rng.choice(("purchase", "sell", "deposit")), now)
    if user_id is not None:
        payload["userId"] = user_id
    if value is not None:
        payload["value"] = value
    if metadata is not None:
        payload["metadata"] = metadata
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    headers = signed_headers(secret=secret, body=body, msg_id=msg_id or f"msg_{uuid.uuid4().hex}", moment=now)
    return body, headers


class Command(BaseCommand):
    help = "Envia um evento assinado ao webhook (ou, com --curl, imprime o comando curl equivalente)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=DEFAULT_URL, help=f"Endereço do webhook (padrão: {DEFAULT_URL}).")
        parser.add_argument("--secret", help="Segredo whsec_… (padrão: o 1º de WEBHOOK_SECRET).")
        parser.add_argument("--user", dest="user_id", help="userId (padrão: um trader sintético).")
        parser.add_argument("--type", dest="event_type", help=f"Tipo ({', '.join(EVENT_TYPES)}…).")
        parser.add_argument("--value", type=float, help="Valor (padrão: sintético, conforme o tipo).")
        parser.add_argument("--metadata", help="Metadados em JSON (padrão: sintéticos).")
        parser.add_argument("--id", dest="msg_id", help="webhook-id (repita para testar a idempotência).")
        parser.add_argument("--curl", action="store_true", help="Só imprime o curl assinado, sem enviar.")

    def handle(self, *args: Any, **options: Any) -> None:
        secret = options["secret"] or (settings.WEBHOOK_SECRETS[0] if settings.WEBHOOK_SECRETS else None)
        if not secret:
            raise CommandError("Defina WEBHOOK_SECRET (whsec_…) ou passe --secret.")
        metadata = None
        if options["metadata"]:
            try:
                metadata = json.loads(options["metadata"])
            except ValueError as exc:
                raise CommandError(f"--metadata não é JSON válido: {exc}") from None
        try:
            body, headers = delivery_build(
                secret=secret,
                user_id=options["user_id"],
                event_type=options["event_type"],
                value=options["value"],
                metadata=metadata,
                msg_id=options["msg_id"],
            )
        except Exception as exc:
            raise CommandError(f"segredo inválido: {exc}") from None
        if options["curl"]:
            self.stdout.write(curl_command(url=options["url"], headers=headers, body=body))
            return
        try:
            response = httpx.post(options["url"], content=body.encode(), headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise CommandError(f"falha ao enviar para {options['url']}: {exc}") from None
        self.stdout.write(f"{response.status_code} {response.text}")
        if response.status_code >= 400:
            raise CommandError(f"o webhook respondeu {response.status_code}")
