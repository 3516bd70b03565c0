"""Resumo comparativo (``digest``): o que o modelo e o motor offline recebem.

Funções puras. O ``digest`` é o único conteúdo da mensagem de dados enviada ao
modelo e a fonte dos números permitidos na verificação (``insights.numbers``);
por isso todo número derivado (variações, participações, fluxo líquido) é calculado
aqui, arredondado, e nunca pelo modelo.

Metadados de eventos nunca entram aqui. ``userId`` e nomes de tipo são texto de
terceiros: passam por ``clean_label`` (sem caracteres de controle/formatação,
espaços colapsados, tamanho limitado) e vão só como valores JSON.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any

MAX_LABEL_CHARS = 48
MAX_TYPES = 20
DEPOSIT_TYPES = frozenset({"deposit", "deposito", "depósito"})
WITHDRAWAL_TYPES = frozenset({"withdraw", "withdrawal", "saque"})
# Categorias Unicode removidas: controle, formatação (bidi, largura zero), privadas,
# substitutos e não atribuídos. Todo espaço (inclusive \n e U+2028) vira um espaço só.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def clean_label(value: str, limit: int = MAX_LABEL_CHARS) -> str:
    """Rótulo de terceiros seguro para o prompt: sem controle, uma linha, limitado."""
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in value
        if ch.isspace() or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
    text = " ".join(kept.split())
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or "?"


def _r2(value: float | None) -> float | None:
    """Contagens (int) ficam como estão; valores em dinheiro/médias com 2 casas."""
    if value is None or isinstance(value, int):
        return value
    return round(float(value), 2)


def _pct(current: float | None, previous: float | None) -> float | None:
    if current is None or previous is None or previous == 0:
        return None
    return round((current - previous) / abs(previous) * 100, 2)


def _share(part: float | None, total: float | None) -> float | None:
    if part is None or not total or total <= 0:
        return None
    share = part / total * 100
    # Janelas de usuários são mais largas (baldes maiores) que a de tipos; uma
    # participação acima de 100% não teria sentido e é omitida.
    return round(share, 2) if 0 <= share <= 100 else None


def _change(current: float | None, previous: float | None) -> dict[str, float | None]:
    diff = None if current is None or previous is None else _r2(current - previous)
    return {"current": _r2(current), "previous": _r2(previous), "diff": diff, "changePct": _pct(current, previous)}


def period_describe(span: timedelta, range_name: str | None) -> dict[str, Any]:
    """Duração da janela nas unidades inteiras que couberem (minutos, horas, dias)."""
    seconds = int(span.total_seconds())
    period: dict[str, Any] = {"range": range_name}
    for name, unit in (("minutes", 60), ("hours", 3600), ("days", 86400)):
        if seconds % unit == 0:
            period[name] = seconds // unit
    return period


def _type_rows(current: dict[str, Any], previous: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    now_rows = {row["type"]: row for row in current["byType"]}
    before_rows = {row["type"]: row for row in previous["byType"]}
    total_count = current["totals"]["count"]
    total_sum = current["totals"]["sum"]
    names = sorted(
        set(now_rows) | set(before_rows),
        key=lambda name: (
            -max(now_rows.get(name, {}).get("count", 0), before_rows.get(name, {}).get("count", 0)),
            name,
        ),
    )
    rows = []
    for name in names[:MAX_TYPES]:
        now = now_rows.get(name)
        before = before_rows.get(name)
        count = now["count"] if now else 0
        value = now["sum"] if now else 0.0
        previous_count = before["count"] if before else 0
        previous_value = before["sum"] if before else 0.0
        rows.append(
            {
                "type": clean_label(name),
                "status": "new" if not before else ("gone" if not now else "continuing"),
                "count": count,
                "sum": _r2(value),
                "avg": _r2(now["avg"]) if now else None,
                "previousCount": previous_count,
                "previousSum": _r2(previous_value),
                "previousAvg": _r2(before["avg"]) if before else None,
                "countDiff": count - previous_count,
                "countChangePct": _pct(count, previous_count),
                "sumDiff": _r2(value - previous_value),
                "sumChangePct": _pct(value, previous_value),
                "countSharePct": _share(count, total_count),
                "sumSharePct": _share(value, total_sum),
            }
        )
    return rows, max(0, len(names) - MAX_TYPES)


def _user_rows(rows: list[dict[str, Any]], total: float | None, share_of: str) -> list[dict[str, Any]]:
    return [
        {
            "rank": rank,
            "userId": clean_label(str(row["userId"])),
            "count": row["count"],
            "sum": _r2(row["sum"]),
            f"{share_of}SharePct": _share(row[share_of], total),
        }
        for rank, row in enumerate(rows, start=1)
    ]


def _flows(by_type: list[dict[str, Any]]) -> dict[str, Any] | None:
    deposits = [row for row in by_type if row["type"].lower() in DEPOSIT_TYPES]
    withdrawals = [row for row in by_type if row["type"].lower() in WITHDRAWAL_TYPES]
    if not deposits and not withdrawals:
        return None
    deposit_sum = sum(row["sum"] for row in deposits)
    withdrawal_sum = sum(row["sum"] for row in withdrawals)
    previous_deposits = sum(row["previousSum"] for row in deposits)
    previous_withdrawals = sum(row["previousSum"] for row in withdrawals)
    return {
        "deposits": _r2(deposit_sum),
        "withdrawals": _r2(withdrawal_sum),
        "net": _r2(deposit_sum - withdrawal_sum),
        "previousDeposits": _r2(previous_deposits),
        "previousWithdrawals": _r2(previous_withdrawals),
        "previousNet": _r2(previous_deposits - previous_withdrawals),
    }


def digest_build(
    *,
    current: dict[str, Any],
    previous: dict[str, Any],
    span: timedelta,
    range_name: str | None,
) -> dict[str, Any]:
    """Comparação período atual × anterior, só com números já calculados."""
    now_totals = current["totals"]
    before_totals = previous["totals"]
    by_type, omitted = _type_rows(current, previous)
    totals = {
        name: _change(now_totals[name], before_totals[name])
        for name in ("count", "sum", "avgTicket", "purchaseAvgTicket")
    }
    # Janelas exatas e disjuntas (o período anterior termina onde o atual começa): usuários
    # ativos se comparam como qualquer outro total.
    totals["activeUsers"] = _change(now_totals["activeUsers"], before_totals["activeUsers"])
    return {
        "period": period_describe(span, range_name),
        "totals": totals,
        "byType": by_type,
        "omittedTypes": omitted,
        "topUsersByValue": _user_rows(current["topUsersByValue"], now_totals["sum"], "sum"),
        "topUsersByCount": _user_rows(current["topUsersByCount"], now_totals["count"], "count"),
        "flows": _flows(by_type),
    }
