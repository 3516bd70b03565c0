"""Política de repetição das operações no MongoDB.

Erros transitórios (rede, eleição de primário, espera de replicação) são repetidos
com recuo exponencial e jitter, num número limitado de tentativas; depois disso, e
para qualquer outro erro do driver, ``StoreUnavailable`` — o chamador responde 503
(o remetente do webhook reenvia e a deduplicação pelo ``_id`` evita duplicatas).

A primeira tentativa roda direto: montar o ``Retrying`` do tenacity a cada chamada
custava ~20% da ingestão (duas chamadas por evento, ``bench/OTIMIZACOES.md``). Só
depois de uma falha transitória o tenacity entra, para as tentativas restantes.
``DuplicateKeyError`` nunca é repetido nem convertido: é a deduplicação falando.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from pymongo.errors import AutoReconnect, ConnectionFailure, DuplicateKeyError, PyMongoError, WriteConcernError
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential_jitter

from events.store.errors import StoreUnavailable
from trader_monitor import metrics

T = TypeVar("T")

TRANSIENT = (AutoReconnect, ConnectionFailure, WriteConcernError)
# Recuo: 50 ms (+ até 50 ms de jitter) antes da 2ª tentativa, dobrando até 0,5 s.
BACKOFF_FIRST = 0.05
BACKOFF_JITTER = 0.05
BACKOFF_MAX = 0.5


class RetryPolicy:
    """Executa operações do driver com repetição limitada (``attempts`` tentativas no total)."""

    def __init__(self, attempts: int, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.attempts = max(1, attempts)
        self.sleep = sleep

    def run(self, operation: str, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except DuplicateKeyError:
            raise
        except TRANSIENT as exc:
            if self.attempts == 1:
                raise self._unavailable(operation, exc) from exc
        except PyMongoError as exc:
            raise self._unavailable(operation, exc) from exc
        # Jitter de recuo, não segredo: um gerador pseudoaleatório comum basta.
        jitter = random.uniform(0, BACKOFF_JITTER)  # noqa: S311  # nosec B311
        self.sleep(min(BACKOFF_FIRST + jitter, BACKOFF_MAX))
        retrying = Retrying(
            retry=retry_if_exception_type(TRANSIENT),
            stop=stop_after_attempt(self.attempts - 1),
            # A 1ª tentativa do tenacity é a 2ª no total: o próximo recuo já é o dobro.
            wait=wait_exponential_jitter(multiplier=2 * BACKOFF_FIRST, max=BACKOFF_MAX, jitter=BACKOFF_JITTER),
            sleep=self.sleep,
            reraise=False,
        )
        try:
            return retrying(fn)
        except RetryError as exc:
            raise self._unavailable(operation, exc.last_attempt.exception()) from exc
        except DuplicateKeyError:
            raise
        except PyMongoError as exc:
            raise self._unavailable(operation, exc) from exc

    @staticmethod
    def _unavailable(operation: str, exc: BaseException | None) -> StoreUnavailable:
        metrics.STORE_ERRORS.labels(operation).inc()
        return StoreUnavailable(f"{operation}: {exc}")
