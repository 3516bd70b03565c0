"""``trader_monitor.durations``: como ``JWT_SESSION_MAX_AGE`` é lido do ambiente."""

from __future__ import annotations

from datetime import timedelta

import pytest

from trader_monitor.durations import duration_parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("604800", timedelta(days=7)),
        ("7d", timedelta(days=7)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        (" 7D ", timedelta(days=7)),
        ("P7D", timedelta(days=7)),
        ("p1dt12h", timedelta(days=1, hours=12)),
        ("7 00:00:00", timedelta(days=7)),
    ],
)
def test_seconds_units_and_iso8601_are_understood(text: str, expected: timedelta) -> None:
    assert duration_parse(text) == expected


@pytest.mark.parametrize("text", ["", "sete dias", "7x", "-5", "0", "0d", "P0D"])
def test_unreadable_or_non_positive_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        duration_parse(text)
