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
from events.selectors import summary_compute
from events.windows import Window
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


def fingerprint_compute(digest: dict[str, Any], *parts: Any) -> str:
    """Impressão digital dos números (o ``digest``) e do contexto (modelo, prompt…)."""
    canonical = json.dumps([digest, *parts], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def insight_input(*, window: Window, range_name: str | None, top: int, now: datetime) -> InsightInput:
    """Resumo exato da janela pedida e do período anterior (mesma duração, terminando onde ela começa)."""
    current = summary_compute(window=window, top=top, now=now)
    previous = summary_compute(window=window.previous(), top=top, now=now)
    digest = digest_build(
        current=current,
        previous=previous,
        span=window.span,
        range_name=range_name,
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
