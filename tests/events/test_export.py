"""``events.export``: células de CSV seguras, RFC 4180 e o fluxo em lotes (sem HTTP)."""

from __future__ import annotations

import csv
import io
from collections.abc import Generator, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.export import EXPORT_FORMATS, FORMULA_PREFIXES, ChunkSource, encode_csv, neutralize

CSV = EXPORT_FORMATS["csv"]


def event(**overrides: Any) -> dict[str, Any]:
    base = {
        "id": "0" * 24,
        "userId": "u-1",
        "type": "purchase",
        "value": 1.5,
        "timestamp": "2026-11-29T12:00:00.000Z",
        "receivedAt": "2026-11-29T12:00:00.001Z",
        "metadata": None,
    }
    return {**base, **overrides}


def parse(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(), newline="")))


@pytest.mark.parametrize("prefix", FORMULA_PREFIXES)
def test_text_starting_with_a_formula_character_gets_an_apostrophe(prefix):
    assert neutralize(f"{prefix}1+1") == f"'{prefix}1+1"


@pytest.mark.parametrize("text", ["u-1", "purchase", "'já citado", "", "1=1", " =x"])
def test_other_text_is_left_alone(text):
    assert neutralize(text) == text


@given(user_id=st.text(), event_type=st.text())
def test_no_exported_text_cell_reads_back_as_a_formula(user_id, event_type):
    [_header, row] = parse(encode_csv([event(userId=user_id, type=event_type)], header=True))

    for cell, original in ((row[1], user_id), (row[2], event_type)):
        assert not cell.startswith(FORMULA_PREFIXES)
        assert cell in {original, "'" + original}


def test_a_newline_inside_a_cell_is_quoted_and_survives_the_round_trip():
    data = encode_csv([event(userId="linha 1\nlinha 2")], header=False)

    assert data.startswith(b'000000000000000000000000,"linha 1\nlinha 2",')
    assert parse(data)[0][1] == "linha 1\nlinha 2"


def test_missing_metadata_is_an_empty_cell_and_present_metadata_is_compact_json():
    rows = parse(encode_csv([event(), event(metadata={"a": [1, "ç"]})], header=False))

    assert rows[0][6] == ""
    assert rows[1][6] == '{"a":[1,"ç"]}'


class Recorder:
    """Iterador de eventos que conta o que foi lido e se foi fechado."""

    def __init__(self, total: int) -> None:
        self.read = 0
        self.closed = False
        self._events = self._generate(total)

    def _generate(self, total: int) -> Generator[dict[str, Any], None, None]:
        try:
            for index in range(total):
                self.read += 1
                yield event(userId=f"u{index}")
        finally:
            self.closed = True

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self

    def __next__(self) -> dict[str, Any]:
        return next(self._events)

    def close(self) -> None:
        self._events.close()


def test_chunks_are_read_one_batch_at_a_time():
    events = Recorder(25)
    source = ChunkSource(events, CSV, batch_size=10)

    first = source.next_chunk()

    assert events.read == 10
    assert first is not None
    assert len(parse(first)) == 11  # cabeçalho + 10
    assert [len(parse(chunk)) for chunk in iter(source.next_chunk, None)] == [10, 5]
    assert events.closed


def test_closing_midway_releases_the_store_iterator():
    events = Recorder(100)
    source = ChunkSource(events, CSV, batch_size=10)
    source.start()

    source.close()

    assert events.closed
    assert events.read == 10


def test_a_csv_export_without_events_still_has_its_header():
    source = ChunkSource(iter([]), CSV, batch_size=10)

    assert source.next_chunk() == b"id,userId,type,value,timestamp,receivedAt,metadata\r\n"
    assert source.next_chunk() is None
