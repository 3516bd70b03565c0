"""``events.typical``: mediana e faixa p25–p75 por tipo, robustas a um valor fora da curva."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from events.typical import TypicalValue, typical_values


def test_one_outlier_does_not_move_the_median():
    deposits = [("deposit", value) for value in (500.0, 500.0, 510.0, 490.0, 1_000_000.0)]

    [row] = typical_values(deposits)

    assert row.median == 500.0
    assert (row.low, row.high) == (500.0, 510.0)


def test_a_single_event_is_its_own_typical_range():
    assert typical_values([("login", 0.0)]) == [TypicalValue("login", 1, 0.0, 0.0, 0.0)]


def test_types_come_most_frequent_first_then_by_name():
    rows = typical_values([("b", 1.0), ("a", 1.0), ("c", 1.0), ("c", 2.0)])

    assert [row.type for row in rows] == ["c", "a", "b"]


def test_no_events_no_rows():
    assert typical_values([]) == []


@given(st.lists(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), min_size=1, max_size=50))
def test_the_typical_range_stays_within_the_values_seen_and_holds_the_median(values):
    [row] = typical_values(("t", value) for value in values)

    assert min(values) <= row.low <= row.median <= row.high <= max(values)
    assert row.count == len(values)
