"""``RetryPolicy``: quais erros do driver são repetidos, quantas vezes e com que recuo.

Funções comuns que levantam os erros do pymongo; a espera é injetada (registrada, não dormida).
"""

from __future__ import annotations

import pytest
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure, WriteConcernError

from events.store import StoreUnavailable
from events.store.retry import RetryPolicy


class Flaky:
    """Função que falha com ``error`` nas primeiras ``failures`` chamadas."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


@pytest.fixture
def sleeps() -> list[float]:
    return []


def policy(attempts: int, sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(attempts, sleep=sleeps.append)


def test_one_transient_failure_waits_the_first_backoff_then_succeeds(sleeps: list[float]) -> None:
    fn = Flaky(failures=1, error=AutoReconnect("primary stepped down"))

    assert policy(3, sleeps).run("op", fn) == "ok"

    assert fn.calls == 2
    assert len(sleeps) == 1
    assert 0.05 <= sleeps[0] <= 0.1


def test_transient_failures_use_every_attempt_with_growing_backoff(sleeps: list[float]) -> None:
    fn = Flaky(failures=10, error=AutoReconnect("down"))

    with pytest.raises(StoreUnavailable, match="op: down"):
        policy(4, sleeps).run("op", fn)

    assert fn.calls == 4
    assert len(sleeps) == 3
    assert 0.05 <= sleeps[0] <= 0.1
    assert 0.1 <= sleeps[1] <= 0.15
    assert 0.2 <= sleeps[2] <= 0.25


def test_a_lost_write_acknowledgement_is_transient(sleeps: list[float]) -> None:
    fn = Flaky(failures=1, error=WriteConcernError("waiting for replication timed out", 64, {}))

    assert policy(3, sleeps).run("op", fn) == "ok"

    assert fn.calls == 2


def test_a_single_attempt_means_no_retry(sleeps: list[float]) -> None:
    fn = Flaky(failures=1, error=AutoReconnect("down"))

    with pytest.raises(StoreUnavailable):
        policy(1, sleeps).run("op", fn)

    assert fn.calls == 1
    assert sleeps == []


def test_non_transient_errors_are_not_retried(sleeps: list[float]) -> None:
    fn = Flaky(failures=1, error=OperationFailure("bad query"))

    with pytest.raises(StoreUnavailable, match="bad query"):
        policy(3, sleeps).run("op", fn)

    assert fn.calls == 1
    assert sleeps == []


def test_duplicate_key_errors_reach_the_caller(sleeps: list[float]) -> None:
    fn = Flaky(failures=1, error=DuplicateKeyError("E11000"))

    with pytest.raises(DuplicateKeyError):
        policy(3, sleeps).run("op", fn)

    assert fn.calls == 1


def test_duplicate_key_on_a_retry_reaches_the_caller(sleeps: list[float]) -> None:
    # A 1ª tentativa gravou e perdeu a confirmação; a 2ª esbarra na própria gravação.
    errors = iter([AutoReconnect("connection closed"), DuplicateKeyError("E11000")])

    def fn() -> str:
        raise next(errors)

    with pytest.raises(DuplicateKeyError):
        policy(3, sleeps).run("op", fn)

    assert len(sleeps) == 1
