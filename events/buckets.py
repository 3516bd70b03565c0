"""Matemática de intervalos de tempo das agregações (funções puras, sem I/O).

As agregações são mantidas em dois níveis por família:

* tipos: por minuto (retenção curta) e por hora (para sempre);
* usuários: por hora (retenção curta) e por dia (para sempre).

Uma janela pedida é atendida por um único nível: o fino quando a janela inteira
ainda está dentro da retenção do nível fino, senão o grosso. A janela efetiva é a
pedida arredondada para fora até as bordas dos baldes — e é devolvida ao cliente,
para que os números sejam exatos e verificáveis.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

# Retenção dos níveis finos: cobre uma janela de 24h com folga. O TTL no Mongo
# apaga um pouco depois (FINE_TTL), para que uma consulta nunca veja um balde
# parcialmente expirado.
FINE_RETENTION = timedelta(hours=26)
FINE_TTL = timedelta(hours=28)


class Family(StrEnum):
    TYPE = "type"
    USER = "user"


@dataclass(frozen=True)
class Level:
    """Um nível de agregação: coleção, largura do balde e se é o nível fino."""

    collection: str
    step: timedelta
    fine: bool


LEVELS: dict[Family, tuple[Level, Level]] = {
    Family.TYPE: (
        Level("rollup_type_minute", MINUTE, fine=True),
        Level("rollup_type_hour", HOUR, fine=False),
    ),
    Family.USER: (
        Level("rollup_user_hour", HOUR, fine=True),
        Level("rollup_user_day", DAY, fine=False),
    ),
}


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def floor_to(moment: datetime, step: timedelta) -> datetime:
    """Início do balde de largura ``step`` (alinhado à época Unix, em UTC) que contém ``moment``."""
    offset = (moment - _EPOCH) // step
    return _EPOCH + offset * step


def ceil_to(moment: datetime, step: timedelta) -> datetime:
    floored = floor_to(moment, step)
    return floored if floored == moment else floored + step


def fine_available_from(now: datetime, family: Family) -> datetime:
    """Primeiro instante para o qual o nível fino da família está garantidamente completo."""
    fine, _coarse = LEVELS[family]
    return ceil_to(now - FINE_RETENTION, fine.step)


def records_fine(timestamp: datetime, now: datetime) -> bool:
    """Eventos mais antigos que a retenção fina só alimentam o nível grosso."""
    return timestamp >= now - FINE_RETENTION


def plan(family: Family, start: datetime, end: datetime, now: datetime) -> tuple[Level, Window]:
    """Escolhe o nível e a janela efetiva (arredondada para fora) para ``[start, end)``."""
    fine, coarse = LEVELS[family]
    level = fine if start >= fine_available_from(now, family) else coarse
    return level, Window(floor_to(start, level.step), ceil_to(end, level.step))


def buckets_for(timestamp: datetime, now: datetime) -> list[tuple[Family, Level, datetime]]:
    """Baldes (família, nível, início) que um evento com este ``timestamp`` incrementa."""
    keep_fine = records_fine(timestamp, now)
    out: list[tuple[Family, Level, datetime]] = []
    for family, levels in LEVELS.items():
        for level in levels:
            if level.fine and not keep_fine:
                continue
            out.append((family, level, floor_to(timestamp, level.step)))
    return out
