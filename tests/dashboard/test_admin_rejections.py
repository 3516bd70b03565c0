"""Admin da quarentena de webhooks rejeitados: lista, contagem por motivo, detalhe escapado."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest
from bson import ObjectId

from events.services import rejection_record

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/events/rejectedwebhook/"


def reject(reason: str, body: bytes, headers: dict[str, str] | None = None) -> None:
    rejection_record(
        reason=reason,
        detail=f"rejeitado: {reason}",
        headers=headers or {"content-type": "application/json", "webhook-id": f"msg-{reason}"},
        body=body,
        body_size=len(body),
        remote_addr="10.1.2.3",
    )


@pytest.fixture
def rejections(store):
    reject("invalid_signature", b'{"userId": "u-1"}')
    reject("invalid_signature", b'{"userId": "u-2"}')
    reject("invalid_json", b"{not json")
    return store.list_rejections(limit=10)


def test_staff_sees_rejections_with_counts_per_reason(client, staff_user, rejections):
    client.force_login(staff_user)

    response = client.get(LIST_URL)

    assert response.status_code == HTTPStatus.OK
    assert len(response.context["rows"]) == 3
    assert response.context["reason_counts"] == {"invalid_json": 1, "invalid_signature": 2}
    assert response.context["all_count"] == 3


def test_filter_by_reason(client, staff_user, rejections):
    client.force_login(staff_user)

    response = client.get(LIST_URL, {"reason": "invalid_json"})

    assert [row["reason"] for row in response.context["rows"]] == ["invalid_json"]
    assert response.context["total"] == 1


def test_non_staff_is_sent_to_the_admin_login(client, analyst, rejections):
    client.force_login(analyst)

    for url in (LIST_URL, f"{LIST_URL}{rejections[0]['_id']}/"):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith("/admin/login/")


def test_detail_shows_headers_and_pretty_json_body(client, staff_user, store):
    reject(
        "invalid_payload",
        json.dumps({"userId": "u-1", "value": "dez"}).encode(),
        headers={"webhook-id": "msg-77", "webhook-signature": "v1,segredo", "content-type": "application/json"},
    )
    record = store.list_rejections(limit=1)[0]
    client.force_login(staff_user)

    response = client.get(f"{LIST_URL}{record['_id']}/")

    html = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert response.context["body_is_json"] is True
    assert '"value": "dez"' in response.context["body"]
    assert "msg-77" in html
    assert "v1,segredo" not in html
    assert "[removido]" in html


def test_detail_escapes_hostile_body_and_headers(client, staff_user, store):
    reject("invalid_json", b"<script>alert(1)</script>", headers={"user-agent": "<img src=x onerror=alert(2)>"})
    record = store.list_rejections(limit=1)[0]
    client.force_login(staff_user)

    html = client.get(f"{LIST_URL}{record['_id']}/").content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html


def test_unknown_rejection_is_404(client, staff_user):
    client.force_login(staff_user)

    assert client.get(f"{LIST_URL}{ObjectId()}/").status_code == HTTPStatus.NOT_FOUND
