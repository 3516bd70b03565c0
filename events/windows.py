"""Janelas de tempo pedidas pelos clientes: o ÚNICO lugar que interpreta ``range``/``from``/``to``.

Uma janela é o intervalo semiaberto ``[start, end)``: ``from`` inclusivo, ``to``
exclusivo, ao milissegundo (a precisão do BSON). API, insights, admin e painel
usam estas funções, e o painel recebe ``RANGE_PRESETS`` pelo ``json_script`` — a
mesma lista de períodos em todo lugar.

O período anterior de uma janela é a janela de mesma duração que termina onde ela
começa: ``[start − (end − start), start)``. Toda comparação (Δ% do painel, insights)
usa esta definição.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

RANGE_PATTERN = re.compile(r"^(?P<n>[1-9][0-9]{0,3})(?P<unit>[mhd])$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = "24h"
# Períodos oferecidos nas telas (painel, página do trader, admin), em ordem.
RANGE_PRESETS: tuple[tuple[str, str | Promise], ...] = (
    ("15m", _("Últimos 15 minutos")),
    ("1h", _("Última hora")),
    ("24h", _("Últimas 24 horas")),
    ("7d", _("Últimos 7 dias")),
    ("30d", _("Últimos 30 dias")),
)
_MILLISECOND = timedelta(milliseconds=1)


@dataclass(frozen=True)
class Window:
    """Intervalo ``[start, end)`` em UTC."""

    start: datetime
    end: datetime

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def previous(self) -> Window:
        """A janela de mesma duração que termina onde esta começa."""
        return Window(self.start - self.span, self.start)

    def to_json(self) -> dict[str, str]:
        return {"from": isoformat(self.start), "to": isoformat(self.end)}


class RangeError(ValueError):
    """Janela inválida; ``param`` nomeia o parâmetro culpado (``range``, ``from`` ou ``to``)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def isoformat(moment: datetime) -> str:
    """ISO-8601 em UTC com milissegundos e ``Z`` (a forma de todas as respostas)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_range(value: str) -> timedelta:
    """``15m``, ``1h``, ``24h``, ``7d``, ``30d``… (até 366 dias)."""
    match = RANGE_PATTERN.match(value)
    if not match:
        raise RangeError("range", str(_("Use <n>m, <n>h ou <n>d, ex.: 15m, 24h, 7d, 30d.")))
    span = int(match["n"]) * _UNITS[match["unit"]]
    if span > MAX_RANGE:
        raise RangeError("range", str(_("No máximo 366 dias.")))
    return span


def to_millisecond(moment: datetime) -> datetime:
    """Arredonda para cima até o milissegundo (a precisão do que está guardado).

    Com ``from`` inclusivo e ``to`` exclusivo, arredondar os dois limites para cima
    seleciona exatamente os mesmos eventos guardados (em milissegundos) que a janela
    pedida em microssegundos.
    """
    moment = moment.astimezone(UTC)
    floored = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    return floored if floored == moment else floored + _MILLISECOND


def resolve_window(
    *,
    range_name: str | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    default_range: str | None = DEFAULT_RANGE,
) -> Window | None:
    """Janela pedida: ``from``/``to`` explícitos ou ``range`` terminando agora.

    Sem nada pedido, ``default_range`` (``None`` devolve ``None``: "todo o histórico").
    Só ``from``: até agora. Só ``to``: ``default_range`` antes dele. Os limites vão ao
    milissegundo (``to_millisecond``).
    """
    if range_name and (start or end):
        raise RangeError("range", str(_("Use range OU from/to, não ambos.")))
    if start or end:
        window_end = to_millisecond(end or now)
        window_start = to_millisecond(start) if start else window_end - parse_range(default_range or DEFAULT_RANGE)
        if window_start >= window_end:
            raise RangeError("from", str(_("from deve ser anterior a to.")))
        return Window(window_start, window_end)
    name = range_name or default_range
    if name is None:
        return None
    window_end = to_millisecond(now)
    return Window(window_end - parse_range(name), window_end)


def check_span(window: Window) -> Window:
    """Resumos, séries e insights aceitam janelas de até 366 dias."""
    if window.span > MAX_RANGE:
        raise RangeError("from", str(_("A janela pode ter no máximo 366 dias.")))
    return window


def window_label(*, range_name: str | None, window: Window, explicit_end: bool) -> str:
    """Rótulo estável da janela pedida (chaves de cache e textos): o ``range`` ou os limites."""
    if range_name is not None:
        return f"range={range_name}"
    end = isoformat(window.end) if explicit_end else "agora"
    return f"from={isoformat(window.start)};to={end}"
