"""Leituras do domínio de eventos: listagem, detalhe, resumo e série temporal.

Só leem. Todo número de um resumo ou série cobre exatamente a janela pedida
``[from, to)`` e os mesmos filtros da listagem (``type``, ``userId``): a janela é
decomposta em baldes inteiros das agregações e pontas em eventos brutos
(``events.buckets.decompose``), e as partes são somadas aqui.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache

from events import buckets
from events.buckets import Segment
from events.domain import EventFilter, KeysetPosition, SortField, event_to_json, parse_event_id
from events.store import get_store
from events.store.contract import GroupBy
from events.windows import Window, isoformat

# Larguras possíveis de um ponto da série (cada uma múltipla do nível de baldes abaixo dela).
SERIES_INTERVALS: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=7),
)
MAX_SERIES_POINTS = 120

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


# --- agregações exatas ---------------------------------------------------------------


@dataclass
class _Totals:
    count: int = 0
    sum: float = 0.0

    def add(self, count: int, value: float) -> None:
        self.count += count
        self.sum += value


def _merge(rows_by_segment: Iterable[Iterable[Any]]) -> dict[str, _Totals]:
    merged: dict[str, _Totals] = {}
    for rows in rows_by_segment:
        for row in rows:
            merged.setdefault(row["key"], _Totals()).add(row["count"], row["sum"])
    return {key: total for key, total in merged.items() if total.count > 0}


def window_group(*, window: Window, event_filter: EventFilter, by: GroupBy, now: datetime) -> dict[str, _Totals]:
    """Contagem e soma por tipo ou por usuário, exatamente na janela e nos filtros."""
    store = get_store()
    segments = buckets.decompose(window, now=now)
    return _merge(store.group(segment, by=by, event_filter=event_filter) for segment in segments)


def _row(name: str, key: str, total: _Totals) -> dict[str, Any]:
    return {name: key, "count": total.count, "sum": total.sum, "avg": total.sum / total.count}


def summary_compute(
    *, window: Window, top: int, now: datetime | None = None, event_filter: EventFilter | None = None
) -> dict[str, Any]:
    """Agregações exatas de ``[window.start, window.end)`` com os filtros da listagem.

    ``totals.count`` é o ``total`` que ``GET /api/events`` dá para os mesmos ``from``,
    ``to``, ``type`` e ``userId``.
    """
    now = now or datetime.now(UTC)
    flt = event_filter or EventFilter()
    by_type_totals = window_group(window=window, event_filter=flt, by="type", now=now)
    by_user = window_group(window=window, event_filter=flt, by="userId", now=now)
    by_type = sorted(
        (_row("type", key, total) for key, total in by_type_totals.items()),
        key=lambda row: (-row["count"], row["type"]),
    )
    total_count = sum(row["count"] for row in by_type)
    total_sum = sum(row["sum"] for row in by_type)
    purchase = next((row for row in by_type if row["type"] == "purchase"), None)
    users = list(by_user.items())
    top_by_value = sorted(users, key=lambda item: (-item[1].sum, item[0]))[:top]
    top_by_count = sorted(users, key=lambda item: (-item[1].count, item[0]))[:top]
    return {
        "window": window.to_json(),
        "filters": {"types": list(flt.types), "userId": flt.user_id},
        "totals": {
            "count": total_count,
            "sum": total_sum,
            "avgTicket": total_sum / total_count if total_count else None,
            "purchaseAvgTicket": purchase["avg"] if purchase else None,
            "activeUsers": len(by_user),
        },
        "byType": by_type,
        "topUsersByValue": [_row("userId", key, total) for key, total in top_by_value],
        "topUsersByCount": [_row("userId", key, total) for key, total in top_by_count],
    }


def summary_cached(
    *,
    cache_key_parts: tuple[Any, ...],
    window: Window,
    top: int,
    now: datetime | None = None,
    event_filter: EventFilter | None = None,
) -> dict[str, Any]:
    """``summary_compute`` com cache de ``SUMMARY_CACHE_SECONDS`` (local ou Redis).

    A chave usa os parâmetros como pedidos (ex.: ``range=24h``), não os instantes,
    para que pedidos seguidos da mesma janela móvel acertem o cache; o resultado diz
    a janela exata que cobre e quando foi calculado.
    """
    key = "summary:" + ":".join(str(part) for part in cache_key_parts)
    cached = _cache_get(key)
    if cached is not None:
        return dict(cached, cached=True)
    result = summary_compute(window=window, top=top, now=now, event_filter=event_filter)
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


def series_interval(window: Window, max_points: int = MAX_SERIES_POINTS) -> timedelta:
    """A menor largura de ponto com no máximo ``max_points`` pontos na janela."""
    for interval in SERIES_INTERVALS:
        first = buckets.floor_to(window.start, interval)
        if (window.end - first) / interval <= max_points:
            return interval
    return SERIES_INTERVALS[-1]


def timeseries_compute(
    *,
    window: Window,
    now: datetime | None = None,
    event_filter: EventFilter | None = None,
    max_points: int = MAX_SERIES_POINTS,
) -> dict[str, Any]:
    """Contagem/soma por intervalo e por tipo, exatas: cada ponto cobre ``[t, t+intervalo) ∩ janela``.

    Os pontos se alinham a múltiplos do intervalo (na época Unix); o primeiro e o último
    são recortados pela janela (``from``/``to`` de cada ponto dizem o que cobrem), de modo
    que a soma dos pontos é o total do resumo da mesma janela.
    """
    now = now or datetime.now(UTC)
    flt = event_filter or EventFilter()
    store = get_store()
    interval = series_interval(window, max_points)
    points: dict[datetime, dict[str, Any]] = {}
    moment = buckets.floor_to(window.start, interval)
    while moment < window.end:
        span = Window(max(moment, window.start), min(moment + interval, window.end))
        points[moment] = {"t": isoformat(moment), **span.to_json(), "count": 0, "sum": 0.0, "byType": {}}
        moment += interval

    def add(slot: datetime, event_type: str, count: int, value: float) -> None:
        point = points[buckets.floor_to(slot, interval)]
        point["count"] += count
        point["sum"] += value
        point["byType"][event_type] = point["byType"].get(event_type, 0) + count

    for segment in buckets.decompose(window, now=now, max_step=interval):
        if segment.level is not None:
            for bucket_row in store.series(segment, event_filter=flt):
                add(bucket_row["bucket"], bucket_row["type"], bucket_row["count"], bucket_row["sum"])
            continue
        for piece in _split(segment, interval):
            for group_row in store.group(piece, by="type", event_filter=flt):
                add(piece.start, group_row["key"], group_row["count"], group_row["sum"])
    for point in points.values():
        point["byType"] = {name: count for name, count in point["byType"].items() if count}
    return {"window": window.to_json(), "interval": int(interval.total_seconds()), "points": list(points.values())}


def _split(segment: Segment, interval: timedelta) -> list[Segment]:
    """Corta um segmento bruto nas bordas dos pontos da série (cada pedaço cabe num ponto)."""
    pieces: list[Segment] = []
    start = segment.start
    while start < segment.end:
        end = min(buckets.floor_to(start, interval) + interval, segment.end)
        pieces.append(Segment(start, end))
        start = end
    return pieces


# --- administração (telas do admin sobre o MongoDB) ----------------------------------


def event_document_get(*, event_id: str) -> dict[str, Any] | None:
    """Documento completo do evento (inclui ``seq`` e a chave de idempotência)."""
    oid = parse_event_id(event_id)
    return get_store().get_event(oid) if oid is not None else None


def event_type_counts(*, window: Window, now: datetime | None = None) -> list[dict[str, Any]]:
    """Tipos com eventos na janela e suas contagens: ``[{type, count}]``, por nome."""
    totals = window_group(window=window, event_filter=EventFilter(), by="type", now=now or datetime.now(UTC))
    return [{"type": key, "count": totals[key].count} for key in sorted(totals)]


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
