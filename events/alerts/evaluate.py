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
from datetime import timedelta
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
from events.domain import EventFilter
from events.store import EventStore
from events.windows import to_millisecond
from trader_monitor import metrics

logger = logging.getLogger(__name__)

_MILLISECOND = timedelta(milliseconds=1)
# Eventos vizinhos lidos por avaliação (o par de uma sequência, os posteriores de uma frequência).
SCAN = 50


class Fire:
    """Um disparo candidato: ainda passa pelo intervalo sem repetição e pela chave do alerta."""

    def __init__(self, *, trigger: str, at: Any, events: list[dict[str, Any]], message: str) -> None:
        self.trigger = trigger
        self.at = at
        self.events = events
        self.message = message


def _threshold(spec: RuleSpec, event: dict[str, Any], store: EventStore) -> list[Fire]:
    if spec.user_id and event["userId"] != spec.user_id:
        return []
    if spec.threshold is None or not compare(event["value"], spec.op, spec.threshold):
        return []
    message = threshold_message(spec, event)
    return [Fire(trigger=str(event["_id"]), at=event["timestamp"], events=[event], message=message)]


def _frequency(spec: RuleSpec, event: dict[str, Any], store: EventStore) -> list[Fire]:
    fires = []
    fire = _frequency_at(spec, event, store)
    if fire is not None:
        fires.append(fire)
    # Eventos posteriores já gravados (outro processo, entrega atrasada): a janela de cada um
    # agora também conta este; sem isto, uma rajada entregue fora de ordem podia não disparar.
    moment = event["timestamp"]
    ahead = EventFilter(
        types=(spec.event_type,), user_id=event["userId"], start=moment, end=moment + spec.window + _MILLISECOND
    )
    for later in store.list_events(ahead, sort_field="timestamp", descending=False, limit=SCAN):
        if later["_id"] != event["_id"]:
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


def _sequence(spec: RuleSpec, event: dict[str, Any], store: EventStore) -> list[Fire]:
    moment, user_id = event["timestamp"], event["userId"]
    fires: list[Fire] = []
    if event["type"] == spec.second_type:
        window = EventFilter(
            types=(spec.first_type,), user_id=user_id, start=moment - spec.window, end=moment + _MILLISECOND
        )
        candidates = store.list_events(window, sort_field="timestamp", descending=True, limit=SCAN)
        for first in candidates:
            if first["_id"] != event["_id"] and ratio_ok(first["value"], event["value"], spec.min_ratio):
                fires.append(_pair(spec, first, event))
                break
    if event["type"] == spec.first_type:
        # O par pode ter chegado antes deste evento (outro processo, entrega atrasada).
        window = EventFilter(
            types=(spec.second_type,), user_id=user_id, start=moment, end=moment + spec.window + _MILLISECOND
        )
        for second in store.list_events(window, sort_field="timestamp", descending=False, limit=SCAN):
            if second["_id"] != event["_id"] and _first_for(spec, second, store) == event["_id"]:
                fires.append(_pair(spec, event, second))
    return fires


def _first_for(spec: RuleSpec, second: dict[str, Any], store: EventStore) -> Any:
    """O ``firstType`` que o ``second`` escolheria (o mais recente válido), para os dois lados concordarem."""
    moment = second["timestamp"]
    window = EventFilter(
        types=(spec.first_type,), user_id=second["userId"], start=moment - spec.window, end=moment + _MILLISECOND
    )
    for first in store.list_events(window, sort_field="timestamp", descending=True, limit=SCAN):
        if first["_id"] != second["_id"] and ratio_ok(first["value"], second["value"], spec.min_ratio):
            return first["_id"]
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


def _fires(spec: RuleSpec, event: dict[str, Any], store: EventStore, stats: Stats | None) -> list[Fire]:
    if spec.kind == "threshold":
        return _threshold(spec, event, store)
    if spec.kind == "frequency":
        return _frequency(spec, event, store)
    if spec.kind == "anomaly":
        return _anomaly(spec, event, stats) if stats is not None else []
    if spec.kind == "sequence":
        return _sequence(spec, event, store)
    raise ValueError(f"tipo de regra desconhecido: {spec.kind!r}")


def alerts_evaluate(*, event: dict[str, Any], store: EventStore, rules: tuple[RuleSpec, ...]) -> list[dict[str, Any]]:
    """Avalia ``rules`` contra o evento recém-gravado; devolve os alertas NOVOS (JSON público). Nunca lança."""
    watching = [spec for spec in rules if spec.watches(event["type"])]
    if not watching:
        return []
    stats: Stats | None = None
    try:
        stats = _stats_for(watching, event, store)
    except Exception:
        metrics.ALERT_RULE_ERRORS.labels("stats").inc()
        logger.exception("falha ao somar a estatística de anomalia do evento %s", event.get("_id"))
    alerts: list[dict[str, Any]] = []
    for spec in watching:
        try:
            for fire in _fires(spec, event, store, stats):
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
