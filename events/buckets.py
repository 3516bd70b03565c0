"""Matemática dos baldes das agregações (funções puras, sem I/O).

As agregações ("rollups") guardam, por balde de tempo, contagem e soma de ``value``:

* família ``TYPE``: por tipo de evento;
* família ``USER``: por (tipo, usuário) — serve os rankings de usuários e qualquer
  filtro por tipo e/ou usuário.

Cada família tem três níveis: minuto (retenção curta, ``MINUTE_RETENTION``), hora e
dia (para sempre). Uma janela pedida ``[start, end)`` é decomposta em segmentos
(``decompose``): os baldes inteiros do nível mais grosso que cabem no meio, baldes
cada vez mais finos nas pontas e, nas sobras menores que o balde mais fino
disponível, os eventos brutos (pelo índice de ``timestamp``). Somando os segmentos,
cada número cobre exatamente a janela pedida, ao milissegundo — os mesmos eventos
que a listagem devolve — e o custo depende da janela (no máximo uns poucos baldes
de cada nível e menos de um balde fino de eventos brutos em cada ponta), não do
tamanho do histórico.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from events.windows import Window

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# Baldes de minuto cobrem as últimas 48 h (janelas de 24 h com folga). O TTL do
# MongoDB apaga um pouco depois (MINUTE_TTL), para que uma consulta nunca veja um
# balde já parcialmente expirado.
MINUTE_RETENTION = timedelta(hours=48)
MINUTE_TTL = timedelta(hours=50)


class Family(StrEnum):
    TYPE = "type"
    USER = "user"


@dataclass(frozen=True)
class Level:
    """Um nível de agregação: nome, largura do balde e retenção (``None``: para sempre)."""

    name: str
    step: timedelta
    retention: timedelta | None = None

    def collection(self, family: Family) -> str:
        return f"rollup_{family.value}_{self.name}"


LEVEL_MINUTE = Level("minute", MINUTE, MINUTE_RETENTION)
LEVEL_HOUR = Level("hour", HOUR)
LEVEL_DAY = Level("day", DAY)
# Do mais grosso para o mais fino.
LEVELS: tuple[Level, ...] = (LEVEL_DAY, LEVEL_HOUR, LEVEL_MINUTE)


@dataclass(frozen=True)
class Segment:
    """Parte de uma janela: baldes inteiros de ``level`` ou, com ``level`` ``None``, eventos brutos."""

    start: datetime
    end: datetime
    level: Level | None = None

    @property
    def raw(self) -> bool:
        return self.level is None


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """Início do balde de largura ``step`` (alinhado à época Unix, em UTC) que contém ``moment``."""
    offset = (moment - _EPOCH) // step
    return _EPOCH + offset * step


def ceil_to(moment: datetime, step: timedelta) -> datetime:
    floored = floor_to(moment, step)
    return floored if floored == moment else floored + step


def available_from(level: Level, now: datetime) -> datetime | None:
    """Primeiro instante a partir do qual os baldes de ``level`` estão completos (``None``: sempre)."""
    if level.retention is None:
        return None
    return ceil_to(now - level.retention, level.step)


def records(level: Level, timestamp: datetime, now: datetime) -> bool:
    """Se um evento com este ``timestamp`` entra no nível (os de retenção curta ignoram o passado)."""
    return level.retention is None or timestamp >= now - level.retention


def decompose(window: Window, *, now: datetime, max_step: timedelta | None = None) -> list[Segment]:
    """Segmentos que cobrem ``window`` exatamente, em ordem de tempo e sem sobreposição.

    ``max_step`` limita o nível mais grosso usado (a série temporal pede baldes que
    caibam inteiros em cada ponto).
    """
    levels = [level for level in LEVELS if max_step is None or level.step <= max_step]
    return _cover(window.start, window.end, levels, now)


def _cover(start: datetime, end: datetime, levels: list[Level], now: datetime) -> list[Segment]:
    if start >= end:
        return []
    for index, level in enumerate(levels):
        first = ceil_to(start, level.step)
        limit = available_from(level, now)
        if limit is not None:
            first = max(first, limit)
        last = floor_to(end, level.step)
        if first < last:
            finer = levels[index + 1 :]
            return [
                *_cover(start, first, finer, now),
                Segment(first, last, level),
                *_cover(last, end, finer, now),
            ]
    return [Segment(start, end)]


def buckets_for(timestamp: datetime, now: datetime) -> list[tuple[Level, datetime]]:
    """Baldes (nível, início) que um evento com este ``timestamp`` incrementa, em cada família."""
    return [(level, floor_to(timestamp, level.step)) for level in LEVELS if records(level, timestamp, now)]
