"""As peças puras das regras: Welford contra a conta exata, escore da anomalia, formato dos números."""

from __future__ import annotations

import math
import statistics
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.alerts.evaluate import alerts_evaluate
from events.alerts.rules import RuleSpec, Stats, anomaly_score, money, rule_problems


@given(st.lists(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False), min_size=2, max_size=60))
def test_welford_matches_the_exact_mean_and_variance(values: list[float]) -> None:
    stats = Stats()
    for value in values:
        stats = stats.add(value)

    scale = max(1.0, max(abs(value) for value in values))
    assert stats.n == len(values)
    assert math.isclose(stats.mean, statistics.mean(values), rel_tol=1e-9, abs_tol=1e-9 * scale)
    assert math.isclose(stats.std, statistics.stdev(values), rel_tol=1e-6, abs_tol=1e-6 * scale)


def test_welford_stays_accurate_for_large_similar_values() -> None:
    # Σx² − (Σx)²/n perderia todos os dígitos aqui.
    values = [1e9 + offset for offset in (4.0, 7.0, 13.0, 16.0)]
    stats = Stats()
    for value in values:
        stats = stats.add(value)

    assert stats.std == pytest.approx(statistics.stdev([4.0, 7.0, 13.0, 16.0]), rel=1e-9)


@pytest.mark.parametrize(
    ("history", "value", "expected"),
    [
        ([10.0, 10.0], 10.0, None),  # igual à média: nunca dispara
        ([10.0, 10.0], 11.0, math.inf),  # desvio zero e valor diferente
        ([10.0], 500.0, None),  # menos que min_samples
        ([8.0, 12.0], 10.0 + 3 * math.sqrt(8), 3.0),  # exatamente z desvios: dispara (>=)
        ([8.0, 12.0], 9.0, None),
        ([8.0, 12.0], -100.0, pytest.approx(110 / math.sqrt(8))),  # abaixo da média também
    ],
)
def test_anomaly_score(history: list[float], value: float, expected: Any) -> None:
    stats = Stats()
    for item in history:
        stats = stats.add(item)

    score = anomaly_score(stats, value, z_score=3.0, min_samples=2)

    if expected is None:
        assert score is None
    else:
        assert score == pytest.approx(expected)


@pytest.mark.parametrize(
    ("value", "text"),
    [(9500, "9.500,00"), (5000.5, "5.000,50"), (0, "0,00"), (-1234567.891, "-1.234.567,89"), (12.3, "12,30")],
)
def test_money_is_brazilian(value: float, text: str) -> None:
    assert money(value) == text


def test_rule_problems_name_api_fields() -> None:
    values = {"event_type": "login", "count": None, "window_seconds": 0, "z_score": None, "min_ratio": None}

    assert rule_problems("frequency", values.get) == {"count": "required"}
    assert set(rule_problems("sequence", {"min_ratio": -1}.get)) == {
        "firstType",
        "secondType",
        "windowSeconds",
        "minRatio",
    }
    assert rule_problems("anomaly", {"event_type": "x", "z_score": 2.0, "min_samples": 5}.get) == {}


def test_a_burst_delivered_backwards_still_fires_once(memory_store: Any, make_event: Any) -> None:
    spec = RuleSpec(id=3, name="rajada", kind="frequency", severity="info", cooldown_seconds=0, event_type="login",
                    count=3, window_seconds=60)  # fmt: skip
    fired = []
    for number, at in ((3, 40), (2, 20), (1, 0)):
        doc = memory_store.insert_event(make_event(number, type="login", at=at)).document
        fired += alerts_evaluate(event=doc, store=memory_store, rules=(spec,))

    assert [alert["eventIds"] for alert in fired] == [[f"{3:024x}"]]
    assert fired[0]["message"] == "3 eventos login de u1 em 60 s (mínimo 3) (regra «rajada»)"
