"""Leituras do app de insights: agregações comparadas e gasto do dia."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Sum
from django.utils import timezone

from accounts.models import User
from events import buckets
from events.buckets import Family, Window
from events.selectors import summary_compute
from insights.digest import digest_build
from insights.models import InsightCall

PAID_MODEL_PERMISSION = "insights.use_paid_model"


def insight_paid_model_allowed(*, user: AbstractBaseUser | AnonymousUser | None) -> bool:
    """O usuário pode disparar chamadas pagas ao modelo? Equipe (``is_staff``) ou a permissão.

    ``has_perm`` já cobre superusuário, grupos e conta inativa (nunca).
    """
    if not isinstance(user, User) or not user.is_active:
        return False
    return user.is_staff or user.has_perm(PAID_MODEL_PERMISSION)


@dataclass(frozen=True)
class InsightInput:
    """O que alimenta um insight: os dois resumos e o ``digest`` derivado."""

    current: dict[str, Any]
    previous: dict[str, Any]
    digest: dict[str, Any]
    fingerprint: str


def previous_window(*, window: Window, now: datetime) -> Window:
    """Janela anterior de mesma duração, terminando onde a atual começa.

    O resumo arredonda janelas para fora até os baldes do nível usado (tipos:
    minuto/hora; usuários: hora/dia). Para que o período anterior não se sobreponha
    ao atual em nenhuma das duas famílias, e seja um só período para todas as
    métricas, o fim é alinhado para baixo ao maior balde que a janela anterior usa.
    O preço é um intervalo sem cobertura entre os dois períodos (menor que um
    balde); as janelas efetivas vão na resposta.
    """
    span = window.end - window.start
    end = window.start
    for _ in range(4):
        step = max(buckets.plan(family, end - span, end, now)[0].step for family in Family)
        aligned = buckets.floor_to(end, step)
        if aligned == end:
            break
        end = aligned
    return Window(end - span, end)


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _span(window: dict[str, str]) -> timedelta:
    return _parse(window["to"]) - _parse(window["from"])


def _users_comparable(current: dict[str, Any], previous: dict[str, Any]) -> bool:
    """Usuários vêm em baldes de hora/dia: só se comparam janelas disjuntas e de
    duração efetiva parecida (±25%) — em janelas curtas o balde de hora distorce."""
    now_window, before_window = current["usersWindow"], previous["usersWindow"]
    if _parse(before_window["to"]) > _parse(now_window["from"]):
        return False
    ratio = _span(now_window) / _span(before_window)
    return 0.8 <= ratio <= 1.25


def fingerprint_compute(digest: dict[str, Any], *parts: Any) -> str:
    """Impressão digital dos números (o ``digest``) e do contexto (modelo, prompt…)."""
    canonical = json.dumps([digest, *parts], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def insight_input(*, window: Window, range_name: str | None, top: int, now: datetime) -> InsightInput:
    """Resumo da janela pedida e da anterior de mesma duração, mais a comparação."""
    current = summary_compute(window=window, top=top, now=now)
    previous = summary_compute(window=previous_window(window=window, now=now), top=top, now=now)
    digest = digest_build(
        current=current,
        previous=previous,
        span=window.end - window.start,
        range_name=range_name,
        users_comparable=_users_comparable(current, previous),
    )
    return InsightInput(current, previous, digest, fingerprint_compute(digest))


def day_start(now: datetime) -> datetime:
    """Meia-noite de hoje no fuso do projeto (``TIME_ZONE``)."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def seconds_until_tomorrow(now: datetime) -> int:
    tomorrow = timezone.make_aware(
        datetime.combine(timezone.localtime(now).date() + timedelta(days=1), datetime.min.time())
    )
    return max(1, int((tomorrow - now).total_seconds()))


def ledger_spent_today(*, now: datetime) -> Decimal:
    """Soma do custo das chamadas de hoje (fuso do projeto)."""
    total = InsightCall.objects.filter(created_at__gte=day_start(now)).aggregate(total=Sum("cost_usd"))["total"]
    return total if total is not None else Decimal(0)
