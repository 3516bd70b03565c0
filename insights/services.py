"""Geração de insights: cache, orçamento, limite por usuário, modelo, livro-caixa.

Fluxo de ``insight_generate``:

1. agregações da janela e da anterior (``insight_input``) → ``digest`` + impressão digital;
2. cache (``INSIGHT_CACHE_SECONDS``) por (parâmetros da janela, impressão digital,
   modelo, política) — ``refresh`` pula a leitura;
3. sem ``OPENAI_API_KEY`` → motor offline; quem não é da equipe nem tem a permissão
   ``insights.use_paid_model`` → motor offline (``not_permitted``);
4. orçamento do dia (``INSIGHT_DAILY_BUDGET_USD``, pior caso da próxima chamada
   incluído) e limite por usuário (``INSIGHT_RATE_LIMIT``) → offline ou 429;
5. chamada ao modelo → linha de log + registro no livro-caixa + métricas;
6. falha (timeout, 429, 5xx, conexão, saída inválida) → offline ou 503;
7. verificação de números → aceito, marcado (``flag``) ou rejeitado (``reject`` → offline).

Só resultados de chamadas concluídas (cobradas) vão ao cache: repetir a mesma
pergunta custaria de novo; falhas transitórias não ficam presas no cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django_ratelimit.core import get_usage

from events.windows import Window, isoformat
from insights.models import InsightCall
from insights.numbers import NumberCheck, allowed_numbers, numbers_check
from insights.offline import ENGINE_VERSION, offline_narrative
from insights.openai_client import (
    PROMPT_VERSION,
    Completion,
    ModelCallError,
    Usage,
    insight_complete,
    messages_build,
)
from insights.pricing import cost_usd
from insights.selectors import (
    InsightInput,
    insight_input,
    insight_paid_model_allowed,
    ledger_spent_today,
    seconds_until_tomorrow,
)
from trader_monitor import metrics

logger = logging.getLogger("insights")

# Estimativa conservadora de tokens de entrada para o pior caso do orçamento.
_CHARS_PER_TOKEN = 2


class InsightError(Exception):
    """Pedido que não pode ser atendido; ``retry_after`` em segundos."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class InsightBudgetExhausted(InsightError):
    pass


class InsightRateLimited(InsightError):
    pass


class InsightUnavailable(InsightError):
    pass


@dataclass(frozen=True)
class InsightParams:
    window: Window
    range_name: str | None
    range_label: str
    top: int
    refresh: bool = False


@dataclass(frozen=True)
class _Attempt:
    """Uso e custo de uma chamada concluída (mesmo que o texto seja descartado)."""

    usage: Usage
    cost: Decimal


_NO_ATTEMPT = _Attempt(Usage(), Decimal(0))


def insight_text(summary: str, highlights: tuple[str, ...] | list[str]) -> str:
    """Texto simples: resumo e, abaixo, um destaque por linha."""
    return "\n".join([summary, *(f"• {item}" for item in highlights)])


def _cache_key(params: InsightParams, fingerprint: str) -> str:
    parts = [
        params.range_label,
        params.top,
        fingerprint,
        settings.OPENAI_MODEL,
        settings.INSIGHT_NUMBER_POLICY,
        ENGINE_VERSION,
    ]
    digest = hashlib.sha256("|".join(str(part) for part in parts).encode()).hexdigest()
    return f"insight:{PROMPT_VERSION}:{digest}"


def _cache_get(key: str) -> dict[str, Any] | None:
    try:
        value = cache.get(key)
    except Exception:  # cache fora do ar: gera sem cache
        logger.warning("cache de insights indisponível na leitura")
        return None
    return value if isinstance(value, dict) else None


def _cache_set(key: str, value: dict[str, Any]) -> None:
    with contextlib.suppress(Exception):
        cache.set(key, value, settings.INSIGHT_CACHE_SECONDS)


def _user_id(user: AbstractBaseUser | AnonymousUser | None) -> int | None:
    return user.pk if user is not None and user.is_authenticated else None


ModelQuota = Callable[[], int | None]


def model_quota_for(request: HttpRequest) -> ModelQuota:
    """Cota de chamadas ao modelo de quem fez a requisição (``INSIGHT_RATE_LIMIT``, por usuário).

    Devolve uma função para o serviço chamar só quando um modelo pago vai de fato ser
    chamado: acertos de cache e o motor offline não gastam cota. Ela conta esta chamada e
    devolve os segundos até liberar, ou ``None`` se está dentro do limite.
    """

    def wait() -> int | None:
        return _rate_limit_wait(request)

    return wait


def _rate_limit_wait(request: HttpRequest) -> int | None:
    rate = settings.INSIGHT_RATE_LIMIT
    if not rate:
        return None
    try:
        usage = get_usage(request, group="insights", key="user", rate=rate, increment=True)
    except Exception:
        # O orçamento diário (no banco) continua valendo; o limite é uma camada a mais.
        logger.warning("limite por usuário dos insights indisponível (cache fora do ar); seguindo sem ele")
        return None
    if usage and usage["should_limit"]:
        return max(1, int(usage["time_left"]))
    return None


def _worst_case_cost(digest: dict[str, Any], model: str) -> Decimal:
    chars = sum(len(str(message["content"])) for message in messages_build(digest))
    return cost_usd(
        model=model,
        input_tokens=chars // _CHARS_PER_TOKEN + 1,
        cached_input_tokens=0,
        output_tokens=settings.INSIGHT_MAX_OUTPUT_TOKENS,
    )


def _budget_allows(digest: dict[str, Any], model: str, now: datetime) -> bool:
    budget = Decimal(str(settings.INSIGHT_DAILY_BUDGET_USD))
    return ledger_spent_today(now=now) + _worst_case_cost(digest, model) <= budget


def _count(source: str, outcome: str) -> None:
    metrics.INSIGHT_CALLS.labels(source, outcome).inc()


def ledger_record(
    *,
    user_id: int | None,
    params: InsightParams,
    model: str,
    outcome: str,
    usage: Usage,
    cost: Decimal,
    latency_ms: int,
    fingerprint: str,
    request_id: str | None = None,
    error: str = "",
    unverified: tuple[str, ...] = (),
) -> InsightCall:
    """Persiste a chamada, escreve uma linha de log estruturada e move as métricas de custo."""
    call = InsightCall.objects.create(
        user_id=user_id,
        range_label=params.range_label[:120],
        window_start=params.window.start,
        window_end=params.window.end,
        model=model[:120],
        outcome=outcome,
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=cost,
        latency_ms=latency_ms,
        fingerprint=fingerprint,
        request_id=(request_id or "")[:120],
        error=error[:200],
        unverified_numbers=list(unverified),
    )
    if cost > 0:
        metrics.INSIGHT_COST.inc(float(cost))
    fields = {
        "outcome": outcome,
        "model": model,
        "inputTokens": usage.input_tokens,
        "cachedInputTokens": usage.cached_input_tokens,
        "outputTokens": usage.output_tokens,
        "costUsd": str(cost),
        "latencyMs": latency_ms,
        "userId": user_id,
        "range": params.range_label,
        "providerRequestId": request_id,
        "ledgerId": call.pk,
    }
    logger.info(
        "chamada ao modelo: %s",
        " ".join(f"{name}={value}" for name, value in fields.items()),
        extra={"insight_call": fields},
    )
    return call


def _payload(
    *,
    summary: str,
    highlights: tuple[str, ...] | list[str],
    source: str,
    model: str | None,
    attempt: _Attempt,
    check: NumberCheck,
    fallback_reason: str | None,
    generated_at: datetime,
) -> dict[str, Any]:
    return {
        "text": insight_text(summary, highlights),
        "summary": summary,
        "highlights": list(highlights),
        "source": source,
        "model": model,
        "usage": {
            "inputTokens": attempt.usage.input_tokens,
            "cachedInputTokens": attempt.usage.cached_input_tokens,
            "outputTokens": attempt.usage.output_tokens,
            "costUsd": float(attempt.cost),
        },
        "numbersVerified": check.verified,
        "unverifiedNumbers": list(check.unverified),
        "fallbackReason": fallback_reason,
        "generatedAt": isoformat(generated_at),
    }


def _offline(inp: InsightInput, reason: str, attempt: _Attempt, now: datetime) -> dict[str, Any]:
    narrative = offline_narrative(inp.digest)
    text = insight_text(narrative.summary, narrative.highlights)
    check = numbers_check(text, allowed_numbers(inp.digest))
    if not check.verified:  # seria um defeito do motor offline: registra alto
        logger.error("motor offline citou números fora dos dados: %s", ", ".join(check.unverified))
    _count("offline", reason)
    return _payload(
        summary=narrative.summary,
        highlights=narrative.highlights,
        source="offline",
        model=None,
        attempt=attempt,
        check=check,
        fallback_reason=reason,
        generated_at=now,
    )


def _fallback(inp: InsightInput, reason: str, attempt: _Attempt, now: datetime, error: InsightError) -> dict[str, Any]:
    if settings.INSIGHT_FALLBACK == "offline":
        return _offline(inp, reason, attempt, now)
    _count("error", reason)
    raise error


def _with_aggregates(result: dict[str, Any], inp: InsightInput, *, cached: bool) -> dict[str, Any]:
    return {**result, "cached": cached, "current": inp.current, "previous": inp.previous, "comparison": inp.digest}


def insight_generate(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    params: InsightParams,
    now: datetime | None = None,
    model_quota: ModelQuota | None = None,
) -> dict[str, Any]:
    """Insight da janela pedida (ver o fluxo no topo do módulo).

    Lança ``InsightBudgetExhausted``/``InsightRateLimited`` (429) ou
    ``InsightUnavailable`` (503) só com ``INSIGHT_FALLBACK=error``.
    """
    now = now or timezone.now()
    inp = insight_input(window=params.window, range_name=params.range_name, top=params.top, now=now)
    model = settings.OPENAI_MODEL
    key = _cache_key(params, inp.fingerprint)
    if not params.refresh:
        cached = _cache_get(key)
        if cached is not None:
            _count(cached["source"], "cached")
            return _with_aggregates(cached, inp, cached=True)

    if not settings.OPENAI_API_KEY:
        return _with_aggregates(_offline(inp, "no_api_key", _NO_ATTEMPT, now), inp, cached=False)

    if not insight_paid_model_allowed(user=user):
        # Não é falha transitória: mesmo com INSIGHT_FALLBACK=error, responde o motor offline.
        return _with_aggregates(_offline(inp, "not_permitted", _NO_ATTEMPT, now), inp, cached=False)

    if not _budget_allows(inp.digest, model, now):
        exhausted = InsightBudgetExhausted("budget_exhausted", seconds_until_tomorrow(now))
        return _with_aggregates(_fallback(inp, "budget_exhausted", _NO_ATTEMPT, now, exhausted), inp, cached=False)

    user_id = _user_id(user)
    wait = model_quota() if model_quota is not None else None
    if wait is not None:
        limited = InsightRateLimited("rate_limited", wait)
        return _with_aggregates(_fallback(inp, "rate_limited", _NO_ATTEMPT, now, limited), inp, cached=False)

    started = time.perf_counter()
    try:
        completion = insight_complete(digest=inp.digest, model=model)
    except ModelCallError as exc:
        latency_ms = int((time.perf_counter() - started) * 1000)
        answered = exc.model or model
        attempt = _Attempt(exc.usage, _cost(answered, exc.usage))
        ledger_record(
            user_id=user_id,
            params=params,
            model=answered,
            outcome=exc.kind,
            usage=exc.usage,
            cost=attempt.cost,
            latency_ms=latency_ms,
            fingerprint=inp.fingerprint,
            request_id=exc.request_id,
            error=str(exc),
        )
        retry_after = exc.retry_after or settings.INSIGHT_UNAVAILABLE_RETRY_AFTER
        unavailable = InsightUnavailable(exc.kind, retry_after)
        return _with_aggregates(_fallback(inp, exc.kind, attempt, now, unavailable), inp, cached=False)

    latency_ms = int((time.perf_counter() - started) * 1000)
    result = _accept(completion, inp, params, user_id, latency_ms, now)
    _cache_set(key, result)
    return _with_aggregates(result, inp, cached=False)


def _cost(model: str, usage: Usage) -> Decimal:
    return cost_usd(
        model=model,
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
    )


def _accept(
    completion: Completion,
    inp: InsightInput,
    params: InsightParams,
    user_id: int | None,
    latency_ms: int,
    now: datetime,
) -> dict[str, Any]:
    """Verifica os números do texto do modelo e aplica ``INSIGHT_NUMBER_POLICY``."""
    draft = completion.draft
    check = numbers_check(insight_text(draft.summary, draft.highlights), allowed_numbers(inp.digest))
    attempt = _Attempt(completion.usage, _cost(completion.model, completion.usage))
    if check.verified:
        outcome = InsightCall.Outcome.OK
    elif settings.INSIGHT_NUMBER_POLICY == "flag":
        outcome = InsightCall.Outcome.UNVERIFIED_NUMBERS
    else:
        outcome = InsightCall.Outcome.REJECTED_NUMBERS
    ledger_record(
        user_id=user_id,
        params=params,
        model=completion.model,
        outcome=outcome,
        usage=completion.usage,
        cost=attempt.cost,
        latency_ms=latency_ms,
        fingerprint=inp.fingerprint,
        request_id=completion.request_id,
        unverified=check.unverified,
    )
    if outcome == InsightCall.Outcome.REJECTED_NUMBERS:
        error = InsightUnavailable("unverified_numbers", settings.INSIGHT_UNAVAILABLE_RETRY_AFTER)
        return _fallback(inp, "unverified_numbers", attempt, now, error)
    _count("openai", outcome)
    return _payload(
        summary=draft.summary,
        highlights=draft.highlights,
        source="openai",
        model=completion.model,
        attempt=attempt,
        check=check,
        fallback_reason=None,
        generated_at=now,
    )


__all__ = [
    "InsightBudgetExhausted",
    "InsightError",
    "InsightParams",
    "InsightRateLimited",
    "InsightUnavailable",
    "insight_generate",
    "ledger_record",
]
