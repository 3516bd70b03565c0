"""Avaliação das regras a cada evento gravado (depois da gravação confirmada).

``alerts_evaluate`` nunca lança: o erro de uma regra é registrado (com o id da regra) e
contado em ``trader_monitor_alert_rule_errors_total``, e as outras regras seguem — a
ingestão do evento já terminou e não depende disto. Só eventos recém-criados chegam
aqui (reenvios e duplicatas não: ``events.services.event_ingest``).

Todo estado vive no armazenamento, em operações atômicas (``events/store/alerts.py``): o
resultado é o mesmo com N processos. A semântica de cada tipo está em
``events/alerts/rules.py``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from events.alerts.domain import alert_id, alert_to_json, cooldown_key, stats_key
from events.alerts.rules import (
    RuleSpec,
    Stats,
    anomaly_message,
    anomaly_score,
    compare,
    frequency_message,
    ratio_ok,
    sequence_message,
    threshold_message,
)
from events.domain import EventFilter, KeysetPosition
from events.store import EventStore
from events.windows import to_millisecond
from trader_monitor import metrics

logger = logging.getLogger(__name__)

_MILLISECOND = timedelta(milliseconds=1)
# Eventos vizinhos lidos por avaliação (o par de uma sequência, os posteriores de uma frequência).
SCAN = 50


@dataclass(frozen=True)
class Fire:
    """Um disparo candidato: ainda passa pelo intervalo sem repetição e pela chave do alerta.

    ``trigger`` identifica o gatilho (id do evento, ou o par) e ``at`` é o ``timestamp`` dele.
    """

    trigger: str
    at: datetime
    events: list[dict[str, Any]]
    message: str


class Ahead:
    """Eventos do mesmo usuário já gravados com ``timestamp`` a partir deste (fora de ordem).

    Uma leitura só por evento para todas as regras que olham adiante (frequência e o lado
    ``firstType`` das sequências), feita na primeira vez que uma delas pede: no tempo real a
    resposta quase sempre é vazia, e uma consulta por regra custaria vazão à toa.
    """

    def __init__(self, event: dict[str, Any], store: EventStore, rules: tuple[RuleSpec, ...]) -> None:
        self.event = event
        self.store = store
        self.rules = rules
        self._docs: list[dict[str, Any]] | None = None

    def _read(self) -> list[dict[str, Any]]:
        types: set[str] = set()
        span = timedelta(0)
        for spec in self.rules:
            if spec.kind == "frequency" or (spec.kind == "sequence" and self.event["type"] == spec.first_type):
                types.add(spec.event_type if spec.kind == "frequency" else spec.second_type)
                span = max(span, spec.window)
        moment = self.event["timestamp"]
        window = EventFilter(
            types=tuple(sorted(types)), user_id=self.event["userId"], start=moment, end=moment + span + _MILLISECOND
        )
        # Contar é barato (índice); quase sempre só o próprio evento está na janela.
        itself = 1 if self.event["type"] in types else 0
        if self.store.count_events(window) <= itself:
            return []
        found = self.store.list_events(window, sort_field="timestamp", descending=False, limit=SCAN)
        return [doc for doc in found if doc["_id"] != self.event["_id"]]

    def of(self, event_type: str, *, within: timedelta, same_instant: bool) -> list[dict[str, Any]]:
        """Os posteriores de ``event_type`` até ``within`` depois (com ou sem os do mesmo instante)."""
        if self._docs is None:
            self._docs = self._read()
        if not self._docs:
            return []
        moment = self.event["timestamp"]
        return [
            doc
            for doc in self._docs
            if doc["type"] == event_type
            and doc["timestamp"] <= moment + within
            and (same_instant or doc["timestamp"] > moment)
        ]


def _threshold(spec: RuleSpec, event: dict[str, Any]) -> list[Fire]:
    if spec.user_id and event["userId"] != spec.user_id:
        return []
    if spec.threshold is None or not compare(event["value"], spec.op, spec.threshold):
        return []
    message = threshold_message(spec, event)
    return [Fire(trigger=str(event["_id"]), at=event["timestamp"], events=[event], message=message)]


def _frequency(spec: RuleSpec, event: dict[str, Any], store: EventStore, ahead: Ahead) -> list[Fire]:
    fires = []
    fire = _frequency_at(spec, event, store)
    if fire is not None:
        fires.append(fire)
    # Eventos posteriores já gravados (outro processo, entrega atrasada): a janela de cada um
    # agora também conta este; sem isto, uma rajada entregue fora de ordem podia não disparar.
    # Os do mesmo instante ficam de fora: a janela deles é a deste, já contada acima.
    for later in ahead.of(spec.event_type, within=spec.window, same_instant=False):
        fire = _frequency_at(spec, later, store)
        if fire is not None:
            fires.append(fire)
    return fires


def _frequency_at(spec: RuleSpec, event: dict[str, Any], store: EventStore) -> Fire | None:
    """Dispara em ``event`` se a janela que termina nele tem ``count`` eventos ou mais."""
    moment = event["timestamp"]
    window = EventFilter(
        types=(spec.event_type,), user_id=event["userId"], start=moment - spec.window, end=moment + _MILLISECOND
    )
    seen = store.count_events(window)
    if seen < (spec.count or 1):
        return None
    return Fire(trigger=str(event["_id"]), at=moment, events=[event], message=frequency_message(spec, event, seen))


def _anomaly(spec: RuleSpec, event: dict[str, Any], stats: Stats) -> list[Fire]:
    score = anomaly_score(stats, event["value"], z_score=spec.z_score or 0.0, min_samples=spec.min_samples or 2)
    if score is None:
        return []
    message = anomaly_message(spec, event, stats, score)
    return [Fire(trigger=str(event["_id"]), at=event["timestamp"], events=[event], message=message)]


def _pair(spec: RuleSpec, first: dict[str, Any], second: dict[str, Any]) -> Fire:
    return Fire(
        trigger=f"{first['_id']}>{second['_id']}",
        at=second["timestamp"],
        events=[first, second],
        message=sequence_message(spec, first, second),
    )


def _sequence(spec: RuleSpec, event: dict[str, Any], store: EventStore, ahead: Ahead) -> list[Fire]:
    fires: list[Fire] = []
    if event["type"] == spec.second_type:
        first = _chosen_first(spec, event, store)
        if first is not None:
            fires.append(_pair(spec, first, event))
    if event["type"] == spec.first_type:
        # O par pode ter chegado antes deste evento (outro processo, entrega atrasada).
        for second in ahead.of(spec.second_type, within=spec.window, same_instant=True):
            chosen = _chosen_first(spec, second, store)
            if chosen is not None and chosen["_id"] == event["_id"]:
                fires.append(_pair(spec, event, second))
    return fires


def _chosen_first(spec: RuleSpec, second: dict[str, Any], store: EventStore) -> dict[str, Any] | None:
    """O ``firstType`` do par de ``second``: o mais recente válido (os dois lados escolhem igual).

    Lê aos poucos: sem razão mínima quase sempre basta o mais recente (2, se o próprio
    ``second`` também é do primeiro tipo); com ela, até ``SCAN`` candidatos.
    """
    moment = second["timestamp"]
    window = EventFilter(
        types=(spec.first_type,), user_id=second["userId"], start=moment - spec.window, end=moment + _MILLISECOND
    )
    after: KeysetPosition | None = None
    read, page = 0, 2
    while read < SCAN:
        candidates = store.list_events(window, sort_field="timestamp", descending=True, limit=page, after=after)
        for first in candidates:
            if first["_id"] != second["_id"] and ratio_ok(first["value"], second["value"], spec.min_ratio):
                return first
        if len(candidates) < page:
            return None
        read += page
        after = KeysetPosition(candidates[-1]["timestamp"], candidates[-1]["_id"])
        page = SCAN - read
    return None


def _raise(spec: RuleSpec, fire: Fire, user_id: str, store: EventStore) -> dict[str, Any] | None:
    """Cooldown atômico, depois a gravação com ``_id`` do gatilho; o alerta novo ou ``None``."""
    claim = secrets.token_hex(8)
    if not store.claim_alert_cooldown(
        cooldown_key(rule_id=spec.id, user_id=user_id), at=fire.at, cooldown=spec.cooldown, claim=claim
    ):
        return None
    doc = {
        "_id": alert_id(rule_id=spec.id, user_id=user_id, trigger=fire.trigger),
        "ruleId": spec.id,
        "ruleName": spec.name,
        "kind": spec.kind,
        "severity": spec.severity,
        "userId": user_id,
        "eventIds": [event["_id"] for event in fire.events],
        "triggeredAt": to_millisecond(store.now()),
        "state": "open",
        "ackBy": None,
        "ackAt": None,
        "message": fire.message,
    }
    if not store.insert_alert(doc):
        return None
    # INTEGRAÇÃO: enfileirar notificações (outbox) aqui
    # (o alerta acabou de ser gravado uma única vez; os destinos são ``spec.notify``)
    metrics.ALERTS_TRIGGERED.labels(spec.kind, spec.severity).inc()
    return alert_to_json(doc)


def _stats_for(rules: Iterable[RuleSpec], event: dict[str, Any], store: EventStore) -> Stats | None:
    """Soma o valor ao histórico do usuário no tipo (uma vez, se alguma regra de anomalia olha o tipo)."""
    if not any(spec.kind == "anomaly" and spec.event_type == event["type"] for spec in rules):
        return None
    n, mean, m2 = store.add_alert_sample(
        stats_key(event_type=event["type"], user_id=event["userId"]), event["value"], sample_id=str(event["_id"])
    )
    return Stats(n, mean, m2)


def _fires(spec: RuleSpec, event: dict[str, Any], store: EventStore, stats: Stats | None, ahead: Ahead) -> list[Fire]:
    if spec.kind == "threshold":
        return _threshold(spec, event)
    if spec.kind == "frequency":
        return _frequency(spec, event, store, ahead)
    if spec.kind == "anomaly":
        return _anomaly(spec, event, stats) if stats is not None else []
    if spec.kind == "sequence":
        return _sequence(spec, event, store, ahead)
    raise ValueError(f"tipo de regra desconhecido: {spec.kind!r}")


def alerts_evaluate(*, event: dict[str, Any], store: EventStore, rules: tuple[RuleSpec, ...]) -> list[dict[str, Any]]:
    """Avalia ``rules`` contra o evento recém-gravado; devolve os alertas NOVOS (JSON público). Nunca lança."""
    watching = tuple(spec for spec in rules if spec.watches(event["type"]))
    if not watching:
        return []
    stats: Stats | None = None
    try:
        stats = _stats_for(watching, event, store)
    except Exception:
        metrics.ALERT_RULE_ERRORS.labels("stats").inc()
        logger.exception("falha ao somar a estatística de anomalia do evento %s", event.get("_id"))
    alerts: list[dict[str, Any]] = []
    ahead = Ahead(event, store, watching)
    for spec in watching:
        try:
            for fire in _fires(spec, event, store, stats, ahead):
                alert = _raise(spec, fire, event["userId"], store)
                if alert is not None:
                    alerts.append(alert)
        except Exception:
            metrics.ALERT_RULE_ERRORS.labels(spec.kind).inc()
            logger.exception(
                "falha ao avaliar a regra de alerta %s no evento %s",
                spec.id,
                event.get("_id"),
                extra={"rule_id": spec.id, "event_id": str(event.get("_id"))},
            )
    return alerts
