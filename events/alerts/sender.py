"""Remetente das notificações: lê a caixa de saída e entrega ``alert.triggered`` assinado.

Cada entrega é um ``POST`` de ``{"type": "alert.triggered", "timestamp", "data": {alerta}}``
assinado com Standard Webhooks (biblioteca ``standardwebhooks``) e o segredo do destino:
``webhook-id`` é o id da entrega (o mesmo em todas as tentativas: o destino deduplica
por ele), ``webhook-timestamp`` é o instante da tentativa.

Resultado de uma tentativa (``attempt_outcome``):

* 2xx → ``delivered``;
* 5xx, 408, 429, tempo esgotado, conexão recusada/caída → nova tentativa depois de
  ``NOTIFY_RETRY_SCHEDULE`` (5 s, 30 s, 2 min, 10 min, 1 h, 6 h, ±20% de jitter); esgotada
  a lista, ``failed``;
* outros 4xx e 3xx (redirecionamentos não são seguidos), destino recusado pela proteção
  contra SSRF ou removido/desativado → ``failed`` na hora: repetir não mudaria a resposta.

O agendamento é persistido (``nextAttemptAt`` na própria entrega), não uma espera em
memória: um remetente que cai não perde nada, e o relógio é injetável (testes).
Cada entrega terminada em ``failed`` soma uma falha seguida no destino;
``NOTIFY_DISABLE_AFTER`` seguidas o desativam. Uma entregue zera a conta.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpcore
from bson import ObjectId
from django.conf import settings
from django.db import close_old_connections
from standardwebhooks.webhooks import Webhook

from events.alerts.models import NotificationEndpoint
from events.alerts.notifications import endpoint_record_outcome
from events.alerts.ssrf import BlockedDestination, GuardedBackend
from events.store import EventStore, StoreUnavailable, get_store
from events.windows import isoformat
from trader_monitor import metrics

logger = logging.getLogger(__name__)

Outcome = Literal["delivered", "retry", "failed"]
EVENT_TYPE = "alert.triggered"
USER_AGENT = "trader-monitor-notifications/1"
# Do corpo da resposta só lemos até isto (e descartamos): o status basta.
MAX_RESPONSE_BYTES = 64 * 1024
JITTER = 0.2
RETRYABLE_STATUSES = frozenset({408, 429})


def attempt_outcome(status_code: int) -> Outcome:
    if 200 <= status_code < 300:
        return "delivered"
    if status_code >= 500 or status_code in RETRYABLE_STATUSES:
        return "retry"
    return "failed"


def retry_delay(attempts_made: int, *, schedule: Sequence[int], rng: random.Random) -> float | None:
    """Espera (s) antes da tentativa seguinte à de número ``attempts_made``; ``None``: esgotou."""
    if attempts_made > len(schedule):
        return None
    base = schedule[attempts_made - 1]
    # Jitter contra a manada: entregas que falharam juntas não voltam juntas.
    return base * rng.uniform(1 - JITTER, 1 + JITTER)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    if isinstance(value, ObjectId):
        return str(value)
    raise TypeError(f"não serializável: {type(value).__name__}")


def payload_build(delivery: dict[str, Any]) -> str:
    """O corpo da entrega: igual em todas as tentativas (o ``webhook-id`` também)."""
    alert = delivery["alert"]
    moment = alert.get("triggeredAt") or delivery["createdAt"]
    if isinstance(moment, datetime):
        moment = isoformat(moment)
    body = {"type": EVENT_TYPE, "timestamp": moment, "data": alert}
    return json.dumps(body, default=_json_default, ensure_ascii=False, separators=(",", ":"))


def signed_headers(*, secret: str, delivery_id: str, body: str, moment: datetime) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery_id, moment, body),
    }


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    status_code: int | None = None
    error: str | None = None


class Sender:
    """Reivindica entregas vencidas e as envia, uma a uma.

    ``clock`` decide o que está vencido e agenda as próximas tentativas (os testes o
    avançam em vez de dormir); ``owner`` identifica a concessão deste remetente.
    """

    def __init__(
        self,
        *,
        store: EventStore | None = None,
        clock: Callable[[], datetime] | None = None,
        rng: random.Random | None = None,
        owner: str | None = None,
    ) -> None:
        self.store = store or get_store()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        # Jitter, não segredo: um gerador pseudoaleatório comum basta.
        self.rng = rng or random.Random()  # noqa: S311  # nosec B311
        self.owner = owner or f"sender-{uuid.uuid4().hex[:12]}"
        self.schedule = tuple(settings.NOTIFY_RETRY_SCHEDULE)
        self.lease_seconds = settings.NOTIFY_LEASE_SECONDS
        self.timeouts = {
            "connect": settings.NOTIFY_CONNECT_TIMEOUT_SECONDS,
            "read": settings.NOTIFY_TIMEOUT_SECONDS,
            "write": settings.NOTIFY_TIMEOUT_SECONDS,
            "pool": settings.NOTIFY_TIMEOUT_SECONDS,
        }
        self.pool = httpcore.ConnectionPool(network_backend=GuardedBackend(), max_connections=10, retries=0)

    def close(self) -> None:
        self.pool.close()

    # --- laço ------------------------------------------------------------------------

    def claim(self) -> dict[str, Any] | None:
        return self.store.claim_delivery(now=self.clock(), lease_seconds=self.lease_seconds, owner=self.owner)

    def run_once(self, *, limit: int = 1000) -> int:
        """Envia as entregas vencidas agora (até ``limit``); devolve quantas tentou."""
        done = 0
        while done < limit:
            delivery = self.claim()
            if delivery is None:
                break
            self.deliver(delivery)
            done += 1
        return done

    def run_forever(self, stop: threading.Event, *, poll_seconds: float | None = None) -> None:
        """Até ``stop``: envia o que venceu e espera ``poll_seconds`` quando não há nada."""
        wait = settings.NOTIFY_POLL_SECONDS if poll_seconds is None else poll_seconds
        while not stop.is_set():
            try:
                close_old_connections()
                sent = self.run_once(limit=100)
            except StoreUnavailable:
                logger.warning("caixa de saída indisponível; nova tentativa em %.0f s", wait * 5)
                stop.wait(wait * 5)
                continue
            except Exception:
                logger.exception("erro inesperado no remetente de notificações")
                sent = 0
            if not sent:
                stop.wait(wait)

    # --- uma entrega -----------------------------------------------------------------

    def deliver(self, delivery: dict[str, Any]) -> Outcome:
        """Uma tentativa da entrega reivindicada; registra o resultado e agenda a próxima."""
        endpoint = NotificationEndpoint.objects.filter(id=delivery["endpointId"]).first()
        started_at = self.clock()
        if endpoint is None or not endpoint.enabled:
            result = AttemptResult("failed", error="destino removido" if endpoint is None else "destino desativado")
            duration_ms = 0
        else:
            started = time.monotonic()
            result = self.post(endpoint, delivery, started_at)
            duration_ms = round((time.monotonic() - started) * 1000)
        attempt: dict[str, Any] = {"at": started_at, "durationMs": duration_ms}
        if result.status_code is not None:
            attempt["statusCode"] = result.status_code
        if result.error is not None:
            attempt["error"] = result.error
        outcome = result.outcome
        next_attempt_at: datetime | None = None
        if outcome == "retry":
            delay = retry_delay(len(delivery.get("attempts", [])) + 1, schedule=self.schedule, rng=self.rng)
            if delay is None:
                outcome = "failed"
            else:
                next_attempt_at = self.clock() + timedelta(seconds=delay)
        status = {"delivered": "delivered", "retry": "pending", "failed": "failed"}[outcome]
        recorded = self.store.finish_delivery_attempt(
            delivery["_id"],
            owner=self.owner,
            attempt=attempt,
            status=status,  # type: ignore[arg-type]
            next_attempt_at=next_attempt_at,
            now=self.clock(),
        )
        if not recorded:
            # A concessão venceu no meio do envio e outro remetente assumiu: ele registra.
            logger.warning("concessão perdida durante a entrega", extra={"delivery_id": str(delivery["_id"])})
            return outcome
        metrics.NOTIFICATION_ATTEMPTS.labels(outcome).inc()
        # Entregue num destino sem falhas (o caso comum) não escreve nada no banco.
        counts = outcome == "failed" or (
            outcome == "delivered" and endpoint is not None and endpoint.consecutive_failures
        )
        if endpoint is not None and endpoint.enabled and counts:
            endpoint_record_outcome(endpoint_id=endpoint.pk, delivered=outcome == "delivered", now=self.clock())
        return outcome

    def post(self, endpoint: NotificationEndpoint, delivery: dict[str, Any], moment: datetime) -> AttemptResult:
        body = payload_build(delivery)
        headers = signed_headers(secret=endpoint.secret, delivery_id=str(delivery["_id"]), body=body, moment=moment)
        try:
            with self.pool.stream(
                "POST",
                endpoint.url,
                headers=list(headers.items()),
                content=body.encode(),
                extensions={"timeout": self.timeouts},
            ) as response:
                status_code = response.status
                # O corpo não importa (só o status): lido até um limite de tamanho e de tempo,
                # para que um destino que responde sem fim não prenda o remetente.
                read, deadline = 0, time.monotonic() + self.timeouts["read"]
                for chunk in response.iter_stream():
                    read += len(chunk)
                    if read >= MAX_RESPONSE_BYTES or time.monotonic() > deadline:
                        break
        except BlockedDestination as exc:
            return AttemptResult("failed", error=str(exc))
        except httpcore.TimeoutException as exc:
            return AttemptResult("retry", error=f"timeout ({type(exc).__name__})")
        except (httpcore.NetworkError, httpcore.RemoteProtocolError) as exc:
            return AttemptResult("retry", error=f"{type(exc).__name__}: {exc}"[:300])
        except Exception as exc:  # URL que o httpcore não aceita, protocolo local…: repetir não muda
            logger.exception("entrega de notificação falhou sem resposta", extra={"endpoint_id": endpoint.pk})
            return AttemptResult("failed", error=f"{type(exc).__name__}: {exc}"[:300])
        return AttemptResult(attempt_outcome(status_code), status_code=status_code)
