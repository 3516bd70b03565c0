"""Política do coletor de lixo (``trader_monitor/gc_policy.py``), num processo à parte (o GC é global)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from trader_monitor.gc_policy import POLICIES, apply_gc_policy

PROBE = """
import gc, json
from trader_monitor.gc_policy import apply_gc_policy
apply_gc_policy({policy!r})
frozen_at_start = gc.get_freeze_count()
survivors = [{{"i": [i]}} for i in range(50_000)]
gc.collect()
gc.disable()  # sem coletas automáticas no meio: a conta abaixo é exata
for _ in range(2_000):
    cycle = []
    cycle.append(cycle)
del cycle
collected = gc.collect()
gc.enable()
print(json.dumps({{
    "frozen_at_start": frozen_at_start,
    "frozen_after": gc.get_freeze_count(),
    "threshold": gc.get_threshold(),
    "collected": collected,
}}))
"""


def _probe(policy: str) -> dict[str, object]:
    done = subprocess.run(  # noqa: S603  # o próprio interpretador com um script fixo
        [sys.executable, "-c", PROBE.format(policy=policy)], capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_default_leaves_the_collector_alone() -> None:
    result = _probe("default")

    assert result["frozen_at_start"] == 0
    assert result["frozen_after"] == 0
    assert result["threshold"] == [700, 10, 10]


def test_freeze_survivors_freezes_startup_and_every_full_collection_but_still_collects_new_cycles() -> None:
    result = _probe("freeze-survivors")

    assert isinstance(result["frozen_at_start"], int)
    assert result["frozen_at_start"] > 0
    # Os 50 mil sobreviventes (100 mil objetos rastreados) saíram das coletas seguintes.
    assert isinstance(result["frozen_after"], int)
    assert result["frozen_after"] >= result["frozen_at_start"] + 100_000
    assert result["threshold"] == [700, 10, 1]
    # Ciclos novos (ainda não congelados) continuam sendo recolhidos.
    assert isinstance(result["collected"], int)
    assert result["collected"] == 2_000


def test_freeze_only_freezes_what_exists_at_startup() -> None:
    result = _probe("freeze")

    assert isinstance(result["frozen_at_start"], int)
    assert result["frozen_at_start"] > 0
    assert result["frozen_after"] == result["frozen_at_start"]
    assert result["threshold"] == [700, 10, 10]


def test_an_unknown_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="GC_POLICY"):
        apply_gc_policy("sem-coletor")
    assert "freeze-survivors" in POLICIES
