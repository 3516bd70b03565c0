"""Motor offline: narrativa determinística em português a partir do ``digest``.

Usado quando não há chave da OpenAI e como alternativa em timeout, 429, 5xx,
orçamento esgotado ou texto rejeitado. Só escreve números presentes no
``digest`` (arredondados), então passa na mesma verificação de números.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.numberformat import format as number_format

ENGINE_VERSION = "offline-v1"
MAX_MOVERS = 3
CONCENTRATION_PCT = 50.0
SPIKE_UP_PCT = 100.0
SPIKE_DOWN_PCT = -50.0


@dataclass(frozen=True)
class Narrative:
    summary: str
    highlights: tuple[str, ...]


def fmt(value: float | int, decimals: int = 2) -> str:
    """Número no padrão pt-BR (``1.234,56``), arredondado meio-para-cima."""
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)
    text = str(number_format(rounded, ",", decimals, 3, ".", force_grouping=True))
    return "−" + text[1:] if text.startswith("-") else text


def fmt_int(value: int) -> str:
    return fmt(value, 0)


def fmt_pct(value: float) -> str:
    """Variação com sinal explícito: ``+12,5%`` / ``−3,0%`` / ``estável``."""
    text = fmt(abs(value), 1)
    if text == "0,0":
        return "estável"
    return ("+" if value > 0 else "−") + text + "%"


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{fmt_int(count)} {singular if count == 1 else plural}"


def period_phrase(period: dict[str, Any]) -> str:
    """Abertura da frase: "Nas últimas 24 horas", "Nos últimos 7 dias"… (número do ``digest``)."""
    unit = (period.get("range") or "")[-1:]
    if unit == "d" or (not unit and "days" in period):
        days = period["days"]
        return "No último dia" if days == 1 else f"Nos últimos {fmt_int(days)} dias"
    if unit == "h" or (not unit and "hours" in period):
        hours = period["hours"]
        return "Na última hora" if hours == 1 else f"Nas últimas {fmt_int(hours)} horas"
    if unit == "m" or (not unit and "minutes" in period):
        minutes = period["minutes"]
        return "No último minuto" if minutes == 1 else f"Nos últimos {fmt_int(minutes)} minutos"
    return "No período pedido"


def _direction(pct: float | None, noun: str) -> str | None:
    if pct is None:
        return None
    if fmt(abs(pct), 1) == "0,0":
        return f"estabilidade {noun}"
    return f"{'alta' if pct > 0 else 'queda'} de {fmt(abs(pct), 1)}% {noun}"


def _volume(digest: dict[str, Any]) -> str:
    totals = digest["totals"]
    when = period_phrase(digest["period"])
    count, previous_count = totals["count"]["current"], totals["count"]["previous"]
    if count == 0:
        if previous_count:
            return (
                f"{when} não houve eventos, contra {_plural(previous_count, 'evento', 'eventos')} no período anterior."
            )
        return f"{when} não houve eventos, nem no período anterior de mesma duração."
    head = f"{when} foram {_plural(count, 'evento', 'eventos')}, somando {fmt(totals['sum']['current'])} em valor"
    if not previous_count:
        return head + "; não houve eventos no período anterior para comparar."
    changes = [
        _direction(totals["count"]["changePct"], "no número de eventos"),
        _direction(totals["sum"]["changePct"], "no valor"),
    ]
    described = " e ".join(change for change in changes if change)
    previous = f"{_plural(previous_count, 'evento', 'eventos')}; {fmt(totals['sum']['previous'])}"
    return f"{head}, {described} em relação ao período anterior ({previous})."


def _movers(digest: dict[str, Any]) -> str | None:
    rows = [row for row in digest["byType"] if row["status"] == "continuing" and (row["countDiff"] or row["sumDiff"])]
    rows.sort(key=lambda row: (-abs(row["sumDiff"]), -abs(row["countDiff"]), row["type"]))
    parts = []
    for row in rows[:MAX_MOVERS]:
        count = f"{_plural(row['count'], 'evento', 'eventos')}"
        if row["countChangePct"] is not None:
            count += f" ({fmt_pct(row['countChangePct'])})"
        value = f"valor de {fmt(row['sum'])}"
        if row["sumChangePct"] is not None:
            value += f" ({fmt_pct(row['sumChangePct'])})"
        parts.append(f"{row['type']} com {count} e {value}")
    if not parts:
        return None
    return "Maiores variações por tipo: " + "; ".join(parts) + "."


def _appeared_and_gone(digest: dict[str, Any]) -> list[str]:
    out = []
    for row in digest["byType"]:
        if row["status"] == "new":
            out.append(
                f"Tipo novo no período: {row['type']}, com {_plural(row['count'], 'evento', 'eventos')} "
                "(nenhum no período anterior)."
            )
        elif row["status"] == "gone":
            out.append(
                f"O tipo {row['type']} não teve eventos agora "
                f"({_plural(row['previousCount'], 'evento', 'eventos')} no período anterior)."
            )
    return out


def _leaders(digest: dict[str, Any]) -> str | None:
    by_value = digest["topUsersByValue"]
    by_count = digest["topUsersByCount"]
    if not by_value:
        return None
    leader = by_value[0]
    text = f"O usuário {leader['userId']} lidera em valor, com {fmt(leader['sum'])}"
    if leader["sumSharePct"] is not None:
        text += f" ({fmt(leader['sumSharePct'], 1)}% do total)"
    if by_count:
        frequent = by_count[0]
        events = _plural(frequent["count"], "evento", "eventos")
        if frequent["userId"] == leader["userId"]:
            text += f" e também em frequência, com {events}"
        else:
            text += f"; em frequência, o destaque é {frequent['userId']}, com {events}"
    return text + "."


def _ticket(digest: dict[str, Any]) -> str | None:
    ticket = digest["totals"]["avgTicket"]
    if ticket["current"] is None:
        return None
    if ticket["previous"] is None:
        text = f"O ticket médio foi de {fmt(ticket['current'])}"
    else:
        text = f"O ticket médio passou de {fmt(ticket['previous'])} para {fmt(ticket['current'])}"
        if ticket["changePct"] is not None:
            text += f" ({fmt_pct(ticket['changePct'])})"
    purchase = digest["totals"]["purchaseAvgTicket"]
    if purchase["current"] is not None:
        text += f"; nas compras, {fmt(purchase['current'])}"
        if purchase["changePct"] is not None:
            text += f" ({fmt_pct(purchase['changePct'])})"
    return text + "."


def _active_users(digest: dict[str, Any]) -> str:
    users = digest["totals"]["activeUsers"]
    current = users["current"]
    text = f"Usuários ativos: {fmt_int(current)}, contra {fmt_int(users['previous'])} no período anterior"
    if users["changePct"] is not None:
        text += f" ({fmt_pct(users['changePct'])})"
    return text + "."


def _unusual(digest: dict[str, Any]) -> list[str]:
    out = []
    flows = digest["flows"]
    if flows and flows["withdrawals"] > flows["deposits"]:
        out.append(
            f"Atenção: os saques somaram {fmt(flows['withdrawals'])}, acima dos depósitos "
            f"({fmt(flows['deposits'])}); fluxo líquido de {fmt(flows['net'])}."
        )
    leader = digest["topUsersByValue"][0] if digest["topUsersByValue"] else None
    if leader and leader["sumSharePct"] is not None and leader["sumSharePct"] >= CONCENTRATION_PCT:
        out.append(f"Concentração alta: um único usuário responde por {fmt(leader['sumSharePct'], 1)}% do valor.")
    count_pct = digest["totals"]["count"]["changePct"]
    if count_pct is not None and (count_pct >= SPIKE_UP_PCT or count_pct <= SPIKE_DOWN_PCT):
        kind = "pico" if count_pct > 0 else "queda brusca"
        out.append(f"Volume atípico: {kind} de {fmt(abs(count_pct), 1)}% no número de eventos.")
    return out


def offline_narrative(digest: dict[str, Any]) -> Narrative:
    """Narrativa completa: volume, variações, destaques, ticket, usuários, alertas."""
    summary = _volume(digest)
    if digest["totals"]["count"]["current"] == 0:
        return Narrative(summary, tuple(_appeared_and_gone(digest)))
    appeared = _appeared_and_gone(digest)
    highlights: list[str] = []
    for line in (_movers(digest), *appeared, _leaders(digest), _ticket(digest)):
        if line:
            highlights.append(line)
    highlights.append(_active_users(digest))
    unusual = _unusual(digest)
    highlights.extend(unusual)
    if not unusual and not appeared:
        highlights.append(
            "Nada incomum: sem saques acima dos depósitos, sem concentração extrema em um usuário "
            "e sem variação brusca no volume."
        )
    return Narrative(summary, tuple(highlights))
