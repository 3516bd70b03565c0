"""Caminho feliz: o SDK real chama a OpenAI (simulada), o texto passa na
verificação, o custo vai para o livro-caixa, o log e as métricas."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from http import HTTPStatus

import httpx
import pytest
from prometheus_client import REGISTRY

from insights.models import InsightCall
from insights.openai_client import SYSTEM_PROMPT
from tests.insights.conftest import ANSWERED_MODEL, GOOD_DRAFT, MODEL, NOW, completion_body, reply, sent_bodies

pytestmark = pytest.mark.django_db


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_openai_insight_records_usage_cost_log_and_metrics(api, analyst, seeded, openai_mock, caplog):
    route = openai_mock.post("/chat/completions").mock(
        return_value=reply(GOOD_DRAFT, prompt_tokens=1200, completion_tokens=300, cached_tokens=200)
    )
    calls_before = _metric("trader_monitor_insight_calls_total", source="openai", outcome="ok")
    cost_before = _metric("trader_monitor_insight_cost_usd_total")

    with caplog.at_level(logging.INFO, logger="insights"):
        response = api.get("/api/insights?range=24h")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["source"] == "openai"
    assert body["model"] == ANSWERED_MODEL
    assert body["text"] == "\n".join([GOOD_DRAFT["summary"], *(f"• {item}" for item in GOOD_DRAFT["highlights"])])
    assert body["numbersVerified"] is True
    assert body["unverifiedNumbers"] == []
    assert body["fallbackReason"] is None
    assert body["cached"] is False
    assert body["generatedAt"] == "2026-11-29T15:37:12.000Z"
    # gpt-5.4-mini: (1000 × 0,75 + 200 × 0,075 + 300 × 4,50) / 1M = 0,002115
    assert body["usage"] == {"inputTokens": 1200, "cachedInputTokens": 200, "outputTokens": 300, "costUsd": 0.002115}
    assert body["current"]["totals"]["count"] == 7
    assert body["previous"]["totals"]["count"] == 4
    # O período anterior são as 24 h exatas que terminam onde a janela atual começa.
    assert body["previous"]["window"] == {"from": "2026-11-27T15:37:12.000Z", "to": "2026-11-28T15:37:12.000Z"}
    assert body["current"]["window"] == {"from": "2026-11-28T15:37:12.000Z", "to": "2026-11-29T15:37:12.000Z"}
    assert body["comparison"]["totals"]["count"] == {"current": 7, "previous": 4, "diff": 3, "changePct": 75.0}

    (call,) = InsightCall.objects.all()
    assert call.user == analyst
    assert call.outcome == InsightCall.Outcome.OK
    assert (call.input_tokens, call.cached_input_tokens, call.output_tokens) == (1200, 200, 300)
    assert call.cost_usd == Decimal("0.00211500")
    assert call.model == ANSWERED_MODEL
    assert call.range_label == "range=24h"
    assert call.request_id == "req_test_123"
    assert (call.window_start, call.window_end) == (NOW.replace(day=28), NOW)

    assert _metric("trader_monitor_insight_calls_total", source="openai", outcome="ok") == calls_before + 1
    assert _metric("trader_monitor_insight_cost_usd_total") == pytest.approx(cost_before + 0.002115)

    (line,) = [record for record in caplog.records if hasattr(record, "insight_call")]
    assert line.insight_call == {
        "outcome": "ok",
        "model": ANSWERED_MODEL,
        "inputTokens": 1200,
        "cachedInputTokens": 200,
        "outputTokens": 300,
        "costUsd": "0.00211500",
        "latencyMs": line.insight_call["latencyMs"],
        "userId": analyst.pk,
        "range": "range=24h",
        "providerRequestId": "req_test_123",
        "ledgerId": call.pk,
    }
    assert route.call_count == 1


def test_request_uses_structured_output_and_sends_only_the_digest_as_data(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))

    body = api.get("/api/insights").json()

    (sent,) = sent_bodies(route)
    assert route.calls[0].request.headers["authorization"] == "Bearer sk-test-key"
    assert sent["model"] == MODEL
    assert sent["max_completion_tokens"] == 1500
    assert sent["reasoning_effort"] == "low"
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["strict"] is True
    schema = sent["response_format"]["json_schema"]["schema"]
    assert schema["required"] == ["summary", "highlights"]
    assert schema["additionalProperties"] is False
    system, user = sent["messages"]
    assert system == {"role": "system", "content": SYSTEM_PROMPT}
    assert user["role"] == "user"
    assert json.loads(user["content"]) == body["comparison"]


def test_output_that_breaks_the_schema_falls_back_to_offline_and_is_still_charged(api, seeded, openai_mock):
    openai_mock.post("/chat/completions").mock(
        return_value=reply({"summary": "ok", "highlights": ["x"], "extra": "campo fora do esquema"})
    )

    body = api.get("/api/insights").json()

    assert body["source"] == "offline"
    assert body["fallbackReason"] == "invalid_output"
    assert body["usage"]["costUsd"] > 0
    (call,) = InsightCall.objects.all()
    assert call.outcome == InsightCall.Outcome.INVALID_OUTPUT
    assert call.cost_usd > 0


def test_truncated_output_is_invalid(api, seeded, openai_mock):
    openai_mock.post("/chat/completions").mock(return_value=reply('{"summary": "Nas últ', finish_reason="length"))

    body = api.get("/api/insights").json()

    assert (body["source"], body["fallbackReason"]) == ("offline", "invalid_output")
    assert InsightCall.objects.get().outcome == InsightCall.Outcome.INVALID_OUTPUT


def test_model_text_is_treated_as_untrusted_plain_text(api, seeded, openai_mock):
    openai_mock.post("/chat/completions").mock(
        return_value=reply(
            {
                "summary": "Foram 7 eventos\n\nnas últimas\u202e 24 horas.\u200b",
                "highlights": ["  <b>u-3</b>\tlidera  ", ""],
            }
        )
    )

    body = api.get("/api/insights").json()

    assert body["source"] == "openai"
    assert body["summary"] == "Foram 7 eventos nas últimas 24 horas."
    # marcação não é interpretada aqui: vai como texto, e o painel escapa ao exibir
    assert body["highlights"] == ["<b>u-3</b> lidera"]
    assert body["text"] == "Foram 7 eventos nas últimas 24 horas.\n• <b>u-3</b> lidera"


def test_refusal_is_invalid_output(api, seeded, openai_mock):
    payload = completion_body("", finish_reason="stop")
    payload["choices"][0]["message"] = {"role": "assistant", "content": None, "refusal": "Não posso ajudar."}
    openai_mock.post("/chat/completions").mock(return_value=httpx.Response(200, json=payload))

    body = api.get("/api/insights").json()

    assert (body["source"], body["fallbackReason"]) == ("offline", "invalid_output")
