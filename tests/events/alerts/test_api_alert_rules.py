"""``/api/alert-rules``: administradores escrevem, analistas leem, e nenhuma entrada vira 5xx."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import pytest
from rest_framework.test import APIClient

from events.alerts.models import AlertRule, NotificationEndpoint

pytestmark = pytest.mark.django_db

URL = "/api/alert-rules"
FIELDS = {
    "id", "name", "kind", "severity", "enabled", "cooldownSeconds", "notify", "eventType", "userId", "op",
    "threshold", "count", "windowSeconds", "zScore", "minSamples", "firstType", "secondType", "minRatio",
    "createdAt", "updatedAt",
}  # fmt: skip
VALID = {
    "threshold": {"eventType": "withdraw", "op": ">", "threshold": 5000},
    "frequency": {"eventType": "login_failed", "count": 5, "windowSeconds": 300},
    "anomaly": {"eventType": "withdraw", "zScore": 3, "minSamples": 10},
    "sequence": {"firstType": "deposit", "secondType": "withdraw", "windowSeconds": 600, "minRatio": 0.9},
}


def body(kind: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": f"regra {kind}", "kind": kind, **VALID[kind]}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not ...}


def test_anonymous_gets_401_everywhere(threshold_rule: AlertRule) -> None:
    client = APIClient()

    assert client.get(URL).status_code == HTTPStatus.UNAUTHORIZED
    assert client.get(f"{URL}/{threshold_rule.id}").status_code == HTTPStatus.UNAUTHORIZED
    assert client.post(URL, body("threshold"), format="json").status_code == HTTPStatus.UNAUTHORIZED
    assert client.delete(f"{URL}/{threshold_rule.id}").status_code == HTTPStatus.UNAUTHORIZED


def test_analysts_read_but_never_write(analyst: APIClient, threshold_rule: AlertRule) -> None:
    listed = analyst.get(URL)
    detail = analyst.get(f"{URL}/{threshold_rule.id}")

    assert listed.status_code == HTTPStatus.OK
    assert [rule["id"] for rule in listed.json()] == [threshold_rule.id]
    assert detail.status_code == HTTPStatus.OK
    assert analyst.post(URL, body("threshold"), format="json").status_code == HTTPStatus.FORBIDDEN
    patch = analyst.patch(f"{URL}/{threshold_rule.id}", {"enabled": False}, format="json")
    assert patch.status_code == HTTPStatus.FORBIDDEN
    assert analyst.delete(f"{URL}/{threshold_rule.id}").status_code == HTTPStatus.FORBIDDEN
    threshold_rule.refresh_from_db()
    assert threshold_rule.enabled is True


@pytest.mark.parametrize("kind", list(VALID))
def test_staff_create_each_kind_in_camel_case(staff: APIClient, kind: str) -> None:
    endpoint = NotificationEndpoint.objects.create(url="https://example.com/hook")

    response = staff.post(URL, body(kind, notify=[endpoint.id], cooldownSeconds=60), format="json")

    assert response.status_code == HTTPStatus.CREATED, response.content
    data = response.json()
    assert set(data) == FIELDS
    assert data["kind"] == kind
    assert data["notify"] == [endpoint.id]
    assert data["cooldownSeconds"] == 60
    assert {key: data[key] for key in VALID[kind]} == VALID[kind]
    rule = AlertRule.objects.get(id=data["id"])
    assert rule.created_by is not None
    assert rule.created_by.username == "boss"


def test_staff_patch_and_delete(staff: APIClient, threshold_rule: AlertRule) -> None:
    patched = staff.patch(f"{URL}/{threshold_rule.id}", {"threshold": 9000, "severity": "info"}, format="json")
    deleted = staff.delete(f"{URL}/{threshold_rule.id}")

    assert patched.status_code == HTTPStatus.OK
    assert (patched.json()["threshold"], patched.json()["severity"]) == (9000, "info")
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    assert staff.get(f"{URL}/{threshold_rule.id}").status_code == HTTPStatus.NOT_FOUND


@pytest.mark.parametrize(
    ("kind", "overrides", "field"),
    [
        ("threshold", {"eventType": ...}, "eventType"),
        ("threshold", {"op": ...}, "op"),
        ("threshold", {"threshold": None}, "threshold"),
        ("frequency", {"count": 0}, "count"),
        ("frequency", {"windowSeconds": ...}, "windowSeconds"),
        ("frequency", {"windowSeconds": 0}, "windowSeconds"),
        ("anomaly", {"zScore": 0}, "zScore"),
        ("anomaly", {"zScore": -1.5}, "zScore"),
        ("anomaly", {"minSamples": 1}, "minSamples"),
        ("anomaly", {"eventType": ""}, "eventType"),
        ("sequence", {"firstType": ...}, "firstType"),
        ("sequence", {"secondType": ""}, "secondType"),
        ("sequence", {"windowSeconds": None}, "windowSeconds"),
        ("sequence", {"minRatio": 0}, "minRatio"),
    ],
)
def test_kind_validation_names_the_field(staff: APIClient, kind: str, overrides: dict[str, Any], field: str) -> None:
    response = staff.post(URL, body(kind, **overrides), format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()["fields"]
    assert not AlertRule.objects.exists()


def test_patch_is_validated_against_the_stored_rule(staff: APIClient, threshold_rule: AlertRule) -> None:
    to_frequency = staff.patch(f"{URL}/{threshold_rule.id}", {"kind": "frequency"}, format="json")

    assert to_frequency.status_code == HTTPStatus.BAD_REQUEST
    assert set(to_frequency.json()["fields"]) == {"count", "windowSeconds"}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"name":"x","kind":"threshold","eventType":"withdraw","op":">","threshold":1e309}', "threshold"),
        ('{"name":"x","kind":"threshold","eventType":"withdraw","op":">","threshold":"NaN"}', "threshold"),
        ('{"name":"x","kind":"threshold","eventType":"withdraw","op":">","threshold":"-inf"}', "threshold"),
        ('{"name":"x","kind":"threshold","eventType":"withdraw","op":">","threshold":NaN}', None),
        ('{"name":"x","kind":"threshold","eventType":"withdraw","op":">","threshold":true}', "threshold"),
        ('{"name":"x","kind":"threshold","eventType":"withdraw","op":"!=","threshold":1}', "op"),
        ('{"name":"x","kind":"threshold","eventType":{"$ne":1},"op":">","threshold":1}', "eventType"),
        ('{"name":"x","kind":"threshold","eventType":"$ne","op":">","threshold":1}', "eventType"),
        ('{"name":"x","kind":"frequency","eventType":"a","count":1e400,"windowSeconds":1}', "count"),
        ('{"name":"x","kind":"frequency","eventType":"a","count":100000000000000000000000,"windowSeconds":1}', "count"),
        (
            '{"name":"x","kind":"frequency","eventType":"a","count":2,"windowSeconds":99999999999999999999}',
            "windowSeconds",
        ),
        ('{"name":"x","kind":"frequency","eventType":"a","count":"many","windowSeconds":1}', "count"),
        ('{"name":"x","kind":"anomaly","eventType":"a","zScore":1e400,"minSamples":2}', "zScore"),
        (
            '{"name":"x","kind":"sequence","firstType":"a","secondType":"b","windowSeconds":1,"minRatio":[1]}',
            "minRatio",
        ),
        ('{"name":"x","kind":"bogus"}', "kind"),
        (
            '{"name":"x","kind":"threshold","eventType":"a","op":">","threshold":1,"cooldownSeconds":-5}',
            "cooldownSeconds",
        ),
        ('{"name":"x","kind":"threshold","eventType":"a","op":">","threshold":1,"notify":[999]}', "notify"),
        ('{"name":"x","kind":"threshold","eventType":"a","op":">","threshold":1,"notify":["x"]}', "notify"),
        (
            '{"name":"x","kind":"threshold","eventType":"a","op":">","threshold":1,"notify":[100000000000000000000000]}',
            "notify",
        ),
        ('{"name":"x","kind":"threshold","eventType":"a","op":">","threshold":1,"notify":7}', "notify"),
        ('{"name":"' + "n" * 500 + '","kind":"threshold","eventType":"a","op":">","threshold":1}', "name"),
        ('{"kind":"threshold","eventType":"a","op":">","threshold":1}', "name"),
        ('{"name":5,"kind":"threshold","eventType":"a","op":">","threshold":1}', "name"),
        ('{"name":"x","kind":"threshold","eventType":0,"op":">","threshold":1}', "eventType"),
        ('{"name":"x","kind":"threshold","eventType":"a","op":">","threshold":1,"enabled":1}', "enabled"),
        ('{"name":"x","kind":"threshold","eventType":"a","op":">","threshold":"5"}', "threshold"),
        ('{"name":"x","kind":"frequency","eventType":"a","count":"5","windowSeconds":1}', "count"),
        ('{"name":"x","kind":"frequency","eventType":"a","count":5.0,"windowSeconds":1}', "count"),
        ('{"name":"x","kind":"threshold","eventType":"a","op":">","threshold":1,"notify":["1"]}', "notify"),
        ('{"name":"x","kind":["threshold"]}', "kind"),
        ("[1, 2]", None),
        ("null", None),
        ('"texto"', None),
        ("{", None),
    ],
)
def test_adversarial_bodies_are_400_naming_the_field(staff: APIClient, raw: str, field: str | None) -> None:
    response = staff.generic("POST", URL, raw, content_type="application/json")

    assert response.status_code == HTTPStatus.BAD_REQUEST, response.content
    if field is not None:
        assert field in response.json()["fields"]
    assert not AlertRule.objects.exists()


@pytest.mark.parametrize("rule_id", ["0", "999999", "99999999999999999999999", "abc", "-1"])
def test_unknown_or_malformed_rule_ids_are_404(staff: APIClient, rule_id: str) -> None:
    assert staff.get(f"{URL}/{rule_id}").status_code == HTTPStatus.NOT_FOUND
    assert staff.patch(f"{URL}/{rule_id}", {"enabled": False}, format="json").status_code == HTTPStatus.NOT_FOUND


def test_the_slashed_form_answers_too(analyst: APIClient, threshold_rule: AlertRule) -> None:
    assert analyst.get(f"{URL}/").status_code == HTTPStatus.OK
    assert json.loads(analyst.get(f"{URL}/{threshold_rule.id}/").content)["id"] == threshold_rule.id
