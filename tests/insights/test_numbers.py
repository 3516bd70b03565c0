"""A regra de verificação de números (insights.numbers), caso a caso."""

from __future__ import annotations

import pytest

from insights.numbers import AllowedNumbers, allowed_numbers, numbers_check, stated_numbers

DATA = {
    "period": {"range": "24h", "hours": 24},
    "totals": {"count": {"current": 1234, "previous": 1000, "diff": 234, "changePct": 23.4}},
    "byType": [{"type": "purchase", "sum": 1234567.891, "avg": 12.35, "sumSharePct": 7.0}],
    "topUsersByValue": [{"rank": 1, "userId": "u-42", "sum": 0.5, "sumSharePct": 62.5}],
    "flows": {"net": -300.0},
}


@pytest.fixture
def allowed() -> AllowedNumbers:
    return allowed_numbers(DATA)


def test_collects_plain_and_percent_values_and_identifiers_with_digits(allowed):
    assert 1234.0 in allowed.plain
    assert 23.4 in allowed.percent
    assert 23.4 not in allowed.plain
    assert 300.0 in allowed.plain  # negativos entram pelo valor absoluto
    assert allowed.identifiers == ("u-42", "24h")
    assert 1.0 in allowed.plain  # rank


@pytest.mark.parametrize(
    "text",
    [
        "Foram 1.234 eventos.",  # milhar pt-BR
        "Foram 1,234 eventos.",  # milhar en
        "Foram 1234 eventos.",
        "Alta de 23,4% no volume.",
        "Alta de 23.4% no volume.",
        "Alta de 23% no volume.",  # arredondado
        "Alta de 23,4 por cento.",
        "Queda de -300,00 no fluxo líquido.",  # sinal não conta
        "Fluxo líquido de −300,00.",
        "Valor de 1.234.567,89 em compras.",
        "Valor de 1,234,567.89 em compras.",
        "Cerca de 1,2 milhão em compras.",
        "Cerca de 1,23 mi em compras.",
        "Cerca de 1.234,6 mil em compras.",
        "Ticket de 12,4 em média.",  # 12,35 arredondado meio-para-cima
        "Ticket de 12,3 em média.",  # … ou para baixo, dentro de meia unidade
        "O usuário u-42 concentra 62,5% do valor.",  # o 42 do id não é afirmação
        "Nas últimas 24h houve 234 eventos a mais.",
        "Foram １２３４ eventos.",  # dígitos de largura total normalizados (NFKC)
    ],
)
def test_numbers_from_the_data_pass(allowed, text):
    check = numbers_check(text, allowed)
    assert check.verified, check.unverified
    assert check.checked >= 1


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("Foram 1.300 eventos.", ["1.300"]),
        ("Alta de 24,5% no volume.", ["24,5%"]),
        ("Alta de 1234% no volume.", ["1234%"]),  # número absoluto citado como percentual
        ("Participação de 7 por cento e depois 62,5.", ["62,5"]),  # percentual citado como absoluto
        ("Ticket de 12,5 em média.", ["12,5"]),  # 12,35 não arredonda para 12,5
        ("Cerca de 2 mil eventos.", ["2 mil"]),
        ("Em 28/11 às 14h30 houve um pico.", ["28", "11", "14", "30"]),  # datas/horas não vêm dos dados
        ("O usuário u-42 fez 42 compras.", ["42"]),  # fora do id, 42 é uma afirmação
        ("Versão 1.2.3.", ["1.2.3"]),  # separadores sem leitura válida
    ],
)
def test_invented_numbers_are_flagged(allowed, text, flagged):
    check = numbers_check(text, allowed)
    assert not check.verified
    assert list(check.unverified) == flagged


def test_ambiguous_separator_keeps_both_readings():
    (number,) = stated_numbers("1.234")
    assert sorted(number.readings) == [(1.234, 3), (1234.0, 0)]
    (decimal_only,) = stated_numbers("0,123")
    assert decimal_only.readings == ((0.123, 3),)


def test_text_without_numbers_is_verified(allowed):
    assert numbers_check("Sem variações relevantes.", allowed).verified
