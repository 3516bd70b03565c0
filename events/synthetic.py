"""Gerador de eventos sintéticos de trading, usado pelo ``seed`` e pelo feed ao vivo da demo.

O objetivo é parecer um dia de corretora, não ruído uniforme:

* muitos usuários, poucos muito ativos (pesos de Pareto: ~20% dos traders geram a
  maior parte dos eventos) e os mais ativos também movimentam valores maiores;
* ritmo diário e semanal no fuso de São Paulo: pico no pregão da B3 (10h–17h),
  madrugada quase parada, fim de semana fraco;
* sessões: ``login`` → algumas operações → (quase sempre) ``logout``;
* valores por tipo: ``login``/``logout`` valem 0; compras e vendas são quantidade ×
  preço de um ativo (lotes de 100 ou fracionário), com notional lognormal;
  depósitos e saques lognormais;
* metadados: ``asset``, ``quantity``, ``price``, ``channel``, ``ip`` (faixas de
  documentação da RFC 5737, nunca endereços reais), ``device``, ``method``…

Tudo sai de um ``random.Random(seed)``: a mesma semente e o mesmo ``now`` geram
exatamente os mesmos eventos, com os mesmos ``_id`` (derivados da semente e da
posição) — rodar o seed de novo não duplica nada.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from events.domain import EventDocument, EventPayload, IdempotencyKey, body_hash, build_document
from events.windows import isoformat

LOCAL_TZ = ZoneInfo("America/Sao_Paulo")

# Preço de referência (R$) de cada ativo; cada evento varia um pouco em torno dele.
TICKERS: dict[str, float] = {
    "PETR4": 37.80,
    "VALE3": 61.20,
    "ITUB4": 34.10,
    "BBDC4": 14.30,
    "BBAS3": 27.90,
    "ABEV3": 12.85,
    "WEGE3": 40.60,
    "B3SA3": 11.90,
    "MGLU3": 9.70,
    "RENT3": 44.20,
    "PRIO3": 41.30,
    "SUZB3": 55.40,
    "BOVA11": 126.50,
    "IVVB11": 335.00,
}
CHANNELS = ("mobile", "web", "api")
CHANNEL_WEIGHTS = (0.55, 0.35, 0.10)
DEVICES = {"mobile": ("android", "ios"), "web": ("chrome", "firefox", "safari", "edge"), "api": ("api-client",)}

# Peso relativo de cada hora local (0h..23h): pregão das 10h às 17h, leilão de
# fechamento, pós-mercado à noite e madrugada quase parada.
HOUR_WEIGHTS = (
    0.05, 0.03, 0.02, 0.02, 0.02, 0.04, 0.10, 0.30, 0.60, 1.00, 2.60, 2.40,
    1.70, 1.80, 2.20, 2.40, 2.50, 1.60, 0.90, 0.70, 0.60, 0.50, 0.30, 0.15,
)  # fmt: skip
# Segunda..domingo.
WEEKDAY_WEIGHTS = (1.00, 1.00, 1.00, 1.00, 0.95, 0.22, 0.15)

ACTION_TYPES = ("purchase", "sell", "deposit", "withdraw")
ACTION_WEIGHTS = (0.44, 0.34, 0.12, 0.10)
SESSION_TYPES = ("login", "logout")
EVENT_TYPES = ("login", "logout", "deposit", "withdraw", "purchase", "sell")

PARETO_ALPHA = 1.16  # a "regra 80/20"
MAX_TRADER_WEIGHT = 60.0


@dataclass(frozen=True)
class Trader:
    """Um usuário sintético e seus hábitos."""

    user_id: str
    weight: float
    wealth: float
    channel: str
    ip: str
    tickers: tuple[str, ...]


def build_population(rng: random.Random, users: int) -> list[Trader]:
    """``users`` traders com atividade de Pareto; os mais ativos operam valores maiores."""
    if users < 1:
        raise ValueError("users deve ser >= 1")
    names = list(TICKERS)
    population = []
    for index in range(1, users + 1):
        weight = min(rng.paretovariate(PARETO_ALPHA), MAX_TRADER_WEIGHT)
        wealth = rng.lognormvariate(0.0, 0.6) * (1.0 + math.log(weight))
        channel = rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        network = rng.choice(("192.0.2", "198.51.100", "203.0.113"))
        population.append(
            Trader(
                user_id=f"trader-{index:04d}",
                weight=weight,
                wealth=wealth,
                channel=channel,
                ip=f"{network}.{rng.randint(1, 254)}",
                tickers=tuple(rng.sample(names, k=rng.randint(2, 5))),
            )
        )
    return population


class Market:
    """Fonte determinística de eventos para uma população de traders."""

    def __init__(self, *, seed: int, users: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)  # noqa: S311 - simulação determinística, não criptografia  # nosec B311
        self.traders = build_population(self.rng, users)
        self._cum_weights = list(itertools.accumulate(trader.weight for trader in self.traders))

    def pick_trader(self) -> Trader:
        return self.rng.choices(self.traders, cum_weights=self._cum_weights)[0]

    # --- cargas de um evento -------------------------------------------------

    def payload(self, trader: Trader, event_type: str, moment: datetime, **extra: Any) -> dict[str, Any]:
        """Corpo JSON do evento, como um remetente de webhook o enviaria."""
        rng = self.rng
        channel = trader.channel if rng.random() < 0.85 else rng.choices(CHANNELS, CHANNEL_WEIGHTS)[0]
        metadata: dict[str, Any] = {"channel": channel, "ip": trader.ip}
        value = 0.0
        if event_type in ("purchase", "sell"):
            asset = rng.choice(trader.tickers) if rng.random() < 0.8 else rng.choice(list(TICKERS))
            price = round(TICKERS[asset] * math.exp(rng.gauss(0.0, 0.03)), 2)
            notional = rng.lognormvariate(math.log(1500.0 * trader.wealth), 1.0)
            quantity = max(1, round(notional / price))
            if quantity >= 100:
                quantity = round(quantity, -2)  # lote padrão da B3
            value = round(quantity * price, 2)
            metadata |= {"asset": asset, "quantity": quantity, "price": price, "orderType": _order_type(rng)}
        elif event_type == "deposit":
            value = round(rng.lognormvariate(math.log(3000.0 * trader.wealth), 0.8), 2)
            metadata["method"] = "pix" if rng.random() < 0.8 else "ted"
        elif event_type == "withdraw":
            value = round(rng.lognormvariate(math.log(2000.0 * trader.wealth), 0.9), 2)
            metadata["method"] = "pix" if rng.random() < 0.7 else "ted"
        elif event_type == "login":
            metadata["device"] = rng.choice(DEVICES[channel])
        metadata |= extra
        return {
            "userId": trader.user_id,
            "type": event_type,
            "value": value,
            "timestamp": isoformat(moment),
            "metadata": metadata,
        }

    # --- histórico ------------------------------------------------------------

    def history(self, *, events: int, days: int, now: datetime) -> Iterator[dict[str, Any]]:
        """Exatamente ``events`` cargas com ``timestamp`` em ``[now - days, now]``, em sessões."""
        if days < 1:
            raise ValueError("days deve ser >= 1")
        start = now - timedelta(days=days)
        sampler = _MomentSampler(self.rng, start, now)
        emitted = 0
        while emitted < events:
            trader = self.pick_trader()
            moment = sampler.sample()
            for payload in self._session(trader, moment, now):
                yield payload
                emitted += 1
                if emitted >= events:
                    return

    def _session(self, trader: Trader, moment: datetime, now: datetime) -> Iterator[dict[str, Any]]:
        rng = self.rng
        started = moment
        yield self.payload(trader, "login", moment)
        actions = 1 + min(int(rng.expovariate(1.0 / (1.0 + math.log(trader.weight)))), 30)
        for _ in range(actions):
            moment += timedelta(seconds=rng.expovariate(1.0 / 90.0) + 1.0)
            if moment > now:
                return
            yield self.payload(trader, rng.choices(ACTION_TYPES, ACTION_WEIGHTS)[0], moment)
        if rng.random() < 0.9:
            moment += timedelta(seconds=rng.expovariate(1.0 / 120.0) + 1.0)
            if moment <= now:
                yield self.payload(trader, "logout", moment, sessionSeconds=int((moment - started).total_seconds()))

    # --- ao vivo --------------------------------------------------------------

    def live(self, *, rate: float, clock: Callable[[], datetime]) -> Iterator[tuple[float, dict[str, Any]]]:
        """Sequência infinita de ``(espera em segundos, carga)``, em rajadas.

        Em média ``rate`` eventos/s; de vez em quando uma rajada de alguns segundos
        com ~8x a taxa (abertura do pregão, notícia…).
        """
        if rate <= 0:
            raise ValueError("rate deve ser > 0")
        rng = self.rng
        burst_left = 0
        while True:
            if burst_left == 0 and rng.random() < 0.02:
                burst_left = rng.randint(10, 40)
            current = rate * (8.0 if burst_left else 0.8)
            burst_left = max(0, burst_left - 1)
            delay = rng.expovariate(current)
            trader = self.pick_trader()
            kind = rng.choices(EVENT_TYPES, (0.12, 0.08, 0.07, 0.05, 0.38, 0.30))[0]
            yield delay, self.payload(trader, kind, clock())


def _order_type(rng: random.Random) -> str:
    return "market" if rng.random() < 0.6 else "limit"


class _MomentSampler:
    """Sorteia instantes em ``[start, end]`` seguindo o ritmo diário e semanal local."""

    def __init__(self, rng: random.Random, start: datetime, end: datetime) -> None:
        self.rng = rng
        self.start = start
        self.end = end
        first = start.astimezone(LOCAL_TZ).date()
        last = end.astimezone(LOCAL_TZ).date()
        self.days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        self.day_weights = list(itertools.accumulate(WEEKDAY_WEIGHTS[day.weekday()] for day in self.days))
        self.hour_weights = list(itertools.accumulate(HOUR_WEIGHTS))

    def sample(self) -> datetime:
        rng = self.rng
        for _ in range(1000):
            day: date = rng.choices(self.days, cum_weights=self.day_weights)[0]
            hour = bisect.bisect_right(self.hour_weights, rng.random() * self.hour_weights[-1])
            local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=LOCAL_TZ)
            moment = local.astimezone(UTC).replace(microsecond=rng.randrange(1000) * 1000)
            if self.start <= moment <= self.end:
                return moment
        # Janela curtíssima (ou só madrugada): cai no uniforme.
        span = (self.end - self.start).total_seconds()
        return self.start + timedelta(seconds=rng.random() * span)


# --- documentos para o armazenamento ----------------------------------------------


def seed_webhook_id(seed: int, index: int) -> str:
    """``webhook-id`` sintético do ``index``-ésimo evento da semente (vira o ``_id``)."""
    return f"seed_{seed}_{index}"


def history_documents(*, seed: int, events: int, days: int, users: int, now: datetime) -> Iterator[EventDocument]:
    """Documentos prontos para ``EventStore.insert_events_bulk``, validados como no webhook."""
    market = Market(seed=seed, users=users)
    latency_rng = random.Random(seed ^ 0x5EED)  # noqa: S311 - latência simulada, não criptografia  # nosec B311
    for index, data in enumerate(market.history(events=events, days=days, now=now)):
        payload = EventPayload.model_validate(data)
        key = IdempotencyKey("webhook-id", seed_webhook_id(seed, index))
        timestamp = payload.timestamp or now
        received = min(now, timestamp + timedelta(milliseconds=latency_rng.randint(20, 1500)))
        yield build_document(
            payload,
            event_id=key.event_id(),
            received_at=received,
            key=key,
            payload_hash=body_hash(data),
            ingest_id=hashlib.sha256(key.value.encode()).hexdigest()[:32],
        )


@dataclass(frozen=True)
class SeedResult:
    generated: int
    inserted: int

    @property
    def skipped(self) -> int:
        """Eventos que já existiam (mesma semente rodada de novo)."""
        return self.generated - self.inserted


def history_seed(
    *,
    seed: int,
    events: int,
    days: int,
    users: int,
    now: datetime,
    batch_size: int = 2000,
    progress: Callable[[int], object] | None = None,
) -> SeedResult:
    """Grava o histórico sintético em lotes e recalcula as agregações uma única vez.

    Os lotes entram sem tocar nos rollups (``track_rollups=False``); um único
    ``rebuild_rollups`` no final é linear, enquanto milhares de upserts ``$inc``
    custariam O(n) cada um no mongomock.
    """
    from events.store import get_store

    store = get_store()
    documents = history_documents(seed=seed, events=events, days=days, users=users, now=now)
    generated = inserted = 0
    while batch := list(itertools.islice(documents, batch_size)):
        inserted += store.insert_events_bulk(batch, track_rollups=False)
        generated += len(batch)
        if progress is not None:
            progress(len(batch))
    if inserted:
        store.rebuild_rollups()
    return SeedResult(generated=generated, inserted=inserted)


# --- entrega assinada (feed ao vivo e ``send_event``) -------------------------------


def webhook_secret_generate() -> str:
    """Segredo Standard Webhooks novo (``whsec_`` + 32 bytes em base64)."""
    import base64
    import secrets

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def signed_headers(*, secret: str, body: str, msg_id: str, moment: datetime | None = None) -> dict[str, str]:
    """Cabeçalhos Standard Webhooks de uma entrega (válidos por 5 minutos a partir de ``moment``)."""
    from standardwebhooks.webhooks import Webhook

    moment = moment or datetime.now(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, moment, body),
    }
