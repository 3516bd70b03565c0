"""Custo de uma linha do log de acesso, no thread de quem loga (o laço de eventos), por variante.

Mede ``logger.log(...)`` com os mesmos campos do log de acesso do webhook
(``events/webhook.py``) e a configuração ``LOGGING`` do settings (JSON, filtro do id de
requisição), escrevendo num arquivo de verdade. CPU do thread que loga
(``time.thread_time``) e CPU do processo inteiro (inclui o thread do ``QueueListener``).

Variantes: o ``StreamHandler`` de hoje; ``QueueHandler`` + ``QueueListener`` (formatação e
escrita noutro thread); um formatador enxuto com ``json`` e com ``orjson`` (se instalado);
e amostragem das linhas 2xx (1 em 10). Uso::

    .venv/bin/python -m bench.access_log_cost --records 20000
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import logging.config
import logging.handlers
import os
import queue
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trader_monitor.settings")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("MONGO_URI", "mongomock://localhost/bench_access_log")
os.environ.setdefault("MONGO_ALLOW_IN_MEMORY", "true")
os.environ.setdefault("DATABASE_URL", "sqlite://:memory:")
os.environ.setdefault("WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
os.environ.setdefault("LOG_LEVEL", "INFO")

import django

django.setup()

from django.conf import settings  # noqa: E402

from trader_monitor.logging import request_id_var  # noqa: E402

EXTRA = {"method": "POST", "path": "/api/webhook/event", "route": "/api/webhook/event", "status": 201}


def _configure(path: Path, formatter: str = "json") -> logging.Logger:
    config: dict[str, Any] = {**settings.LOGGING, "handlers": {**settings.LOGGING["handlers"]}}
    config["handlers"]["console"] = {
        **config["handlers"]["console"],
        "class": "logging.FileHandler",
        "filename": str(path),
        "formatter": formatter,
    }
    config["formatters"] = {**config["formatters"], **_extra_formatters()}
    logging.config.dictConfig(config)
    return logging.getLogger("trader_monitor.access")


def _extra_formatters() -> dict[str, Any]:
    out: dict[str, Any] = {}
    # O orjson não é dependência do projeto: a variante só roda se ele estiver instalado.
    if importlib.util.find_spec("orjson") is not None:
        out["orjson"] = {
            "()": "pythonjsonlogger.orjson.OrjsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
        }
    return out


def _log(logger: logging.Logger, index: int) -> None:
    logger.log(logging.INFO, "%s %s %s", "POST", "/api/webhook/event", 201, extra={**EXTRA, "duration_ms": 1.23})


def measure(name: str, records: int, setup: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "access.log"
        logger, stop = setup(path)
        token = request_id_var.set("0123456789abcdef0123456789abcdef")
        for index in range(500):
            _log(logger, index)
        thread, process = time.thread_time(), time.process_time()
        for index in range(records):
            _log(logger, index)
        caller = (time.thread_time() - thread) / records * 1e6
        stop()
        total = (time.process_time() - process) / records * 1e6
        request_id_var.reset(token)
        lines = sum(1 for _ in path.open())
    print(
        f"{name:<34} thread que loga {caller:6.1f} µs · processo {total:6.1f} µs por linha "
        f"({lines} linhas gravadas) · carga {os.getloadavg()[0]:.2f}",
        flush=True,
    )


def plain(formatter: str) -> Any:
    def setup(path: Path) -> tuple[logging.Logger, Any]:
        return _configure(path, formatter), lambda: None

    return setup


def queued(path: Path) -> tuple[logging.Logger, Any]:
    logger = _configure(path)
    root = logging.getLogger()
    [target] = root.handlers
    root.removeHandler(target)
    log_queue: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    handler = logging.handlers.QueueHandler(log_queue)
    for log_filter in target.filters:
        handler.addFilter(log_filter)
    root.addHandler(handler)
    listener = logging.handlers.QueueListener(log_queue, target)
    listener.start()
    return logger, listener.stop


class SampleSuccess(logging.Filter):
    """Deixa passar 1 em ``every`` linhas 2xx/3xx; as demais (4xx, 5xx) sempre."""

    def __init__(self, every: int) -> None:
        super().__init__()
        self.every = every
        self.seen = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status", 500) >= 400:
            return True
        self.seen += 1
        return self.seen % self.every == 0


def sampled(path: Path) -> tuple[logging.Logger, Any]:
    logger = _configure(path)
    sampler = SampleSuccess(10)
    logger.addFilter(sampler)
    return logger, lambda: logger.removeFilter(sampler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    variants: list[tuple[str, Any]] = [
        ("StreamHandler + JsonFormatter (hoje)", plain("json")),
        ("QueueHandler + QueueListener", queued),
        ("amostragem 2xx 1/10", sampled),
    ]
    if _extra_formatters():
        variants.append(("StreamHandler + OrjsonFormatter", plain("orjson")))
    for _ in range(args.rounds):
        for name, setup in variants:
            measure(name, args.records, setup)


if __name__ == "__main__":
    main()
