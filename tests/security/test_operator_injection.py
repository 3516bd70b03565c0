"""Operadores do MongoDB nos filtros: recusados com 400 em toda rota de leitura.

Os parâmetros de consulta chegam como texto, passam por serializers estritos (nomes
desconhecidos ou repetidos → 400) e só valores validados chegam ao armazenamento; aqui
se prova isso rota a rota, com as formas clássicas de injeção NoSQL.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from tests.accounts.factories import bearer_client, make_user
from tests.conftest import Signer, event_body

pytestmark = pytest.mark.django_db

GET_ROUTES = ["/api/events", "/api/events/summary", "/api/events/timeseries", "/api/insights"]
OPERATOR = '{"$gt": ""}'
# (consulta crua, parâmetro que a resposta deve nomear)
QUERIES = [
    ("type[$ne]=x", "type[$ne]"),
    ("userId[$gt]=", "userId[$gt]"),
    ("userId[$regex]=.*", "userId[$regex]"),
    ("$where=1", "$where"),
    ("$where=function(){return true}", "$where"),
    ("userId[$where]=sleep(1000)", "userId[$where]"),
    ("range[$gt]=", "range[$gt]"),
    ("from[$gte]=2020-01-01T00:00:00Z", "from[$gte]"),
    ("top[$gt]=0", "top[$gt]"),
    (f"type={quote(OPERATOR)}", "type"),
    (f"userId={quote(OPERATOR)}", "userId"),
    (f"range={quote(OPERATOR)}", "range"),
    (f"from={quote(OPERATOR)}", "from"),
    (f"to={quote(OPERATOR)}", "to"),
    ("type=$ne", "type"),
    ("userId=$where", "userId"),
    ("range=$gt", "range"),
]
# Corpos JSON do POST /api/insights: objetos onde se espera texto/número.
BODIES = [
    ({"range": {"$gt": ""}}, "range"),
    ({"from": {"$gte": "2020-01-01T00:00:00Z"}}, "from"),
    ({"to": {"$lt": "2030-01-01T00:00:00Z"}}, "to"),
    ({"top": {"$gt": 0}}, "top"),
    ({"$where": "1"}, "$where"),
    ({"userId": {"$ne": None}}, "userId"),
    ({"range": OPERATOR}, "range"),
]


@pytest.fixture
def api() -> APIClient:
    return bearer_client(make_user())


def _rejected(response: Any) -> dict[str, Any]:
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    body: dict[str, Any] = response.json()
    assert body["error"] == "invalid_request"
    return body


@pytest.mark.parametrize("route", GET_ROUTES)
@pytest.mark.parametrize(("query", "named"), QUERIES)
def test_operator_payloads_in_query_strings_get_400_naming_the_parameter(
    api: APIClient, route: str, query: str, named: str
) -> None:
    body = _rejected(api.get(f"{route}?{query}"))

    # A rota nomeia o parâmetro culpado (desconhecido nesta rota, ou com valor inválido).
    assert named in body["fields"]


@pytest.mark.parametrize(("query", "named"), QUERIES)
def test_operator_payloads_in_the_insight_post_query_get_400(api: APIClient, query: str, named: str) -> None:
    body = _rejected(api.post(f"/api/insights?{query}", {}, format="json"))

    assert named in body["fields"]


@pytest.mark.parametrize(("payload", "named"), BODIES)
def test_operator_objects_in_the_insight_post_body_get_400(api: APIClient, payload: Any, named: str) -> None:
    body = _rejected(api.post("/api/insights", payload, format="json"))

    assert named in body["fields"]


@pytest.mark.parametrize("payload", [[{"$where": "1"}], "range=24h", 42, None])
def test_an_insight_post_body_that_is_not_an_object_gets_400(api: APIClient, payload: Any) -> None:
    response = api.post("/api/insights", json.dumps(payload), content_type="application/json")

    assert _rejected(response)["fields"] == {"body": ["O corpo deve ser um objeto JSON."]}


@pytest.mark.parametrize("field", ["userId", "type"])
@pytest.mark.parametrize("value", ["$where", '{"$gt": ""}', "[1]"])
def test_operator_like_ids_and_types_are_refused_at_ingestion(
    client: Any, sign: Signer, field: str, value: str
) -> None:
    # Nada guardado pode ter cara de operador: os filtros acima nunca deixam de achar um evento.
    body = event_body(**{field: value})

    response = client.post("/api/webhook/event", body, content_type="application/json", **_meta(sign(body)))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert list(response.json()["fields"]) == [field]


def test_the_same_filter_values_still_work_when_they_are_plain(api: APIClient, sign: Signer, client: Any) -> None:
    body = event_body(userId="u-$1", type="buy{1}")
    client.post("/api/webhook/event", body, content_type="application/json", **_meta(sign(body)))

    response = api.get("/api/events", {"userId": "u-$1", "type": "buy{1}"})

    assert response.status_code == HTTPStatus.OK
    assert response.json()["total"] == 1


def _meta(headers: dict[str, str]) -> dict[str, str]:
    return {
        f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items() if name != "content-type"
    }
