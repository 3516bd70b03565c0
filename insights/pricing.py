"""Custo em USD de uma chamada, pela tabela ``INSIGHT_PRICES`` (USD por 1M tokens)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings

_MILLION = Decimal(1_000_000)
COST_PLACES = Decimal("0.00000001")


def price_for(model: str) -> dict[str, float]:
    """Preço do modelo: nome exato, senão o prefixo mais longo da tabela
    (``gpt-5.4-mini-2026-03-17`` usa ``gpt-5.4-mini``), senão ``*``."""
    prices: dict[str, dict[str, float]] = settings.INSIGHT_PRICES
    if model in prices:
        return prices[model]
    prefixes = [name for name in prices if name != "*" and model.startswith(name + "-")]
    if prefixes:
        return prices[max(prefixes, key=len)]
    return prices["*"]


def cost_usd(*, model: str, input_tokens: int, cached_input_tokens: int, output_tokens: int) -> Decimal:
    """Entrada não-cacheada + entrada cacheada (preço próprio, se houver) + saída."""
    price = price_for(model)
    cached = min(max(cached_input_tokens, 0), input_tokens)
    input_price = Decimal(str(price["input"]))
    cached_price = Decimal(str(price.get("cachedInput", price["input"])))
    output_price = Decimal(str(price["output"]))
    total = (input_tokens - cached) * input_price + cached * cached_price + output_tokens * output_price
    return (total / _MILLION).quantize(COST_PLACES)
