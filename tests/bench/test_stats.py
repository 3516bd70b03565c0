"""Estatística dos benchmarks: percentil, razões, agenda da malha aberta e tabelas."""

from __future__ import annotations

import math

import pytest

from bench.stats import fmt, markdown_table, median, percentile, ratio, schedule


def test_percentile_uses_the_nearest_rank_and_returns_an_observed_sample() -> None:
    samples = [5.0, 1.0, 4.0, 2.0, 3.0]

    assert percentile(samples, 50) == 3.0
    assert percentile(samples, 99) == 5.0
    assert percentile(samples, 100) == 5.0
    assert percentile(samples, 0) == 1.0
    assert percentile(range(1, 101), 99) == 99


def test_percentile_of_nothing_is_not_a_number() -> None:
    assert math.isnan(percentile([], 50))


def test_percentile_rejects_out_of_range_quantiles() -> None:
    with pytest.raises(ValueError, match="entre 0 e 100"):
        percentile([1.0], 101)


def test_median_ignores_missing_samples() -> None:
    assert median([3.0, math.nan, 1.0, 2.0]) == 2.0
    assert math.isnan(median([math.nan]))


def test_ratio_is_not_a_number_when_a_side_is_missing_or_zero() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(1.0, 0.0))
    assert math.isnan(ratio(math.nan, 2.0))


def test_open_loop_schedule_is_evenly_spaced_at_the_requested_rate() -> None:
    offsets = schedule(4, 2)

    assert offsets == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 1.75]


def test_open_loop_schedule_rejects_non_positive_input() -> None:
    with pytest.raises(ValueError, match="positivos"):
        schedule(0, 1)


def test_numbers_render_with_a_dash_when_not_measured() -> None:
    assert fmt(math.nan) == "—"
    assert fmt(1234.5, 1) == "1\u202f234.5"


def test_markdown_table_escapes_pipes_in_cells() -> None:
    table = markdown_table(["a", "b"], [["x|y", "2"]])

    assert table.splitlines() == ["| a | b |", "|---|---|", "| x\\|y | 2 |"]
