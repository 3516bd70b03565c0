"""Fuzzing (Hypothesis) do webhook pelo app ASGI real, com mensagens ASGI cruas.

Corpos com bytes arbitrários, JSON em codificações estranhas, cabeçalhos webhook-*
malformados, Content-Length mentiroso ou inválido e cabeçalhos enormes. Para cada
entrega: nunca 5xx nem exceção escapando; 2xx grava o evento exatamente uma vez; toda
entrega recusada (4xx, exceto 429) não grava nada e fica na quarentena com o motivo
que a resposta deu.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import bson
import pytest
from django.conf import settings
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from events import webhook
from events.domain import EventFilter
from events.store import EventStore
from trader_monitor.asgi import application

pytestmark = pytest.mark.django_db

URL = "/api/webhook/event"
SIGNATURE_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")
# Status que não passam pela quarentena: 405 (método) não é uma entrega; 429 é contenção
# de abuso (gravar cada uma amplificaria o ataque).
NOT_QUARANTINED = {HTTPStatus.METHOD_NOT_ALLOWED, HTTPStatus.TOO_MANY_REQUESTS}


@pytest.fixture(autouse=True)
def _fresh_verifiers() -> Iterator[None]:
    webhook.verifiers.cache_clear()
    yield
    webhook.verifiers.cache_clear()


def _secret_key() -> bytes:
    return base64.b64decode(settings.WEBHOOK_SECRETS[0].removeprefix("whsec_") + "==")


def _signature(msg_id: bytes, timestamp: bytes, body: bytes, key: bytes) -> bytes:
    """HMAC do Standard Webhooks sobre os bytes crus (também para corpos que não são UTF-8)."""
    digest = hmac.new(key, msg_id + b"." + timestamp + b"." + body, hashlib.sha256).digest()
    return b"v1," + base64.b64encode(digest)


# --- estratégias ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
event_like = st.fixed_dictionaries(
    {
        "userId": st.one_of(st.just("u-1"), st.text(max_size=10), st.integers(), st.none()),
        "type": st.one_of(st.just("purchase"), st.sampled_from(["$where", "{}", " x", ""]), st.text(max_size=10)),
        "value": st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=4)),
    },
    optional={
        "timestamp": st.one_of(st.just("2026-01-01T00:00:00Z"), st.text(max_size=30), st.integers()),
        "metadata": json_values,
        "extra": json_values,
    },
)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1", "cp1252"])

# Valores que o JSON aceita mas o BSON ou o datetime não guardam (a classe dos 500 achados
# no main antigo: inteiro ≥ 2^63 em metadata; fuso extremo em 9999-12-31).
beyond_int64 = st.one_of(
    st.integers(min_value=2**63, max_value=2**200),
    st.integers(min_value=-(2**200), max_value=-(2**63) - 1),
    st.sampled_from([2**63, -(2**63) - 1, 2**63 - 1, -(2**63), 10**30]),
)
extreme_timestamps = st.builds(
    lambda year, offset_minutes, fraction: (
        f"{year:04d}-{'12-31T23:59:59' if year > 5000 else '01-01T00:00:00'}{fraction}"
        f"{'+' if offset_minutes >= 0 else '-'}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    ),
    st.sampled_from([1, 2, 1969, 1970, 9998, 9999]),
    st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
    st.sampled_from(["", ".999999", ".5"]),
)
HUGE_FLOATS = ["1e308", "-1e308", "1e309", "4.9e-324", "1e-400", "123456789e300"]
huge_floats = st.sampled_from(HUGE_FLOATS)
hostile_leaves = st.one_of(
    beyond_int64.map(str),
    huge_floats,
    st.sampled_from(['"\\ud800"', '"\\udfff x"', '"a\\u0000b"', "true", "null"]),
)


@st.composite
def hostile_event(draw: st.DrawFn) -> bytes:
    """Um evento válido em tudo, menos num valor extremo (JSON montado à mão: ints e floats crus)."""
    leaf = draw(hostile_leaves)
    nest = draw(st.sampled_from(["{0}", '{{"a": {0}}}', "[1, {0}]", '{{"a": [{{"b": {0}}}]}}', "[[[{0}]]]"]))
    metadata = '{"x": ' + nest.format(leaf) + "}"
    user = draw(st.sampled_from(['"u-1"', '"\\ud800"', '"u\\udc00"', '"ção"']))
    value = draw(st.sampled_from(["1", "1.5", "-0.0", *HUGE_FLOATS]))
    fields = [f'"userId": {user}', '"type": "purchase"', f'"value": {value}', f'"metadata": {metadata}']
    if draw(st.booleans()):
        fields.append(f'"timestamp": "{draw(extreme_timestamps)}"')
    text = "{" + ", ".join(fields) + "}"
    return text.encode(draw(st.sampled_from(["utf-8", "utf-8", "utf-16", "latin-1"])), errors="surrogatepass")


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(
        st.sampled_from(
            ["valid", "valid", "valid", "event", "event", "hostile", "hostile", "json", "bytes", "nested", "huge"]
        )
    )
    if kind == "hostile":
        return draw(hostile_event())
    if kind == "valid":
        valid: dict[str, Any] = {
            "userId": draw(st.sampled_from(["u-1", "u-2", "ção"])),
            "type": draw(st.sampled_from(["purchase", "deposit", "login"])),
            "value": draw(st.floats(min_value=-1e6, max_value=1e6)),
        }
        return json.dumps(valid, ensure_ascii=draw(st.booleans())).encode()
    if kind == "event" or kind == "json":
        value: Any = draw(event_like) if kind == "event" else draw(json_values)
        text = json.dumps(value, ensure_ascii=draw(st.booleans()), allow_nan=True)
        return text.encode(draw(encodings), errors="replace")
    if kind == "nested":
        # Aninhamento profundo derruba parsers recursivos (RecursionError).
        depth = draw(st.integers(min_value=500, max_value=60_000))
        return draw(st.sampled_from([b"[", b'{"a":'])) * depth
    if kind == "huge":
        return b'{"userId": "u-1", "type": "purchase", "value": 1, "metadata": {"x": "' + b"A" * 70_000 + b'"}}'
    return draw(st.binary(max_size=512))


header_names = st.sampled_from(
    [b"webhook-id", b"webhook-timestamp", b"webhook-signature", b"content-type", b"idempotency-key", b"x-request-id"]
) | st.binary(min_size=1, max_size=20).filter(lambda name: b":" not in name)
header_values = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"", b" ", b"v1,", b"v1,!!!", b"v2,abc", b"nan", b"inf", b"-1", b"1e400", b"\xff\xfe"]),
    st.integers(min_value=-(10**20), max_value=10**20).map(lambda n: str(n).encode()),
    st.just(b"x" * 20_000),
)


def _percent(draw: st.DrawFn) -> int:
    """Sorteio de 0 a 99 para pesar as alternativas (o encolhimento tende a 0: o caso válido)."""
    return draw(st.integers(min_value=0, max_value=99))


@st.composite
def deliveries(draw: st.DrawFn) -> dict[str, Any]:
    body = draw(bodies())
    now = int(datetime.now(UTC).timestamp())
    headers: dict[bytes, bytes] = {}
    signing = _percent(draw)
    if signing < 90:
        roll = _percent(draw)
        if roll < 60:
            # Poucos ids repetidos: reenvio (200) ou conflito (409) aparecem.
            msg_id = draw(
                st.sampled_from([b"msg_a", b"msg_b", b"msg_c"])
                | st.binary(min_size=1, max_size=8).map(lambda raw: b"msg_" + raw.hex().encode())
            )
        elif roll < 90:
            msg_id = draw(st.binary(min_size=1, max_size=40))
        else:
            msg_id = b"k" * 300
        moment = now - int(timedelta(minutes=10).total_seconds()) if signing >= 75 else now
        timestamp = str(moment).encode()
        key = _secret_key() if signing < 82 else b"another-secret-key-0123456789abcdef"
        headers |= {
            b"webhook-id": msg_id,
            b"webhook-timestamp": timestamp,
            b"webhook-signature": _signature(msg_id, timestamp, body, key),
        }
    if _percent(draw) < 50:
        # Cabeçalhos extras por cima (podem estragar os de assinatura: é a ideia).
        headers |= draw(st.dictionaries(header_names, header_values, min_size=1, max_size=3))
    headers.pop(b"content-length", None)
    lengths = {
        "exact": str(len(body)).encode(),
        "smaller": str(max(0, len(body) - 3)).encode(),
        "larger": str(len(body) + 10).encode(),
        "negative": b"-5",
        "garbage": b"12abc",
        "huge": b"9" * 30,
        "unicode": "\xb2".encode("latin-1"),  # "²": isdigit() é verdadeiro, int() não aceita
    }
    if _percent(draw) < 70:
        headers[b"content-length"] = lengths["exact"]
    else:
        length = draw(st.sampled_from(["absent", *lengths]))
        if length in lengths:
            headers[b"content-length"] = lengths[length]
    chunks = draw(st.integers(min_value=1, max_value=3))
    return {"headers": list(headers.items()), "body": body, "chunks": chunks}


# --- chamada ASGI crua ---------------------------------------------------------------


async def _call(delivery: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body: bytes = delivery["body"]
    size = -(-len(body) // delivery["chunks"]) or 1
    parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [
        {"type": "http.request", "body": part, "more_body": index < len(parts) - 1} for index, part in enumerate(parts)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": URL,
        "raw_path": URL.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": delivery["headers"],
        "client": ("10.9.8.7", 4000),
        "server": ("testserver", 80),
    }
    await application(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    payload = b"".join(message.get("body", b"") for message in sent if message["type"] == "http.response.body")
    return start["status"], json.loads(payload)


def _counts(store: EventStore) -> tuple[int, int]:
    return store.count_events(EventFilter()), store.count_rejections()


@pytest.mark.slow
@given(delivery=deliveries())
@hypothesis_settings(
    # Rodada limitada no make test; a longa (documentada no README):
    # FUZZ_EXAMPLES=20000 make test PYTEST_ARGS="tests/events/test_webhook_fuzz.py"
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_any_delivery_is_answered_without_5xx_and_every_refusal_is_quarantined(
    store: EventStore, delivery: dict[str, Any]
) -> None:
    events_before, rejected_before = _counts(store)
    last_rejection = next(iter(store.list_rejections(limit=1)), None)

    status, body = asyncio.run(_call(delivery))

    events_after, rejected_after = _counts(store)
    event(f"{status} {body.get('error', 'ok')}")  # distribuição: pytest --hypothesis-show-statistics
    assert status < HTTPStatus.INTERNAL_SERVER_ERROR, body
    if status in (HTTPStatus.OK, HTTPStatus.CREATED):
        stored = store.get_event(_oid(body["id"]))
        assert stored is not None
        # O que foi aceito o MongoDB guarda: o documento codifica em BSON (no dublê em memória
        # nada é codificado, então a prova fica aqui, com a biblioteca do próprio driver).
        bson.encode(stored)
        assert events_after == events_before + (status == HTTPStatus.CREATED)
        assert rejected_after == rejected_before
        return
    assert events_after == events_before, body
    if status in NOT_QUARANTINED:
        return
    assert rejected_after == rejected_before + 1, body
    newest = next(iter(store.list_rejections(limit=1)), None)
    assert newest is not None
    assert newest != last_rejection
    assert newest["reason"] == body["error"]
    assert newest["reason"]


def _oid(value: str) -> Any:
    from bson import ObjectId

    return ObjectId(value)


# --- regressões achadas por este fuzzing ---------------------------------------------------


def _signed(body: bytes, msg_id: bytes = b"msg_regression") -> list[tuple[bytes, bytes]]:
    timestamp = str(int(datetime.now(UTC).timestamp())).encode()
    return [
        (b"webhook-id", msg_id),
        (b"webhook-timestamp", timestamp),
        (b"webhook-signature", _signature(msg_id, timestamp, body, _secret_key())),
    ]


@st.composite
def signed_hostile_deliveries(draw: st.DrawFn) -> dict[str, Any]:
    """Só eventos hostis, sempre bem assinados e com Content-Length certo: a classe inteira chega à validação."""
    body = draw(hostile_event())
    # Id único por exemplo: o armazenamento é o mesmo entre os exemplos do Hypothesis.
    msg_id = f"msg_{uuid.uuid4().hex}".encode()
    timestamp = str(int(datetime.now(UTC).timestamp())).encode()
    headers = [
        (b"webhook-id", msg_id),
        (b"webhook-timestamp", timestamp),
        (b"webhook-signature", _signature(msg_id, timestamp, body, _secret_key())),
        (b"content-length", str(len(body)).encode()),
    ]
    return {"headers": headers, "body": body, "chunks": 1}


@given(delivery=signed_hostile_deliveries())
@hypothesis_settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_values_the_store_cannot_hold_are_a_400_naming_the_field_never_a_5xx(
    store: EventStore, delivery: dict[str, Any]
) -> None:
    rejected_before = store.count_rejections()

    status, body = asyncio.run(_call(delivery))

    event(f"{status} {body.get('error', 'ok')} {sorted(body.get('fields', {}))}")
    assert status in (HTTPStatus.CREATED, HTTPStatus.BAD_REQUEST), body
    if status == HTTPStatus.CREATED:
        stored = store.get_event(_oid(body["id"]))
        assert stored is not None
        bson.encode(stored)
        return
    assert body["fields"], body
    assert set(body["fields"]) <= {"userId", "value", "timestamp", "metadata", "body"}, body
    assert store.count_rejections() == rejected_before + 1


def _deliver(headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[int, dict[str, Any]]:
    return asyncio.run(_call({"headers": headers, "body": body, "chunks": 1}))


def _only_rejection(store: EventStore) -> dict[str, Any]:
    records = store.list_rejections(limit=10)
    assert len(records) == 1
    return records[0]


@pytest.mark.parametrize("opening", [b"[", b'{"a":'])
def test_deeply_nested_json_is_400_not_a_recursion_crash(store: EventStore, opening: bytes) -> None:
    body = opening * 12_000  # < 64 KiB, milhares de níveis

    status, answer = _deliver([*_signed(body), (b"content-length", str(len(body)).encode())], body)

    assert (status, answer["error"]) == (HTTPStatus.BAD_REQUEST, "invalid_json")
    assert _only_rejection(store)["reason"] == "invalid_json"


@pytest.mark.parametrize("length", [b"12abc", b"-5", b"+5", b" 5", "\xb2".encode("latin-1")])
def test_invalid_content_length_is_400_and_quarantined(store: EventStore, length: bytes) -> None:
    body = b'{"userId": "u-1", "type": "purchase", "value": 1}'

    status, answer = _deliver([*_signed(body), (b"content-length", length)], body)

    assert (status, answer["error"]) == (HTTPStatus.BAD_REQUEST, "invalid_header")
    assert _only_rejection(store)["reason"] == "invalid_header"
    assert store.count_events(EventFilter()) == 0


def test_absurd_content_length_is_413_and_quarantined(store: EventStore) -> None:
    body = b"{}"

    status, _answer = _deliver([*_signed(body), (b"content-length", b"9" * 30)], body)

    assert status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    # O tamanho declarado não cabe num inteiro do BSON: guardado no limite de 64 bits.
    assert _only_rejection(store)["bodySize"] == 2**63 - 1


def test_header_and_field_names_mongo_cannot_store_are_quarantined_escaped(store: EventStore) -> None:
    body = b'{"userId": "u-1", "type": "purchase", "value": 1, "a\\u0000b": 1, "$where": 1, "x.y": 1}'

    status, answer = _deliver([*_signed(body), (b"x-odd\x00name", b"1"), (b"$dollar.dot", b"2")], body)

    assert (status, answer["error"]) == (HTTPStatus.BAD_REQUEST, "invalid_payload")
    assert set(answer["fields"]) == {"a\x00b", "$where", "x.y"}
    record = _only_rejection(store)
    assert set(record["fields"]) == {"a\ufffdb", "\uff04where", "x\uff0ey"}
    assert {"x-odd\ufffdname", "\uff04dollar\uff0edot"} <= set(record["headers"])


def test_thousands_of_unknown_fields_do_not_blow_up_the_answer(store: EventStore) -> None:
    extras = ", ".join(f'"k{n}": 0' for n in range(5000))
    body = ('{"userId": "u-1", "type": "purchase", "value": 1, ' + extras + "}").encode()

    status, answer = _deliver(_signed(body), body)

    assert status == HTTPStatus.BAD_REQUEST
    assert len(answer["fields"]) == 20
    assert len(_only_rejection(store)["fields"]) == 20
