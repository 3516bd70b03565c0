"""Verificação dos números citados num texto contra os dados entregues ao modelo.

A regra, exata (e a mesma para o texto do modelo e o do motor offline):

1. Os números permitidos são **todos os valores numéricos do resumo** (``digest``)
   entregue ao modelo — contagens, somas, médias, variações absolutas e
   percentuais, participações, período (minutos/horas/dias) e posições no ranking.
   Campos cujo nome termina em ``Pct`` são percentuais; os demais, absolutos.
2. Antes de extrair, o texto é normalizado (NFKC: dígitos de largura total viram
   ASCII) e os identificadores dos dados que contêm dígitos (``userId``, tipos,
   ex.: ``u-42``) são removidos — o ``42`` de ``u-42`` não é uma afirmação numérica.
3. Todo número escrito com algarismos é extraído, com separadores ``.`` e ``,``
   nos dois estilos: ``1.234,56`` (pt-BR), ``1,234.56`` (en), ``12,5``, ``1.234``
   (lido como 1234 **ou** 1,234 — basta uma leitura bater), ``1.234.567``.
4. Sufixos: ``%`` ou ``por cento`` marcam percentual; ``mil``/``k`` (×10³),
   ``mi``/``milhão``/``milhões`` (×10⁶), ``bi``/``bilhão``/``bilhões`` (×10⁹)
   multiplicam.
5. Sinal não conta (``queda de 12%`` e ``-12%`` descrevem a variação ``-12``): a
   comparação é entre valores absolutos.
6. Um número escrito com ``d`` casas decimais e multiplicador ``m`` confere com um
   valor permitido ``v`` do mesmo tipo (percentual com percentual, absoluto com
   absoluto) quando ``|x·m − |v|| ≤ 0,5·10⁻ᵈ·m`` — ou seja, é ``v`` arredondado
   para a precisão escrita (``12,3%`` confere com ``12,34``; ``1,2 mil`` com
   ``1.234``; ``1.235`` com ``1234,56``; ``12%`` não confere com ``12,6``).

Números por extenso ("dois usuários") e datas não são verificáveis por esta regra:
o prompt proíbe datas, e uma data escrita com algarismos falha na verificação.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

_NUMBER = re.compile(
    r"(?P<digits>[0-9]+(?:[.,][0-9]+)*)"
    r"(?P<suffix>\s*(?:%|por\s+cento\b|mil\b|milh(?:ão|ões|ao|oes)\b|mi\b|bilh(?:ão|ões|ao|oes)\b|bi\b|k\b))?",
    re.IGNORECASE,
)
_MULTIPLIERS = {"mil": 1e3, "k": 1e3, "mi": 1e6, "bi": 1e9}
_RELATIVE_EPSILON = 1e-9


@dataclass(frozen=True)
class AllowedNumbers:
    """Valores absolutos permitidos, separados em absolutos e percentuais."""

    plain: tuple[float, ...]
    percent: tuple[float, ...]
    identifiers: tuple[str, ...]


@dataclass(frozen=True)
class NumberCheck:
    verified: bool
    unverified: tuple[str, ...]
    checked: int


@dataclass(frozen=True)
class StatedNumber:
    text: str
    readings: tuple[tuple[float, int], ...]
    multiplier: float
    percent: bool


def allowed_numbers(data: Any) -> AllowedNumbers:
    """Coleta os números (e os identificadores com dígitos) de uma estrutura JSON."""
    plain: set[float] = set()
    percent: set[float] = set()
    identifiers: set[str] = set()

    def walk(node: Any, key: str) -> None:
        if isinstance(node, bool) or node is None:
            return
        if isinstance(node, int | float):
            if math.isfinite(node):
                (percent if key.endswith("Pct") else plain).add(abs(float(node)))
        elif isinstance(node, str):
            if any(ch.isdigit() for ch in node):
                identifiers.add(unicodedata.normalize("NFKC", node))
        elif isinstance(node, dict):
            for child_key, child in node.items():
                walk(child, str(child_key))
        elif isinstance(node, list | tuple):
            for child in node:
                walk(child, key)

    walk(data, "")
    return AllowedNumbers(
        tuple(sorted(plain)), tuple(sorted(percent)), tuple(sorted(identifiers, key=len, reverse=True))
    )


def _strip_identifiers(text: str, identifiers: Iterable[str]) -> str:
    for identifier in identifiers:
        # Só o identificador inteiro: "1" não pode comer o começo de "1.234".
        pattern = rf"(?<![0-9A-Za-z.,]){re.escape(identifier)}(?![0-9A-Za-z]|[.,][0-9])"
        text = re.sub(pattern, " ", text)
    return text


def _readings(digits: str) -> tuple[tuple[float, int], ...]:
    """Leituras possíveis (valor, casas decimais) de um número com separadores."""
    separators = [ch for ch in digits if ch in ".,"]
    groups = re.split(r"[.,]", digits)
    if not separators:
        return ((float(digits), 0),)

    def thousands(parts: list[str]) -> bool:
        return (
            1 <= len(parts[0]) <= 3
            and not (len(parts[0]) > 1 and parts[0][0] == "0")
            and all(len(part) == 3 for part in parts[1:])
        )

    if len(set(separators)) == 2:
        decimal_sep = separators[-1]
        if separators.count(decimal_sep) != 1:
            return ()
        integer, fraction = digits.rsplit(decimal_sep, 1)
        if not thousands(re.split(r"[.,]", integer)):
            return ()
        return ((float(integer.replace(".", "").replace(",", "") + "." + fraction), len(fraction)),)
    if len(separators) > 1:
        return ((float("".join(groups)), 0),) if thousands(groups) else ()
    integer, fraction = groups
    readings = [(float(f"{integer}.{fraction}"), len(fraction))]
    if thousands(groups) and integer != "0":
        readings.append((float(integer + fraction), 0))
    return tuple(readings)


def stated_numbers(text: str, identifiers: Iterable[str] = ()) -> Iterator[StatedNumber]:
    """Números escritos no texto, com as leituras possíveis de cada um."""
    normalized = _strip_identifiers(unicodedata.normalize("NFKC", text), identifiers)
    for match in _NUMBER.finditer(normalized):
        suffix = re.sub(r"\s+", " ", (match["suffix"] or "").strip().lower())
        percent = suffix in {"%", "por cento"}
        if suffix.startswith("milh"):
            suffix = "mi"
        elif suffix.startswith("bilh"):
            suffix = "bi"
        yield StatedNumber(
            text=match.group(0).strip(),
            readings=_readings(match["digits"]),
            multiplier=_MULTIPLIERS.get(suffix, 1.0),
            percent=percent,
        )


def _matches(number: StatedNumber, candidates: tuple[float, ...]) -> bool:
    for value, decimals in number.readings:
        stated = value * number.multiplier
        tolerance = 0.5 * 10.0**-decimals * number.multiplier
        for candidate in candidates:
            if abs(stated - candidate) <= tolerance + _RELATIVE_EPSILON * max(1.0, candidate):
                return True
    return False


def numbers_check(text: str, allowed: AllowedNumbers) -> NumberCheck:
    """Confere cada número do texto contra os permitidos (regra no topo do módulo)."""
    unverified: list[str] = []
    checked = 0
    for number in stated_numbers(text, allowed.identifiers):
        checked += 1
        if not _matches(number, allowed.percent if number.percent else allowed.plain):
            unverified.append(number.text)
    return NumberCheck(verified=not unverified, unverified=tuple(unverified), checked=checked)
