"""Identificador de requisição propagado para todas as linhas de log."""

from __future__ import annotations

import itertools
import logging
import re
import uuid
from contextvars import ContextVar

from django.conf import settings

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

# Aceitamos o X-Request-ID do proxy só se for curto e sem caracteres de controle,
# para não permitir injeção de linhas no log.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from_header(value: str | None) -> str:
    """Reaproveita o id do proxy quando válido; senão gera um novo."""
    if value and _VALID_REQUEST_ID.match(value):
        return value
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Anexa ``request_id`` a cada registro de log."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


_success_lines = itertools.count(1)


def access_line_wanted(status: int) -> int:
    """Se a linha de acesso desta resposta vai para o log: 0 = não; senão, quantas ela representa.

    Com ``ACCESS_LOG_SAMPLE`` = N > 1, só 1 em N respostas de sucesso (status < 400) vira
    linha, e a linha leva ``sample`` = N; 4xx e 5xx sempre têm a sua. As métricas por rota
    (Prometheus) contam todas as respostas, com ou sem amostragem.
    """
    every: int = settings.ACCESS_LOG_SAMPLE
    if every <= 1 or status >= 400:
        return 1
    # ``itertools.count`` avança sem trava e sem corrida (uma chamada em C, com o GIL).
    return every if next(_success_lines) % every == 0 else 0
