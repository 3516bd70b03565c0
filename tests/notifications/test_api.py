"""/api/notification-endpoints: só equipe; segredo no cadastro e no detalhe; entregas paginadas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from events.alerts.models import NotificationEndpoint
from events.store import EventStore

pytestmark = pytest.mark.django_db

BASE = "/api/notification-endpoints"
PUBLIC_URL = "https://93.184.215.14/hooks/trader-monitor"


@pytest.fixture
def endpoint() -> NotificationEndpoint:
    return NotificationEndpoint.objects.create(url=PUBLIC_URL, description="plantão")


def _calls(endpoint_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("get", BASE, None),
        ("post", BASE, {"url": PUBLIC_URL}),
        ("get", f"{BASE}/{endpoint_id}", None),
        ("patch", f"{BASE}/{endpoint_id}", {"enabled": False}),
        ("get", f"{BASE}/{endpoint_id}/deliveries", None),
        ("delete", f"{BASE}/{endpoint_id}", None),
    ]


def test_anonymous_users_get_401_and_analysts_403_on_every_operation(
    analyst: APIClient, endpoint: NotificationEndpoint
) -> None:
    for method, url, body in _calls(endpoint.pk):
        assert getattr(APIClient(), method)(url, body, format="json").status_code == HTTPStatus.UNAUTHORIZED, url
        assert getattr(analyst, method)(url, body, format="json").status_code == HTTPStatus.FORBIDDEN, url
    assert NotificationEndpoint.objects.filter(pk=endpoint.pk, enabled=True).exists()


def test_staff_can_do_every_operation(staff: APIClient, endpoint: NotificationEndpoint) -> None:
    expected = [HTTPStatus.OK, HTTPStatus.CREATED, HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.NO_CONTENT]

    statuses = [
        getattr(staff, method)(url, body, format="json").status_code for method, url, body in _calls(endpoint.pk)
    ]

    assert statuses == expected
    assert not NotificationEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_creating_returns_the_id_url_and_a_whsec_secret_shown_on_detail_but_not_on_list(staff: APIClient) -> None:
    response = staff.post(BASE, {"url": PUBLIC_URL, "description": "Plantão"}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert body["url"] == PUBLIC_URL
    assert body["secret"].startswith("whsec_")
    assert body["enabled"] is True
    saved = NotificationEndpoint.objects.get(pk=body["id"])
    assert saved.secret == body["secret"]
    assert staff.get(f"{BASE}/{body['id']}").json()["secret"] == body["secret"]
    listed = staff.get(BASE).json()
    assert [item["id"] for item in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert staff.get(BASE + "/").status_code == HTTPStatus.OK


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "url"),
        ({"url": ""}, "url"),
        ({"url": "ftp://93.184.215.14/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://user:pw@93.184.215.14/x"}, "url"),
        ({"url": "https://93.184.215.14:99999/x"}, "url"),
        ({"url": "https://[::1/x"}, "url"),
        ({"url": ["https://93.184.215.14/"]}, "url"),
        ({"url": "https://93.184.215.14/" + "a" * 2000}, "url"),
        ({"url": PUBLIC_URL, "description": "x" * 201}, "description"),
        ({"url": PUBLIC_URL, "secret": "whsec_meu"}, "secret"),
    ],
)
def test_invalid_bodies_get_400_naming_the_field(staff: APIClient, body: dict[str, Any], field: str) -> None:
    response = staff.post(BASE, body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["fields"]
    assert not NotificationEndpoint.objects.exists()


def test_a_body_that_is_not_an_object_gets_400(staff: APIClient) -> None:
    assert staff.post(BASE, [PUBLIC_URL], format="json").status_code == HTTPStatus.BAD_REQUEST
    assert staff.post(BASE, "null", content_type="application/json").status_code == HTTPStatus.BAD_REQUEST


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=st.one_of(st.text(max_size=80), st.from_regex(r"https?://[^/]{0,40}/?.{0,20}", fullmatch=True)))
def test_arbitrary_urls_never_cause_a_server_error(staff: APIClient, url: str) -> None:
    response = staff.post(BASE, {"url": url}, format="json")

    assert response.status_code in (HTTPStatus.CREATED, HTTPStatus.BAD_REQUEST)
    if response.status_code == HTTPStatus.BAD_REQUEST:
        assert "url" in response.json()["fields"]


def test_patch_disables_and_reenabling_clears_the_failure_state(
    staff: APIClient, endpoint: NotificationEndpoint
) -> None:
    NotificationEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, consecutive_failures=5, disabled_at=datetime.now(UTC), disabled_reason="5 falhas"
    )

    response = staff.patch(f"{BASE}/{endpoint.pk}", {"enabled": True, "description": "novo"}, format="json")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert (body["enabled"], body["consecutiveFailures"], body["disabledAt"], body["disabledReason"]) == (
        True,
        0,
        None,
        "",
    )
    assert body["description"] == "novo"


@pytest.mark.parametrize(
    ("body", "field"), [({"enabled": "talvez"}, "enabled"), ({"url": PUBLIC_URL}, "url"), ({"secret": "x"}, "secret")]
)
def test_patch_rejects_invalid_or_unknown_fields(
    staff: APIClient, endpoint: NotificationEndpoint, body: dict[str, Any], field: str
) -> None:
    response = staff.patch(f"{BASE}/{endpoint.pk}", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["fields"]


def test_put_is_not_offered(staff: APIClient, endpoint: NotificationEndpoint) -> None:
    response = staff.put(f"{BASE}/{endpoint.pk}", {"url": PUBLIC_URL}, format="json")

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.parametrize("endpoint_id", ["999999", "abc", "1e3", "-1", "9" * 40])
def test_unknown_or_malformed_ids_get_404(staff: APIClient, endpoint_id: str) -> None:
    for suffix in ("", "/deliveries"):
        response = staff.get(f"{BASE}/{endpoint_id}{suffix}")
        assert response.status_code == HTTPStatus.NOT_FOUND
        assert response.json()["error"] == "not_found"


def test_deliveries_list_the_attempts_newest_first_with_pages(
    staff: APIClient, endpoint: NotificationEndpoint, store: EventStore
) -> None:
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for number in range(3):
        store.enqueue_deliveries({"id": f"al-{number}"}, [endpoint.pk], now=start + timedelta(minutes=number))
    claimed = store.claim_delivery(now=start + timedelta(hours=1), lease_seconds=60, owner="t")
    assert claimed is not None
    store.finish_delivery_attempt(
        claimed["_id"],
        owner="t",
        attempt={"at": start + timedelta(hours=1), "statusCode": 503, "durationMs": 12},
        status="pending",
        next_attempt_at=start + timedelta(hours=1, seconds=5),
        now=start + timedelta(hours=1),
    )

    first = staff.get(f"{BASE}/{endpoint.pk}/deliveries", {"limit": 2}).json()
    second = staff.get(f"{BASE}/{endpoint.pk}/deliveries", {"limit": 2, "page": 2}).json()

    assert (first["total"], first["page"], first["limit"]) == (3, 1, 2)
    assert [row["alertId"] for row in first["results"] + second["results"]] == ["al-2", "al-1", "al-0"]
    retried = second["results"][0]
    assert retried == {
        "id": str(claimed["_id"]),
        "alertId": "al-0",
        "status": "pending",
        "attempts": [{"at": "2026-12-01T13:00:00.000Z", "statusCode": 503, "durationMs": 12}],
        "nextAttemptAt": "2026-12-01T13:00:05.000Z",
        "createdAt": "2026-12-01T12:00:00.000Z",
    }


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"page": "0"}, {"page": "x"}])
def test_deliveries_reject_bad_pagination(
    staff: APIClient, endpoint: NotificationEndpoint, params: dict[str, str]
) -> None:
    response = staff.get(f"{BASE}/{endpoint.pk}/deliveries", params)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(params) <= set(response.json()["fields"])


def test_endpoint_created_at_is_utc_with_milliseconds(staff: APIClient) -> None:
    created = staff.post("/api/notification-endpoints", {"url": "https://93.184.215.14/hook"}, format="json").json()

    assert created["createdAt"].endswith("Z")
    assert len(created["createdAt"]) == len("2026-12-01T12:00:00.000Z")
