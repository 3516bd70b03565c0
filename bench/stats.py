"""Estatística pequena e pura usada pelos benchmarks (testada em tests/bench)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence


def percentile(values: Iterable[float], q: float) -> float:
    """Percentil pelo posto mais próximo (``q`` em [0, 100]); ``nan`` sem amostras.

    O posto mais próximo devolve sempre uma amostra observada (nada de interpolar
    entre duas latências), como o wrk e o HdrHistogram.
    """
    if not 0 <= q <= 100:
        raise ValueError("q deve estar entre 0 e 100")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Iterable[float]) -> float:
    samples = [v for v in values if not math.isnan(v)]
    return statistics.median(samples) if samples else math.nan


def ratio(numerator: float, denominator: float) -> float:
    """Razão que não explode: ``nan`` se faltar um dos lados."""
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return math.nan
    return numerator / denominator


def schedule(rate: float, seconds: float) -> list[float]:
    """Instantes (relativos ao início) de um gerador de carga em malha aberta a ``rate`` req/s."""
    if rate <= 0 or seconds <= 0:
        raise ValueError("rate e seconds devem ser positivos")
    return [index / rate for index in range(int(rate * seconds))]


def fmt(value: float, digits: int = 1) -> str:
    """Número para a tabela: ``—`` quando não medido."""
    if isinstance(value, float) and math.isnan(value):
        return "—"
    return f"{value:,.{digits}f}".replace(",", "\u202f")


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Tabela Markdown simples (sem alinhamento especial)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)
