"""Regras de alerta como especificação pura: o que cada tipo exige, a estatística e as mensagens.

Nada aqui lê o banco: ``RuleSpec`` é a regra congelada (o cache de regras a monta do
modelo), e as funções decidem a partir de números — os testes por propriedade usam as
mesmas definições num oráculo em Python.

Semântica (o tempo é sempre o ``timestamp`` dos eventos, não o relógio do servidor):

* ``threshold`` — evento de ``eventType`` (e de ``userId``, se a regra o fixa) com
  ``value <op> threshold``. Gatilho: o evento.
* ``frequency`` — ao gravar um evento ``e`` de ``eventType``, há pelo menos ``count``
  eventos desse tipo do mesmo usuário em ``[e.timestamp - windowSeconds, e.timestamp]``
  (``e`` incluso). Gatilho: ``e``. Um evento que chega fora de ordem (timestamp antes de
  eventos já gravados) também confere as janelas dos posteriores, que agora o contam:
  uma rajada entregue em qualquer ordem (ou a dois processos) dispara pelo menos uma vez.
* ``anomaly`` — o evento é comparado com o histórico do usuário naquele tipo **antes**
  de entrar nele (um valor fora da curva não infla a própria régua); dispara se há pelo
  menos ``minSamples`` amostras e ``|x - média| >= zScore * desvio`` com ``x != média``
  (desvio amostral; com desvio zero, qualquer valor diferente da média dispara). Depois,
  o valor entra na média e variância (Welford). Gatilho: o evento.
* ``sequence`` — um ``secondType`` com um ``firstType`` do mesmo usuário em
  ``[second - windowSeconds, second]`` (``first.timestamp <= second.timestamp``, eventos
  distintos) e, com ``minRatio``, ``second.value / first.value >= minRatio`` (só para
  ``first.value > 0``). Vale o ``firstType`` mais recente que cumpre tudo. Os dois lados
  procuram o par (o ``firstType`` também olha adiante), então um par entregue a dois
  processos ao mesmo tempo não se perde. Gatilho: o par.
* ``cooldownSeconds`` — depois de um disparo de (regra, usuário) no instante ``t``
  (timestamp do gatilho), nada dispara para eles com gatilho antes de ``t + cooldown``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

EVENT_NAMES = {
    "withdraw": "Saque",
    "deposit": "Depósito",
    "purchase": "Compra",
    "sell": "Venda",
    "login": "Login",
    "logout": "Logout",
    "login_failed": "Login falho",
}
OP_WORDS = {
    ">": "acima do limite de",
    ">=": "no limite ou acima de",
    "<": "abaixo do limite de",
    "<=": "no limite ou abaixo de",
}


@dataclass(frozen=True)
class RuleSpec:
    """Uma regra habilitada, congelada para a avaliação (os campos que o tipo não usa ficam vazios)."""

    id: int
    name: str
    kind: str
    severity: str
    cooldown_seconds: int
    notify: tuple[int, ...] = ()
    event_type: str = ""
    user_id: str = ""
    op: str = ""
    threshold: float | None = None
    count: int | None = None
    window_seconds: int | None = None
    z_score: float | None = None
    min_samples: int | None = None
    first_type: str = ""
    second_type: str = ""
    min_ratio: float | None = None

    @cached_property
    def window(self) -> timedelta:
        return timedelta(seconds=self.window_seconds or 0)

    @cached_property
    def cooldown(self) -> timedelta:
        return timedelta(seconds=self.cooldown_seconds)

    def watches(self, event_type: str) -> bool:
        """Se um evento deste tipo pode disparar (ou alimentar) a regra."""
        if self.kind == "sequence":
            return event_type in (self.first_type, self.second_type)
        return event_type == self.event_type


# Campos exigidos por tipo: nome na API → atributo do modelo (a API e o admin validam igual).
REQUIRED_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "threshold": (("eventType", "event_type"), ("op", "op"), ("threshold", "threshold")),
    "frequency": (("eventType", "event_type"), ("count", "count"), ("windowSeconds", "window_seconds")),
    "anomaly": (("eventType", "event_type"), ("zScore", "z_score"), ("minSamples", "min_samples")),
    "sequence": (("firstType", "first_type"), ("secondType", "second_type"), ("windowSeconds", "window_seconds")),
}


def rule_problems(kind: str, value: Callable[[str], Any]) -> dict[str, str]:
    """Problemas da regra por campo da API (``value(atributo)`` lê o valor efetivo); vazio se válida.

    Os valores são códigos (``required``, ``positive``): quem mostra traduz (API e admin).
    """
    problems = {name: "required" for name, attribute in REQUIRED_FIELDS.get(kind, ()) if value(attribute) in (None, "")}
    z_score = value("z_score")
    if kind == "anomaly" and z_score is not None and z_score <= 0:
        problems["zScore"] = "positive"
    min_ratio = value("min_ratio")
    if kind == "sequence" and min_ratio is not None and min_ratio <= 0:
        problems["minRatio"] = "positive"
    return problems


def compare(value: float, op: str, threshold: float) -> bool:
    if op == ">":
        return value > threshold
    if op == ">=":
        return value >= threshold
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    raise ValueError(f"operador desconhecido: {op!r}")


# --- média e variância em fluxo (Welford) ---------------------------------------------


@dataclass(frozen=True)
class Stats:
    """Média e soma dos quadrados dos desvios (``m2``) de ``n`` amostras."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0

    def add(self, value: float) -> Stats:
        """Welford: estável mesmo com valores grandes e parecidos (sem ``Σx² - (Σx)²/n``)."""
        n = self.n + 1
        delta = value - self.mean
        mean = self.mean + delta / n
        return Stats(n, mean, self.m2 + delta * (value - mean))

    @property
    def std(self) -> float:
        """Desvio-padrão amostral (``n - 1``); zero com menos de duas amostras."""
        return math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0


def anomaly_score(stats: Stats, value: float, *, z_score: float, min_samples: int) -> float | None:
    """Quantos desvios ``value`` está da média, se isso dispara a regra; ``None`` se não dispara."""
    if stats.n < min_samples:
        return None
    deviation = abs(value - stats.mean)
    if deviation == 0:
        return None
    std = stats.std
    if std == 0:
        return math.inf
    score = deviation / std
    return score if score >= z_score else None


def ratio_ok(first_value: float, second_value: float, min_ratio: float | None) -> bool:
    if min_ratio is None:
        return True
    if first_value <= 0:
        return False
    return second_value / first_value >= min_ratio


# --- mensagens (em português: ficam gravadas no alerta, qualquer que seja o idioma de quem lê) --


def money(value: float) -> str:
    """``9500`` → ``9.500,00`` (formato brasileiro)."""
    text = f"{value:,.2f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def number(value: float, digits: int = 1) -> str:
    if math.isinf(value):
        return "∞"
    return f"{value:.{digits}f}".replace(".", ",")


def event_name(event_type: str) -> str:
    return EVENT_NAMES.get(event_type, f"Evento {event_type}")


def _rule(spec: RuleSpec) -> str:
    return f"(regra «{spec.name}»)"


def threshold_message(spec: RuleSpec, event: dict[str, Any]) -> str:
    return (
        f"{event_name(event['type'])} de {money(event['value'])} de {event['userId']} "
        f"{OP_WORDS[spec.op]} {money(spec.threshold or 0.0)} {_rule(spec)}"
    )


def frequency_message(spec: RuleSpec, event: dict[str, Any], seen: int) -> str:
    return (
        f"{seen} eventos {event['type']} de {event['userId']} em {spec.window_seconds} s "
        f"(mínimo {spec.count}) {_rule(spec)}"
    )


def anomaly_message(spec: RuleSpec, event: dict[str, Any], stats: Stats, score: float) -> str:
    return (
        f"{event_name(event['type'])} de {money(event['value'])} de {event['userId']} a "
        f"{number(score)} desvios-padrão da média do usuário (média {money(stats.mean)}, "
        f"desvio {money(stats.std)}, {stats.n} amostras; limite {number(spec.z_score or 0.0)}) {_rule(spec)}"
    )


def sequence_message(spec: RuleSpec, first: dict[str, Any], second: dict[str, Any]) -> str:
    seconds = int((second["timestamp"] - first["timestamp"]).total_seconds())
    ratio = ""
    if first["value"] > 0:
        ratio = f" ({number(100 * second['value'] / first['value'], 0)}% do primeiro)"
    return (
        f"{event_name(first['type'])} de {money(first['value'])} seguido de "
        f"{event_name(second['type']).lower()} de {money(second['value'])}{ratio} em {seconds} s "
        f"por {second['userId']} {_rule(spec)}"
    )
