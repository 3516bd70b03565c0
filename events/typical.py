"""Valores típicos de um trader por tipo de evento (função pura, sem I/O).

"Típico" é a mediana e a faixa interquartil (p25–p75) dos valores: resistem a um
evento fora da curva, ao contrário da média (um depósito de 1 milhão num mar de
depósitos de 500 não muda a mediana). Os quartis usam o método inclusivo, que nunca
sai do intervalo dos valores vistos.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class TypicalValue:
    """Resumo robusto dos valores de um tipo: ``count`` eventos, mediana e p25–p75."""

    type: str
    count: int
    median: float
    low: float
    high: float


def typical_values(events: Iterable[tuple[str, float]]) -> list[TypicalValue]:
    """Por tipo, do mais frequente ao menos (empate: nome do tipo)."""
    by_type: dict[str, list[float]] = {}
    for event_type, value in events:
        by_type.setdefault(event_type, []).append(value)
    rows = []
    for event_type, values in by_type.items():
        median = statistics.median(values)
        if len(values) == 1:
            low = high = median
        else:
            low, _middle, high = statistics.quantiles(values, n=4, method="inclusive")
            # A interpolação em ponto flutuante pode passar um ulp da mediana ou dos extremos.
            low, high = max(min(low, median), min(values)), min(max(high, median), max(values))
        rows.append(TypicalValue(event_type, len(values), median, low, high))
    return sorted(rows, key=lambda row: (-row.count, row.type))
