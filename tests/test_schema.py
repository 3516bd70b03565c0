"""OpenAPI: o esquema gera sem avisos, valida, e documenta cada rota pública com segurança e erros."""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/auth/register", "post"): "auth_register",
    ("/api/auth/login", "post"): "auth_login",
    ("/api/auth/refresh", "post"): "auth_refresh",
    ("/api/auth/logout", "post"): "auth_logout",
    ("/api/auth/me", "get"): "auth_me",
    ("/api/auth/password", "post"): "auth_password",
    ("/api/auth/logout-all", "post"): "auth_logout_all",
    ("/api/events", "get"): "events_list",
    ("/api/events/summary", "get"): "events_summary",
    ("/api/events/timeseries", "get"): "events_timeseries",
    ("/api/events/{event_id}", "get"): "events_retrieve",
    ("/api/events/{event_id}", "delete"): "events_destroy",
    ("/api/webhook/event", "post"): "webhook_event",
    ("/api/alert-rules", "get"): "alert_rules_list",
    ("/api/alert-rules", "post"): "alert_rules_create",
    ("/api/alert-rules/{id}", "get"): "alert_rules_retrieve",
    ("/api/alert-rules/{id}", "patch"): "alert_rules_partial_update",
    ("/api/alert-rules/{id}", "delete"): "alert_rules_destroy",
    ("/api/alerts", "get"): "alerts_list",
    ("/api/alerts/{alert_id}", "get"): "alerts_retrieve",
    ("/api/alerts/{alert_id}/ack", "post"): "alerts_ack",
}
PUBLIC = {"auth_login", "auth_refresh", "auth_logout", "webhook_event"}


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any) -> dict[str, Any]:
    target = Path(tmp_path_factory.mktemp("schema")) / "schema.yaml"
    with django_db_blocker.unblock():
        # --fail-on-warn: qualquer aviso do drf-spectacular derruba o teste; --validate: OpenAPI 3.0 válido.
        call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(target))
    loaded: dict[str, Any] = yaml.safe_load(target.read_text())
    return loaded


def _operation(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    operation: dict[str, Any] = schema["paths"][path][method]
    return operation


def test_every_public_route_is_documented_once_without_trailing_slash(schema: dict[str, Any]) -> None:
    documented = {
        (path, method): operation["operationId"]
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    }

    assert {key: documented.get(key) for key in OPERATIONS} == OPERATIONS
    assert not [path for path in schema["paths"] if path.endswith("/")]


@pytest.mark.parametrize(("path", "method"), list(OPERATIONS))
def test_protected_operations_declare_jwt_and_session_and_their_errors(
    schema: dict[str, Any], path: str, method: str
) -> None:
    operation = _operation(schema, path, method)
    responses = operation["responses"]

    if operation["operationId"] in PUBLIC:
        assert operation.get("security") in (None, [], [{}])
    else:
        assert {"jwtAuth": []} in operation["security"]
        assert {"cookieAuth": []} in operation["security"]
        assert "401" in responses
    assert "429" in responses
    errors = [code for code in responses if code.startswith(("4", "5"))]
    assert errors
    for code in errors:
        assert responses[code]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_security_schemes_are_bearer_jwt_and_session_cookie(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]

    assert schemes["jwtAuth"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["cookieAuth"]["in"] == "cookie"


def test_list_parameters_are_documented_with_their_bounds(schema: dict[str, Any]) -> None:
    params = {param["name"]: param for param in _operation(schema, "/api/events", "get")["parameters"]}

    assert set(params) == {"page", "limit", "sort", "type", "userId", "from", "to", "range", "cursor"}
    assert params["limit"]["schema"]["maximum"] == 500
    assert params["limit"]["schema"]["default"] == 50
    assert params["sort"]["schema"]["enum"] == ["-timestamp", "timestamp", "-value", "value"]
    assert params["from"]["schema"]["format"] == "date-time"


def test_webhook_documents_signature_headers_and_the_pydantic_body(schema: dict[str, Any]) -> None:
    operation = _operation(schema, "/api/webhook/event", "post")
    headers = {param["name"]: param for param in operation["parameters"] if param["in"] == "header"}
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]

    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(headers)
    assert all(headers[name]["required"] for name in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    assert body["required"] == ["userId", "type", "value"]
    assert body["additionalProperties"] is False
    assert body["properties"]["timestamp"]["nullable"] is True
    assert {"201", "200", "400", "401", "409", "413", "429", "503"} <= set(operation["responses"])


def test_summary_response_schema_names_the_cache_fields(schema: dict[str, Any]) -> None:
    ref = _operation(schema, "/api/events/summary", "get")["responses"]["200"]["content"]["application/json"]
    summary = schema["components"]["schemas"][ref["schema"]["$ref"].rsplit("/", 1)[-1]]

    assert {"cached", "computedAt", "byType", "topUsersByValue", "topUsersByCount", "totals"} <= set(
        summary["properties"]
    )


def test_no_user_schema_exposes_a_password(schema: dict[str, Any]) -> None:
    for name, component in schema["components"]["schemas"].items():
        if not name.endswith("Request"):
            assert "password" not in component.get("properties", {}), name


def test_schema_endpoint_is_served() -> None:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == HTTPStatus.OK
    assert "/api/events" in response.json()["paths"]


def test_swagger_ui_is_served_offline_from_the_sidecar() -> None:
    response = APIClient().get("/api/docs/")
    html = response.content.decode()

    assert response.status_code == HTTPStatus.OK
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn." not in html
    assert "unpkg" not in html
    assert (
        APIClient().get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code
        == HTTPStatus.OK
    )
