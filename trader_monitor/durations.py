"""Durações lidas do ambiente: segundos, um número com unidade ou ISO-8601.

``JWT_SESSION_MAX_AGE=604800``, ``=7d``, ``=12h``, ``=P7D`` e ``=7 00:00:00`` dizem a mesma
coisa de jeitos que operadores costumam escrever. Módulo puro (Django só para o ISO-8601):
as configurações o importam para validar o ambiente ao subir.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils.dateparse import parse_duration

_WITH_UNIT = re.compile(r"^(?P<amount>\d+)\s*(?P<unit>[smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def duration_parse(text: str) -> timedelta:
    """Duração positiva; ``ValueError`` com o texto recebido quando não dá para ler.

    Formas aceitas: ``3600`` (segundos), ``30m``, ``12h``, ``7d``, ``2w`` e as do
    ``django.utils.dateparse.parse_duration`` (ISO-8601 ``P7DT12H``, ``7 00:00:00``).
    """
    value = text.strip().lower()
    match = _WITH_UNIT.match(value)
    if match:
        duration = timedelta(**{_UNITS[match["unit"]]: int(match["amount"])})
    else:
        parsed = parse_duration(value.upper() if value.startswith("p") else value)
        if parsed is None:
            raise ValueError(f"duração ilegível: {text!r} (use, ex.: 604800, 7d, 12h, P7D)")
        duration = parsed
    if duration <= timedelta(0):
        raise ValueError(f"a duração precisa ser positiva: {text!r}")
    return duration
