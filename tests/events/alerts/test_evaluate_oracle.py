"""Cada tipo de regra contra um oráculo em Python puro, sobre fluxos de eventos gerados (Hypothesis).

O armazenamento é o ``InMemoryStore`` (o mesmo contrato do MongoDB); o oráculo recalcula,
da lista completa de eventos já vistos, quem devia disparar — sem estado incremental — e
aplica o intervalo sem repetição na ordem de chegada. Os fluxos chegam em ordem de
``timestamp`` (estritamente crescente), o caso do tempo real.

Na anomalia, o oráculo usa média e variância exatas (frações) em vez de
Welford: onde o escore fica a 1e-9 do limite, os dois podem divergir no último bit e o
teste aceita os dois resultados.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from events.alerts.evaluate import alerts_evaluate
from events.alerts.rules import RuleSpec, compare, ratio_ok
from events.store.memory import InMemoryStore
from tests.events.alerts.conftest import T0

USERS = ["u1", "u2"]
TYPES = ["deposit", "withdraw", "login"]
EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

Key = tuple[str, tuple[str, ...]]


@st.composite
def streams(draw: st.DrawFn, *, max_size: int = 30) -> list[dict[str, Any]]:
    """Eventos em ordem de chegada e de ``timestamp`` (passos de 1 a 120 s), valores inteiros."""
    size = draw(st.integers(min_value=1, max_value=max_size))
    events, moment = [], 0
    for number in range(1, size + 1):
        moment += draw(st.integers(min_value=1, max_value=120))
        events.append(
            {
                "number": number,
                "user": draw(st.sampled_from(USERS)),
                "type": draw(st.sampled_from(TYPES)),
                "value": float(draw(st.integers(min_value=-20, max_value=120))),
                "at": moment,
            }
        )
    return events


def run(store: InMemoryStore, spec: RuleSpec, stream: list[dict[str, Any]], make_event: Any) -> list[Key]:
    """Ingere o fluxo (gravação, depois avaliação) e devolve os alertas novos, na ordem."""
    fired: list[Key] = []
    for item in stream:
        doc = make_event(item["number"], user=item["user"], type=item["type"], value=item["value"], at=item["at"])
        outcome = store.insert_event(doc)
        assert outcome.status == "created"
        for alert in alerts_evaluate(event=outcome.document, store=store, rules=(spec,)):
            assert alert["ruleId"] == spec.id
            fired.append((alert["userId"], tuple(alert["eventIds"])))
    return fired


def oid(number: int) -> str:
    return f"{number:024x}"


def with_cooldown(candidates: Sequence[tuple[dict[str, Any], Key]], seconds: int) -> list[Key]:
    """Intervalo sem repetição por usuário, na ordem de chegada (instante = timestamp do gatilho)."""
    next_allowed: dict[str, float] = {}
    kept = []
    for event, key in candidates:
        if event["at"] >= next_allowed.get(event["user"], float("-inf")):
            next_allowed[event["user"]] = event["at"] + seconds
            kept.append(key)
    return kept


def spec_of(kind: str, **fields: Any) -> RuleSpec:
    return RuleSpec(id=7, name="oráculo", kind=kind, severity="warning", cooldown_seconds=0, **fields)


# --- threshold ---------------------------------------------------------------------------


def threshold_oracle(spec: RuleSpec, stream: list[dict[str, Any]]) -> list[Key]:
    candidates: list[tuple[dict[str, Any], Key]] = [
        (event, (event["user"], (oid(event["number"]),)))
        for event in stream
        if event["type"] == spec.event_type
        and (not spec.user_id or event["user"] == spec.user_id)
        and compare(event["value"], spec.op, spec.threshold or 0.0)
    ]
    return with_cooldown(candidates, spec.cooldown_seconds)


@EXAMPLES
@given(
    stream=streams(),
    op=st.sampled_from([">", ">=", "<", "<="]),
    threshold=st.integers(min_value=-20, max_value=120),
    only_user=st.sampled_from(["", "u1"]),
    cooldown=st.sampled_from([0, 60, 600]),
)
def test_threshold_fires_like_the_oracle(
    make_event: Any, stream: list[dict[str, Any]], op: str, threshold: int, only_user: str, cooldown: int
) -> None:
    spec = replace(
        spec_of("threshold", event_type="withdraw", op=op, threshold=float(threshold), user_id=only_user),
        cooldown_seconds=cooldown,
    )
    store = InMemoryStore("oracle_threshold", clock=lambda: T0)

    assert run(store, spec, stream, make_event) == threshold_oracle(spec, stream)


# --- frequency ---------------------------------------------------------------------------


def frequency_oracle(spec: RuleSpec, stream: list[dict[str, Any]]) -> list[Key]:
    candidates: list[tuple[dict[str, Any], Key]] = []
    for index, event in enumerate(stream):
        if event["type"] != spec.event_type:
            continue
        seen = [
            other
            for other in stream[: index + 1]
            if other["type"] == spec.event_type
            and other["user"] == event["user"]
            and event["at"] - (spec.window_seconds or 0) <= other["at"] <= event["at"]
        ]
        if len(seen) >= (spec.count or 1):
            candidates.append((event, (event["user"], (oid(event["number"]),))))
    return with_cooldown(candidates, spec.cooldown_seconds)


@EXAMPLES
@given(
    stream=streams(),
    count=st.integers(min_value=1, max_value=5),
    window=st.integers(min_value=1, max_value=400),
    cooldown=st.sampled_from([0, 90, 1000]),
)
def test_frequency_fires_like_the_oracle(
    make_event: Any, stream: list[dict[str, Any]], count: int, window: int, cooldown: int
) -> None:
    spec = replace(
        spec_of("frequency", event_type="login", count=count, window_seconds=window), cooldown_seconds=cooldown
    )
    store = InMemoryStore("oracle_frequency", clock=lambda: T0)

    assert run(store, spec, stream, make_event) == frequency_oracle(spec, stream)


# --- anomaly -----------------------------------------------------------------------------

BORDER = 1e-9


def anomaly_oracle(spec: RuleSpec, stream: list[dict[str, Any]]) -> tuple[set[Key], set[Key]]:
    """(disparos certos, disparos na fronteira do limite) — histórico sem o próprio evento, em frações exatas."""
    sure: set[Key] = set()
    border: set[Key] = set()
    for index, event in enumerate(stream):
        if event["type"] != spec.event_type:
            continue
        history = [
            Fraction(other["value"])
            for other in stream[:index]
            if other["type"] == spec.event_type and other["user"] == event["user"]
        ]
        if len(history) < (spec.min_samples or 2):
            continue
        key = (event["user"], (oid(event["number"]),))
        mean = sum(history, Fraction(0)) / len(history)
        deviation = abs(Fraction(event["value"]) - mean)
        variance = sum(((value - mean) ** 2 for value in history), Fraction(0)) / (len(history) - 1)
        if deviation == 0:
            continue
        if variance == 0:
            sure.add(key)
            continue
        # escore² = desvio² / variância, comparado com z² (tudo exato).
        ratio = deviation**2 / variance / Fraction(spec.z_score or 0.0) ** 2
        if abs(ratio - 1) <= BORDER:
            border.add(key)
        elif ratio > 1:
            sure.add(key)
    return sure, border


@EXAMPLES
@given(
    stream=streams(max_size=40),
    z_score=st.sampled_from([0.5, 1.0, 1.5, 2.0, 3.0]),
    min_samples=st.integers(min_value=2, max_value=6),
)
def test_anomaly_fires_like_the_oracle(
    make_event: Any, stream: list[dict[str, Any]], z_score: float, min_samples: int
) -> None:
    spec = spec_of("anomaly", event_type="deposit", z_score=z_score, min_samples=min_samples)
    store = InMemoryStore("oracle_anomaly", clock=lambda: T0)

    fired = run(store, spec, stream, make_event)
    sure, border = anomaly_oracle(spec, stream)

    assert len(fired) == len(set(fired))
    assert sure <= set(fired) <= sure | border


def test_anomaly_compares_the_event_before_adding_it_to_the_history(memory_store: Any, make_event: Any) -> None:
    spec = spec_of("anomaly", event_type="deposit", z_score=3.0, min_samples=3)
    values = [100.0, 102.0, 98.0, 100.0, 5000.0]
    fired = run(
        memory_store,
        spec,
        [{"number": n, "user": "u1", "type": "deposit", "value": v, "at": n} for n, v in enumerate(values, 1)],
        make_event,
    )

    # Com o próprio 5000 na conta, o desvio seria ~2,2 × 2,0 e o escore ficaria abaixo de 3.
    assert fired == [("u1", (oid(5),))]


# --- sequence ----------------------------------------------------------------------------


def sequence_oracle(spec: RuleSpec, stream: list[dict[str, Any]]) -> list[Key]:
    candidates: list[tuple[dict[str, Any], Key]] = []
    for index, event in enumerate(stream):
        if event["type"] != spec.second_type:
            continue
        firsts = [
            other
            for other in stream[:index]
            if other["type"] == spec.first_type
            and other["user"] == event["user"]
            and event["at"] - (spec.window_seconds or 0) <= other["at"] <= event["at"]
            and ratio_ok(other["value"], event["value"], spec.min_ratio)
        ]
        if firsts:
            first = max(firsts, key=lambda other: (other["at"], other["number"]))
            candidates.append((event, (event["user"], (oid(first["number"]), oid(event["number"])))))
    return with_cooldown(candidates, spec.cooldown_seconds)


@EXAMPLES
@given(
    stream=streams(),
    window=st.integers(min_value=1, max_value=600),
    min_ratio=st.sampled_from([None, 0.5, 0.9, 1.0, 2.0]),
    cooldown=st.sampled_from([0, 120]),
    types=st.sampled_from([("deposit", "withdraw"), ("withdraw", "withdraw")]),
)
def test_sequence_fires_like_the_oracle(
    make_event: Any,
    stream: list[dict[str, Any]],
    window: int,
    min_ratio: float | None,
    cooldown: int,
    types: tuple[str, str],
) -> None:
    spec = replace(
        spec_of("sequence", first_type=types[0], second_type=types[1], window_seconds=window, min_ratio=min_ratio),
        cooldown_seconds=cooldown,
    )
    store = InMemoryStore("oracle_sequence", clock=lambda: T0)

    assert run(store, spec, stream, make_event) == sequence_oracle(spec, stream)


def test_sequence_found_from_the_first_event_when_the_second_was_stored_before_it(
    memory_store: Any, make_event: Any
) -> None:
    spec = spec_of("sequence", first_type="deposit", second_type="withdraw", window_seconds=600, min_ratio=0.9)
    second = memory_store.insert_event(make_event(2, type="withdraw", value=950, at=300)).document
    assert alerts_evaluate(event=second, store=memory_store, rules=(spec,)) == []

    first = memory_store.insert_event(make_event(1, type="deposit", value=1000, at=100)).document
    alerts = alerts_evaluate(event=first, store=memory_store, rules=(spec,))

    assert [alert["eventIds"] for alert in alerts] == [[oid(1), oid(2)]]
    assert "Depósito de 1.000,00 seguido de saque de 950,00 (95% do primeiro) em 200 s" in alerts[0]["message"]


# --- comum ------------------------------------------------------------------------------


def test_threshold_message_gives_the_numbers_in_brazilian_format(memory_store: Any, make_event: Any) -> None:
    spec = spec_of("threshold", event_type="withdraw", op=">", threshold=5000.0)
    event = memory_store.insert_event(make_event(1, user="u-9", value=9500)).document

    (alert,) = alerts_evaluate(event=event, store=memory_store, rules=(spec,))

    assert alert["message"] == "Saque de 9.500,00 de u-9 acima do limite de 5.000,00 (regra «oráculo»)"
    assert set(alert) == {
        "id", "ruleId", "ruleName", "kind", "severity", "userId", "eventIds", "triggeredAt", "state", "ackBy",
        "ackAt", "message",
    }  # fmt: skip
    assert (alert["state"], alert["ackBy"], alert["ackAt"]) == ("open", None, None)


def test_the_same_trigger_never_fires_twice(memory_store: Any, make_event: Any) -> None:
    spec = spec_of("threshold", event_type="withdraw", op=">", threshold=5000.0)
    event = memory_store.insert_event(make_event(1, value=9500)).document

    first = alerts_evaluate(event=event, store=memory_store, rules=(spec,))
    again = alerts_evaluate(event=event, store=memory_store, rules=(spec,))

    assert len(first) == 1
    assert again == []


def test_a_raising_rule_is_counted_and_the_others_still_fire(
    memory_store: Any, make_event: Any, caplog: Any, metric: Callable[..., float]
) -> None:
    broken = replace(spec_of("threshold", event_type="withdraw", op="≈", threshold=1.0), id=1)
    good = replace(spec_of("threshold", event_type="withdraw", op=">", threshold=1.0), id=2)
    event = memory_store.insert_event(make_event(1, value=9500)).document
    before = metric("trader_monitor_alert_rule_errors_total", kind="threshold")

    alerts = alerts_evaluate(event=event, store=memory_store, rules=(broken, good))

    assert [alert["ruleId"] for alert in alerts] == [2]
    assert metric("trader_monitor_alert_rule_errors_total", kind="threshold") == before + 1
    assert any(getattr(record, "rule_id", None) == 1 for record in caplog.records)


def test_windows_reach_back_exactly_window_seconds(memory_store: Any, make_event: Any) -> None:
    spec = spec_of("frequency", event_type="login", count=2, window_seconds=60)
    for number, at in ((1, 0), (2, 60), (3, 121)):
        doc = memory_store.insert_event(make_event(number, type="login", at=at)).document
        fired = alerts_evaluate(event=doc, store=memory_store, rules=(spec,))
        assert bool(fired) == (number == 2), (number, timedelta(seconds=at))
