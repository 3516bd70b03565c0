"""O contrato publicado (drf-spectacular) para quem consome o endpoint (o painel)."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_openapi_documents_the_insight_response():
    response = APIClient().get("/api/schema/?format=json")

    assert response.status_code == HTTPStatus.OK
    schema = response.json()
    # A rota aceita as duas formas (regex ``/?$``); o gancho de contrato do
    # projeto publica a forma sem barra quando presente.
    (path,) = [schema["paths"][name] for name in ("/api/insights", "/api/insights/") if name in schema["paths"]]
    assert set(path) == {"get", "post"}
    assert {p["name"] for p in path["get"]["parameters"]} >= {"range", "from", "to", "top"}
    assert set(path["get"]["responses"]) == {"200", "400", "401", "429", "503"}
    output = schema["components"]["schemas"]["InsightOutput"]
    assert set(output["required"]) >= {
        "text",
        "source",
        "model",
        "usage",
        "cached",
        "generatedAt",
        "numbersVerified",
        "fallbackReason",
        "current",
        "previous",
    }
    usage = schema["components"]["schemas"]["UsageOutput"]["properties"]
    assert set(usage) == {"inputTokens", "cachedInputTokens", "outputTokens", "costUsd"}
    assert output["properties"]["source"]["$ref"].endswith("SourceEnum")
