"""Motor offline sobre agregações fixas: frases e números exatos.

Os resumos aqui têm o formato de ``events.selectors.summary_compute``; o
``digest`` é calculado pelo código de produção a partir deles.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from insights.digest import digest_build
from insights.numbers import allowed_numbers, numbers_check
from insights.offline import fmt, fmt_pct, offline_narrative
from insights.services import insight_text

Row = tuple[str, int, float]


def summary(types: list[Row], by_value: list[Row], by_count: list[Row], active: int) -> dict[str, Any]:
    count = sum(c for _, c, _ in types)
    total = sum(s for _, _, s in types)
    purchase = next(((c, s) for name, c, s in types if name == "purchase"), None)
    return {
        "totals": {
            "count": count,
            "sum": total,
            "avgTicket": total / count if count else None,
            "purchaseAvgTicket": purchase[1] / purchase[0] if purchase else None,
            "activeUsers": active,
        },
        "byType": [{"type": name, "count": c, "sum": s, "avg": s / c} for name, c, s in types],
        "topUsersByValue": [{"userId": u, "count": c, "sum": s, "avg": s / c} for u, c, s in by_value],
        "topUsersByCount": [{"userId": u, "count": c, "sum": s, "avg": s / c} for u, c, s in by_count],
    }


def narrate(current: dict[str, Any], previous: dict[str, Any], *, range_name: str = "24h"):
    span = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "15m": timedelta(minutes=15)}[range_name]
    digest = digest_build(current=current, previous=previous, span=span, range_name=range_name)
    return digest, offline_narrative(digest)


CURRENT = summary(
    [("purchase", 10, 5000.0), ("deposit", 4, 2000.0), ("withdrawal", 3, 4500.0), ("bonus", 2, 100.0)],
    by_value=[("u-9", 7, 6000.0), ("u-2", 8, 3000.0)],
    by_count=[("u-2", 8, 3000.0), ("u-9", 7, 6000.0)],
    active=6,
)
PREVIOUS = summary(
    [("purchase", 5, 2000.0), ("deposit", 3, 3000.0), ("withdrawal", 1, 500.0), ("refund", 2, -150.0)],
    by_value=[("u-2", 6, 3000.0)],
    by_count=[("u-2", 6, 3000.0)],
    active=5,
)


def test_full_narrative_on_fixed_aggregates():
    digest, narrative = narrate(CURRENT, PREVIOUS)

    # 19 eventos (10+4+3+2) contra 11; 11.600 contra 5.350 → +72,7% e +116,8%.
    assert narrative.summary == (
        "Nas últimas 24 horas foram 19 eventos, somando 11.600,00 em valor, alta de 72,7% no número de "
        "eventos e alta de 116,8% no valor em relação ao período anterior (11 eventos; 5.350,00)."
    )
    assert narrative.highlights == (
        # ordem: maior variação absoluta de valor (4.000, 3.000, 1.000)
        "Maiores variações por tipo: withdrawal com 3 eventos (+200,0%) e valor de 4.500,00 (+800,0%); "
        "purchase com 10 eventos (+100,0%) e valor de 5.000,00 (+150,0%); "
        "deposit com 4 eventos (+33,3%) e valor de 2.000,00 (−33,3%).",
        "Tipo novo no período: bonus, com 2 eventos (nenhum no período anterior).",
        "O tipo refund não teve eventos agora (2 eventos no período anterior).",
        # 6.000 / 11.600 = 51,72%
        "O usuário u-9 lidera em valor, com 6.000,00 (51,7% do total); em frequência, o destaque é u-2, com 8 eventos.",
        # 5.350/11 = 486,36 → 11.600/19 = 610,53: +25,5%; compras 400 → 500: +25%
        "O ticket médio passou de 486,36 para 610,53 (+25,5%); nas compras, 500,00 (+25,0%).",
        "Usuários ativos: 6, contra 5 no período anterior (+20,0%).",
        "Atenção: os saques somaram 4.500,00, acima dos depósitos (2.000,00); fluxo líquido de −2.500,00.",
        "Concentração alta: um único usuário responde por 51,7% do valor.",
    )
    check = numbers_check(insight_text(narrative.summary, narrative.highlights), allowed_numbers(digest))
    assert check.verified, check.unverified


def test_quiet_period_says_nothing_unusual_and_compares_active_users_with_the_previous_period():
    current = summary(
        [("purchase", 4, 400.0), ("login", 4, 0.0)],
        by_value=[("u-2", 3, 190.0), ("u-1", 5, 150.0)],
        by_count=[("u-1", 5, 150.0), ("u-2", 3, 190.0)],
        active=5,
    )
    previous = summary([("purchase", 4, 380.0), ("login", 3, 0.0)], [("u-1", 4, 380.0)], [("u-1", 4, 380.0)], active=4)
    _digest, narrative = narrate(current, previous, range_name="7d")

    assert narrative.summary == (
        "Nos últimos 7 dias foram 8 eventos, somando 400,00 em valor, alta de 14,3% no número de eventos "
        "e alta de 5,3% no valor em relação ao período anterior (7 eventos; 380,00)."
    )
    assert narrative.highlights == (
        "Maiores variações por tipo: purchase com 4 eventos (estável) e valor de 400,00 (+5,3%); "
        "login com 4 eventos (+33,3%) e valor de 0,00.",
        # 190 / 400 = 47,5%: abaixo do limiar de concentração
        "O usuário u-2 lidera em valor, com 190,00 (47,5% do total); em frequência, o destaque é u-1, com 5 eventos.",
        # 380/7 = 54,29 → 400/8 = 50: −7,9%; compras 95 → 100: +5,3%
        "O ticket médio passou de 54,29 para 50,00 (−7,9%); nas compras, 100,00 (+5,3%).",
        "Usuários ativos: 5, contra 4 no período anterior (+25,0%).",
        "Nada incomum: sem saques acima dos depósitos, sem concentração extrema em um usuário "
        "e sem variação brusca no volume.",
    )


def test_leader_in_value_and_frequency_is_named_once():
    current = summary([("purchase", 4, 400.0)], [("u-1", 4, 400.0)], [("u-1", 4, 400.0)], active=1)
    _digest, narrative = narrate(current, current)
    assert "O usuário u-1 lidera em valor, com 400,00 (100,0% do total) e também em frequência, com 4 eventos." in (
        narrative.highlights
    )
    assert "Concentração alta: um único usuário responde por 100,0% do valor." in narrative.highlights


def test_spike_and_first_period_without_history():
    current = summary([("login", 30, 0.0)], [("u-1", 30, 0.0)], [("u-1", 30, 0.0)], active=1)
    previous = summary([("login", 10, 0.0)], [], [], active=1)
    _digest, spike = narrate(current, previous, range_name="15m")
    assert spike.summary == (
        "Nos últimos 15 minutos foram 30 eventos, somando 0,00 em valor, alta de 200,0% no número de eventos "
        "em relação ao período anterior (10 eventos; 0,00)."
    )
    assert "Volume atípico: pico de 200,0% no número de eventos." in spike.highlights

    _digest, first = narrate(current, summary([], [], [], active=0), range_name="15m")
    assert first.summary == (
        "Nos últimos 15 minutos foram 30 eventos, somando 0,00 em valor; "
        "não houve eventos no período anterior para comparar."
    )
    assert "Tipo novo no período: login, com 30 eventos (nenhum no período anterior)." in first.highlights


def test_empty_current_period():
    _digest, narrative = narrate(summary([], [], [], 0), PREVIOUS)
    assert narrative.summary == "Nas últimas 24 horas não houve eventos, contra 11 eventos no período anterior."
    assert narrative.highlights == (
        "O tipo purchase não teve eventos agora (5 eventos no período anterior).",
        "O tipo deposit não teve eventos agora (3 eventos no período anterior).",
        "O tipo refund não teve eventos agora (2 eventos no período anterior).",
        "O tipo withdrawal não teve eventos agora (1 evento no período anterior).",
    )
    _digest, nothing = narrate(summary([], [], [], 0), summary([], [], [], 0))
    assert nothing.summary == "Nas últimas 24 horas não houve eventos, nem no período anterior de mesma duração."
    assert nothing.highlights == ()


def test_pt_br_number_formatting():
    assert fmt(1234567.891) == "1.234.567,89"
    assert fmt(12.35, 1) == "12,4"  # meio-para-cima, não truncado
    assert fmt(-0.001) == "0,00"  # sem "-0,00"
    assert fmt(-2500) == "−2.500,00"
    assert fmt_pct(-7.94) == "−7,9%"
    assert fmt_pct(0.04) == "estável"


_names = st.sampled_from(["purchase", "deposit", "withdraw", "login", "bonus", "u-7 type", "tipo 42"])
_types = st.dictionaries(
    _names,
    st.tuples(st.integers(1, 5000), st.integers(-(10**7), 10**9).map(lambda cents: cents / 100)),
    max_size=6,
)
_users = st.lists(
    st.tuples(st.sampled_from(["u-1", "u-22", "trader 3", "4"]), st.integers(1, 500), st.integers(0, 10**8)),
    max_size=3,
    unique_by=lambda row: row[0],
)


def _random_summary(types: dict[str, tuple[int, float]], users: list[tuple[str, int, int]], active: int):
    rows = [(name, count, value) for name, (count, value) in types.items()]
    user_rows = [(u, c, s / 100) for u, c, s in users]
    return summary(rows, user_rows, user_rows, active)


@settings(max_examples=200, deadline=None)
@given(
    current=_types,
    previous=_types,
    users=_users,
    active=st.tuples(st.integers(0, 900), st.integers(0, 900)),
    range_name=st.sampled_from(["24h", "7d", "15m"]),
)
def test_offline_text_always_passes_the_number_check(current, previous, users, active, range_name):
    digest, narrative = narrate(
        _random_summary(current, users, active[0]),
        _random_summary(previous, [], active[1]),
        range_name=range_name,
    )
    check = numbers_check(insight_text(narrative.summary, narrative.highlights), allowed_numbers(digest))
    assert check.verified, (check.unverified, narrative)
