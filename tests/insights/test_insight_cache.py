"""Cache por (janela pedida, números das agregações): repetir não chama o modelo;
dados novos ou ``POST {"refresh": true}`` chamam de novo."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

import pytest
from prometheus_client import REGISTRY

from insights.models import InsightCall
from tests.insights.conftest import GOOD_DRAFT, reply, seed_events

pytestmark = pytest.mark.django_db


def test_same_window_and_numbers_hit_the_cache(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))
    hits_before = (
        REGISTRY.get_sample_value("trader_monitor_insight_calls_total", {"source": "openai", "outcome": "cached"})
        or 0.0
    )

    first = api.get("/api/insights?range=24h").json()
    second = api.get("/api/insights?range=24h").json()

    assert route.call_count == 1
    assert InsightCall.objects.count() == 1
    assert (first["cached"], second["cached"]) == (False, True)
    assert second["text"] == first["text"]
    assert second["generatedAt"] == first["generatedAt"]
    assert second["usage"] == first["usage"]  # o custo mostrado é o da geração original
    assert second["current"] == first["current"]
    assert (
        REGISTRY.get_sample_value("trader_monitor_insight_calls_total", {"source": "openai", "outcome": "cached"})
        == hits_before + 1
    )


def test_new_numbers_miss_the_cache(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))

    api.get("/api/insights?range=24h")
    seed_events(seeded, [(timedelta(minutes=10), "u-4", "purchase", 42.0)])
    body = api.get("/api/insights?range=24h").json()

    assert route.call_count == 2
    assert body["cached"] is False
    assert body["current"]["totals"]["count"] == 8


def test_other_window_misses_the_cache(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))

    api.get("/api/insights?range=24h")
    api.get("/api/insights?range=7d")

    assert route.call_count == 2


def test_post_refresh_skips_the_cache_and_get_refresh_is_refused(api, seeded, openai_mock):
    route = openai_mock.post("/chat/completions").mock(return_value=reply(GOOD_DRAFT))

    api.get("/api/insights")
    cached = api.post("/api/insights", {}, format="json").json()
    fresh = api.post("/api/insights", {"range": "24h", "refresh": True}, format="json").json()
    refused = api.get("/api/insights?refresh=true")

    assert cached["cached"] is True
    assert fresh["cached"] is False
    assert route.call_count == 2
    assert refused.status_code == HTTPStatus.BAD_REQUEST
    assert refused.json()["fields"] == {"refresh": ["Use POST para forçar um insight novo."]}


def test_transient_failures_are_not_cached(api, seeded, openai_mock):
    import httpx

    route = openai_mock.post("/chat/completions").mock(
        side_effect=[httpx.Response(500), httpx.Response(500), reply(GOOD_DRAFT)]
    )

    first = api.get("/api/insights").json()
    second = api.get("/api/insights").json()

    assert (first["source"], second["source"]) == ("offline", "openai")
    assert route.call_count == 3
