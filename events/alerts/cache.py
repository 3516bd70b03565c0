"""Regras habilitadas em cache por processo, com invalidação barata.

A avaliação roda a cada evento; ler as regras do banco relacional a cada um custaria
uma consulta por evento. Cada processo guarda a tupla de ``RuleSpec`` e só a relê quando:

* uma regra deste processo é gravada ou apagada (sinais ``post_save``/``post_delete``/
  ``m2m_changed`` do ``AlertRule``: o admin, a API e o shell passam por eles) — na hora;
* a "impressão digital" das regras no banco muda — contagem e maior ``updated_at`` —,
  conferida no máximo a cada ``ALERT_RULES_RECHECK_SECONDS`` (padrão 2 s). É assim que uma
  mudança feita noutro worker chega a este em até esse intervalo, sem depender do Redis.
  Gravar uma regra sempre avança ``updated_at`` e apagar muda a contagem (apagar uma e
  criar outra entre duas conferências também avança o maior ``updated_at``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Count, Max

from events.alerts.rules import RuleSpec
from trader_monitor import metrics

logger = logging.getLogger(__name__)


def spec_from_rule(rule: Any, notify: tuple[int, ...]) -> RuleSpec:
    return RuleSpec(
        id=rule.id,
        name=rule.name,
        kind=rule.kind,
        severity=rule.severity,
        cooldown_seconds=rule.cooldown_seconds,
        notify=notify,
        event_type=rule.event_type,
        user_id=rule.user_id,
        op=rule.op,
        threshold=rule.threshold,
        count=rule.count,
        window_seconds=rule.window_seconds,
        z_score=rule.z_score,
        min_samples=rule.min_samples,
        first_type=rule.first_type,
        second_type=rule.second_type,
        min_ratio=rule.min_ratio,
    )


def _fingerprint() -> tuple[Any, ...]:
    from events.alerts.models import AlertRule

    row = AlertRule.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    return (row["n"], row["last"])


def _load() -> tuple[RuleSpec, ...]:
    from events.alerts.models import AlertRule

    rules = AlertRule.objects.filter(enabled=True).prefetch_related("notify").order_by("id")
    return tuple(spec_from_rule(rule, tuple(endpoint.id for endpoint in rule.notify.all())) for rule in rules)


class RuleCache:
    """As regras habilitadas deste processo (seguro entre as threads do pool do armazenamento)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: tuple[RuleSpec, ...] = ()
        self._by_type: dict[str, tuple[RuleSpec, ...]] = {}
        self._fingerprint: tuple[Any, ...] | None = None
        self._checked_at = -float("inf")
        self._stale = True

    def clear(self) -> None:
        """Esquece as regras, como se o banco não tivesse nenhuma agora (cada teste começa assim).

        Uma transação desfeita não emite ``post_delete``: sem isto, as regras de um teste
        seguiriam valendo no seguinte até a próxima conferência.
        """
        with self._lock:
            self._rules, self._by_type, self._fingerprint = (), {}, None
            self._stale = False
            self._checked_at = time.monotonic()

    def invalidate(self) -> None:
        self._stale = True
        self._fingerprint = None

    def watching(self, event_type: str) -> tuple[RuleSpec, ...]:
        """As regras que um evento deste tipo pode disparar ou alimentar (índice montado na carga)."""
        self.rules()
        return self._by_type.get(event_type, ())

    def rules(self) -> tuple[RuleSpec, ...]:
        now = time.monotonic()
        if not self._stale and now - self._checked_at < settings.ALERT_RULES_RECHECK_SECONDS:
            return self._rules
        with self._lock:
            if not self._stale and now - self._checked_at < settings.ALERT_RULES_RECHECK_SECONDS:
                return self._rules
            self._stale = False
            try:
                self._refresh()
            except Exception:
                # Banco relacional fora do ar: segue com as regras que tinha e tenta de novo no
                # próximo intervalo — um erro registrado por intervalo, não um por evento.
                metrics.ALERT_RULE_ERRORS.labels("rules").inc()
                logger.exception("regras de alerta não puderam ser relidas; usando as %d em cache", len(self._rules))
            finally:
                # Só depois da leitura: até lá, as outras threads esperam a trava em vez de
                # avaliarem com as regras velhas (ou nenhuma, na primeira vez).
                self._checked_at = now
            return self._rules

    def _refresh(self) -> None:
        # As threads do pool guardam a conexão entre pedidos: descarta as quebradas ou velhas.
        close_old_connections()
        fingerprint = _fingerprint()
        if fingerprint == self._fingerprint:
            return
        rules = _load()
        types = {name for spec in rules for name in (spec.event_type, spec.first_type, spec.second_type)}
        self._by_type = {name: tuple(spec for spec in rules if spec.watches(name)) for name in types if name}
        self._rules = rules
        self._fingerprint = fingerprint


rule_cache = RuleCache()


def rules_enabled() -> tuple[RuleSpec, ...]:
    """As regras habilitadas, no máximo ``ALERT_RULES_RECHECK_SECONDS`` atrasadas em relação a outro worker."""
    return rule_cache.rules()


def rules_watching(event_type: str) -> tuple[RuleSpec, ...]:
    """As regras habilitadas que olham eventos de ``event_type`` (mesmo atraso de ``rules_enabled``)."""
    return rule_cache.watching(event_type)


def rules_invalidate(**_kwargs: Any) -> None:
    """Receptor dos sinais do ``AlertRule``: a próxima avaliação deste processo relê as regras."""
    rule_cache.invalidate()
