"""Leituras do domínio de eventos: listagem, detalhe, resumo e série temporal."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache

from events import buckets
from events.buckets import Family, Window
from events.domain import event_to_json, isoformat, parse_event_id
from events.store import EventFilter, KeysetPosition, SortField, get_store

RANGE_PATTERN = re.compile(r"^(?P<n>[1-9][0-9]{0,3})(?P<unit>[mhd])$")
_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
MAX_RANGE = timedelta(days=366)
DEFAULT_RANGE = "24h"


class RangeError(ValueError):
    """Intervalo inválido; ``param`` nomeia o parâmetro culpado."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def parse_range(value: str) -> timedelta:
    """``15m``, ``24h``, ``7d``, ``30d``… (até 366 dias)."""
    match = RANGE_PATTERN.match(value)
    if not match:
        raise RangeError("range", "use <n>m, <n>h ou <n>d, ex.: 15m, 24h, 7d, 30d")
    span = int(match["n"]) * _UNITS[match["unit"]]
    if span > MAX_RANGE:
        raise RangeError("range", "no máximo 366 dias")
    return span


def resolve_window(
    *,
    range_name: str | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    default_range: str | None = DEFAULT_RANGE,
) -> Window | None:
    """Janela pedida: ``from``/``to`` explícitos ou ``range`` terminando agora."""
    if range_name and (start or end):
        raise RangeError("range", "use range OU from/to, não ambos")
    if start or end:
        window_end = end or now
        window_start = start or (window_end - parse_range(default_range or DEFAULT_RANGE))
        if window_start >= window_end:
            raise RangeError("from", "from deve ser anterior a to")
        return Window(window_start, window_end)
    name = range_name or default_range
    if name is None:
        return None
    return Window(now - parse_range(name), now)


# --- eventos ----------------------------------------------------------------------


def event_get(*, event_id: str) -> dict[str, Any] | None:
    oid = parse_event_id(event_id)
    if oid is None:
        return None
    doc = get_store().get_event(oid)
    return event_to_json(doc) if doc else None


@dataclass(frozen=True)
class EventPage:
    results: list[dict[str, Any]]
    total: int | None
    next_position: KeysetPosition | None


def event_list(
    *,
    event_filter: EventFilter,
    sort_field: SortField,
    descending: bool,
    limit: int,
    page: int = 1,
    after: KeysetPosition | None = None,
    with_total: bool = True,
) -> EventPage:
    """Página de eventos; com ``after`` usa paginação por chave (custo constante)."""
    store = get_store()
    skip = 0 if after is not None else (page - 1) * limit
    docs = store.list_events(
        event_filter, sort_field=sort_field, descending=descending, limit=limit + 1, skip=skip, after=after
    )
    has_more = len(docs) > limit
    docs = docs[:limit]
    next_position = KeysetPosition(docs[-1][sort_field], docs[-1]["_id"]) if has_more and docs else None
    total = store.count_events(event_filter) if with_total else None
    return EventPage([event_to_json(doc) for doc in docs], total, next_position)


# --- resumo -------------------------------------------------------------------------


def _window_json(window: Window) -> dict[str, str]:
    return {"from": isoformat(window.start), "to": isoformat(window.end)}


def _row(row: dict[str, Any], name: str) -> dict[str, Any]:
    count = row["count"]
    return {name: row["key"], "count": count, "sum": row["sum"], "avg": row["sum"] / count if count else None}


def summary_compute(*, window: Window, top: int, now: datetime | None = None) -> dict[str, Any]:
    """Agregações da janela, a partir dos rollups (custo independente do histórico).

    A janela efetiva é a pedida arredondada para fora até os baldes do nível usado
    (minuto/hora para tipos; hora/dia para usuários) e vai na resposta.
    """
    now = now or datetime.now(UTC)
    store = get_store()
    store.flush_rollups()
    type_level, type_window = buckets.plan(Family.TYPE, window.start, window.end, now)
    user_level, user_window = buckets.plan(Family.USER, window.start, window.end, now)
    by_type = [_row(row, "type") for row in store.rollup_totals(type_level, type_window)]
    users = store.rollup_top(user_level, user_window, top)
    total_count = sum(row["count"] for row in by_type)
    total_sum = sum(row["sum"] for row in by_type)
    purchase = next((row for row in by_type if row["type"] == "purchase"), None)
    return {
        "window": _window_json(type_window) | {"granularity": _granularity(type_level.step)},
        "usersWindow": _window_json(user_window) | {"granularity": _granularity(user_level.step)},
        "requested": _window_json(window),
        "totals": {
            "count": total_count,
            "sum": total_sum,
            "avgTicket": total_sum / total_count if total_count else None,
            "purchaseAvgTicket": purchase["avg"] if purchase else None,
            "activeUsers": users["distinct"],
        },
        "byType": by_type,
        "topUsersByValue": [_row(row, "userId") for row in users["byValue"]],
        "topUsersByCount": [_row(row, "userId") for row in users["byCount"]],
    }


def _granularity(step: timedelta) -> str:
    return {buckets.MINUTE: "minute", buckets.HOUR: "hour", buckets.DAY: "day"}[step]


def summary_cached(
    *, cache_key_parts: tuple[Any, ...], window: Window, top: int, now: datetime | None = None
) -> dict[str, Any]:
    """``summary_compute`` com cache de ``SUMMARY_CACHE_SECONDS`` (local ou Redis).

    A chave usa os parâmetros como pedidos (ex.: ``range=24h``), não os instantes,
    para que pedidos seguidos da mesma janela móvel acertem o cache.
    """
    key = "summary:" + ":".join(str(part) for part in cache_key_parts)
    cached = _cache_get(key)
    if cached is not None:
        return dict(cached, cached=True)
    result = summary_compute(window=window, top=top, now=now)
    result["computedAt"] = isoformat(now or datetime.now(UTC))
    _cache_set(key, result, settings.SUMMARY_CACHE_SECONDS)
    return dict(result, cached=False)


def _cache_get(key: str) -> Any:
    try:
        return cache.get(key)
    except Exception:  # cache fora do ar: calcula sem cache
        return None


def _cache_set(key: str, value: Any, timeout: int) -> None:
    # O cache é otimização: se estiver fora do ar, o resultado já está calculado.
    with contextlib.suppress(Exception):
        cache.set(key, value, timeout)


def timeseries_compute(*, window: Window, now: datetime | None = None, max_points: int = 120) -> dict[str, Any]:
    """Série de contagem/soma por intervalo e por tipo, para gráficos.

    Lê o nível de tipos escolhido pelo plano e agrupa os baldes em intervalos
    múltiplos do balde, com no máximo ``max_points`` pontos.
    """
    now = now or datetime.now(UTC)
    store = get_store()
    store.flush_rollups()
    level, effective = buckets.plan(Family.TYPE, window.start, window.end, now)
    steps = max(1, -(-(effective.end - effective.start) // level.step // max_points))
    interval = level.step * steps
    start = buckets.floor_to(effective.start, interval)
    points: dict[datetime, dict[str, Any]] = {}
    moment = start
    while moment < effective.end:
        points[moment] = {"t": isoformat(moment), "count": 0, "sum": 0.0, "byType": {}}
        moment += interval
    for row in store.rollup_series(level, effective):
        slot = points[buckets.floor_to(row["bucket"], interval)]
        slot["count"] += row["count"]
        slot["sum"] += row["sum"]
        slot["byType"][row["key"]] = slot["byType"].get(row["key"], 0) + row["count"]
    return {
        "window": _window_json(effective),
        "interval": int(interval.total_seconds()),
        "points": list(points.values()),
    }


# --- administração (telas do admin sobre o MongoDB) ----------------------------------


def event_document_get(*, event_id: str) -> dict[str, Any] | None:
    """Documento completo do evento (inclui ``seq`` e a chave de idempotência)."""
    oid = parse_event_id(event_id)
    return get_store().get_event(oid) if oid is not None else None


def event_type_counts(*, window: Window, now: datetime | None = None) -> list[dict[str, Any]]:
    """Tipos com eventos na janela e suas contagens (dos rollups): ``[{type, count}]``."""
    now = now or datetime.now(UTC)
    store = get_store()
    store.flush_rollups()
    level, effective = buckets.plan(Family.TYPE, window.start, window.end, now)
    rows = store.rollup_totals(level, effective)
    return sorted(({"type": row["key"], "count": row["count"]} for row in rows), key=lambda row: row["type"])


def rejection_list(*, reason: str | None, limit: int, skip: int = 0) -> list[dict[str, Any]]:
    """Entregas rejeitadas, da mais recente para a mais antiga."""
    return get_store().list_rejections(reason=reason, limit=limit, skip=skip)


def rejection_count(*, reason: str | None) -> int:
    return get_store().count_rejections(reason=reason)


def rejection_counts_by_reason() -> dict[str, int]:
    return dict(sorted(get_store().rejections_by_reason().items()))


def rejection_get(*, rejection_id: str) -> dict[str, Any] | None:
    oid = parse_event_id(rejection_id)
    return get_store().get_rejection(oid) if oid is not None else None
