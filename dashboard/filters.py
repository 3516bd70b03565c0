"""Filtros das páginas lidos da URL (visões compartilháveis): ``?range=…&type=…&userId=…&from=…&to=…``.

A validação é a da API (``FilteredRangeQuerySerializer`` e ``events.windows``): a
página abre com exatamente os filtros que a API aceitaria. Diferente da API, um
valor inválido não é erro — a página cai no padrão só naquele filtro (um link
velho ou editado à mão ainda abre).
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict

from events.serializers import SORTS, FilteredRangeQuerySerializer
from events.windows import DEFAULT_RANGE, isoformat

FILTER_PARAMS = ("range", "from", "to", "type", "userId")
PAGE_SIZES = (25, 50, 100)
DEFAULT_SORT = "-timestamp"


def _valid_filters(query: QueryDict, names: tuple[str, ...]) -> dict[str, Any]:
    wanted = {name: query[name] for name in names if query.get(name, "").strip()}
    # Cada volta descarta os parâmetros que o serializer recusou; no máximo uma por parâmetro.
    for _attempt in range(len(names) + 1):
        serializer = FilteredRangeQuerySerializer(data=wanted)
        if serializer.is_valid():
            validated: dict[str, Any] = serializer.validated_data
            return validated
        for name in serializer.errors:
            wanted.pop(name, None)
    return {}


def page_filters(query: QueryDict, *, names: tuple[str, ...] = FILTER_PARAMS) -> dict[str, Any]:
    """Filtros iniciais da página, na forma que o JavaScript devolve à URL e à API.

    ``from``/``to`` saem normalizados (ISO-8601 em UTC, ao milissegundo); sem eles e
    sem ``range``, vale o período padrão.
    """
    valid = _valid_filters(query, names)
    start, end = valid.get("from"), valid.get("to")
    explicit = start is not None or end is not None
    sort = query.get("sort", DEFAULT_SORT)
    try:
        limit = int(query.get("limit", PAGE_SIZES[0]))
    except ValueError:
        limit = PAGE_SIZES[0]
    filters: dict[str, Any] = {
        "range": "" if explicit else valid.get("range", DEFAULT_RANGE),
        "from": isoformat(start) if start is not None else "",
        "to": isoformat(end) if end is not None else "",
        "sort": sort if sort in SORTS else DEFAULT_SORT,
        "limit": limit if limit in PAGE_SIZES else PAGE_SIZES[0],
    }
    if "type" in names:
        filters["type"] = ",".join(valid.get("type", ()))
    if "userId" in names:
        filters["userId"] = valid.get("userId", "")
    return filters
