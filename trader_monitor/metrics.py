"""Métricas Prometheus do processo (ou de todos os workers, em modo multiprocesso).

Com vários workers (``uvicorn --workers N``), defina ``PROMETHEUS_MULTIPROC_DIR``
(um diretório vazio a cada início; a imagem Docker faz isso no entrypoint): cada
processo grava suas amostras ali e ``/metrics`` agrega todas.

Séries expostas (todas com o prefixo ``trader_monitor_``):

* ``http_request_duration_seconds{method,route,status}`` — histograma de latência
  por rota (o padrão da URL, não o caminho, para limitar a cardinalidade);
* ``events_ingested_total{outcome}`` — entregas aceitas: ``created``/``duplicate``;
* ``webhook_rejected_total{reason}`` — rejeitadas, por motivo (``bad_signature``,
  ``invalid_payload``, ``conflict``, ``rate_limited``…);
* ``broadcast_failures_total`` — falhas ao publicar ``new_event``;
* ``store_errors_total{operation}`` — erros do MongoDB, por operação;
* ``alert_rule_errors_total{kind}`` — regras que falharam ao avaliar um evento (``stats``:
  a estatística da anomalia; ``rules``: leitura das regras); ``alerts_triggered_total{kind,severity}`` — alertas novos;
* ``websocket_connections`` — conexões WebSocket abertas (soma dos workers vivos);
* ``insight_calls_total{source,outcome}`` e ``insight_cost_usd_total`` — insights.

``/metrics`` exige ``Authorization: Bearer $METRICS_TOKEN`` quando a variável existe; sem
ela, só responde às redes de ``METRICS_ALLOWED_NETWORKS``.
"""

from __future__ import annotations

import atexit
import hmac
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

from trader_monitor.networks import address_in_networks

# As séries ``*_created`` (instante de criação de cada contador) só poluem a saída.
disable_created_metrics()  # type: ignore[no-untyped-call]

HTTP_DURATION = Histogram(
    "trader_monitor_http_request_duration_seconds",
    "Latência das requisições HTTP por rota.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_INGESTED = Counter(
    "trader_monitor_events_ingested_total",
    "Entregas de webhook aceitas, por resultado (created/duplicate/deleted).",
    ["outcome"],
)
WEBHOOK_REJECTED = Counter(
    "trader_monitor_webhook_rejected_total",
    "Entregas de webhook rejeitadas, por motivo.",
    ["reason"],
)
BROADCAST_FAILURES = Counter(
    "trader_monitor_broadcast_failures_total",
    "Falhas ao publicar new_event na camada de canais.",
)
STORE_ERRORS = Counter(
    "trader_monitor_store_errors_total",
    "Erros do armazenamento de eventos, por operação.",
    ["operation"],
)
WS_CONNECTIONS = Gauge(
    "trader_monitor_websocket_connections",
    "Conexões WebSocket abertas.",
    multiprocess_mode="livesum",
)
SOCKETIO_CONNECTIONS = Gauge(
    "trader_monitor_socketio_connections",
    "Clientes Socket.IO autenticados no feed (por namespace conectado).",
    multiprocess_mode="livesum",
)
ALERT_RULE_ERRORS = Counter(
    "trader_monitor_alert_rule_errors_total",
    "Regras de alerta que falharam ao avaliar um evento (o evento fica gravado), por tipo de regra.",
    ["kind"],
)
ALERTS_TRIGGERED = Counter(
    "trader_monitor_alerts_triggered_total",
    "Alertas novos, por tipo de regra e severidade.",
    ["kind", "severity"],
)
INSIGHT_CALLS = Counter(
    "trader_monitor_insight_calls_total",
    "Gerações de insight, por origem e resultado.",
    ["source", "outcome"],
)
INSIGHT_COST = Counter(
    "trader_monitor_insight_cost_usd_total",
    "Custo acumulado (USD) das chamadas ao modelo.",
)


# Motivos de rejeição e resultados conhecidos já nascem em zero: uma série que
# só aparece no primeiro incidente quebra alertas do tipo ``rate(...) > 0``.
INGEST_OUTCOMES = ("created", "duplicate", "deleted")
REJECTION_REASONS = (
    "missing_signature",
    "bad_signature",
    "stale_timestamp",
    "invalid_header",
    "invalid_json",
    "invalid_payload",
    "conflict",
    "payload_too_large",
    "rate_limited",
    "invalid_encoding",
    "unstorable_value",
)
for _outcome in INGEST_OUTCOMES:
    EVENTS_INGESTED.labels(_outcome)
for _reason in REJECTION_REASONS:
    WEBHOOK_REJECTED.labels(_reason)
for _kind in ("threshold", "frequency", "anomaly", "sequence", "stats", "rules"):
    ALERT_RULE_ERRORS.labels(_kind)

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Um worker que termina deixa de contar nas séries "live" (conexões WebSocket).
    atexit.register(multiprocess.mark_process_dead, os.getpid())


def observe_http(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_DURATION.labels(method, route, str(status)).observe(seconds)


def _registry() -> CollectorRegistry | None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return None


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Exposição Prometheus.

    Com ``METRICS_TOKEN``, exige ``Authorization: Bearer <token>``. Sem ele, só responde
    a clientes de ``METRICS_ALLOWED_NETWORKS`` (por padrão loopback, RFC 1918 e RFC 4193,
    de onde o Prometheus coleta) — também com ``DJANGO_DEBUG``.

    O cliente é o ``REMOTE_ADDR`` do servidor ASGI, nunca um ``X-Forwarded-For`` lido aqui:
    quem envia o cabeçalho escolhe o valor. Atrás de um proxy, o servidor (uvicorn
    ``--forwarded-allow-ips``) troca o endereço pelo do cabeçalho só quando a conexão vem de
    um proxy declarado confiável.
    """
    token = settings.METRICS_TOKEN
    if token:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), token.encode()):
            return HttpResponse(status=401, headers={"WWW-Authenticate": "Bearer"})
    elif not address_in_networks(str(request.META.get("REMOTE_ADDR") or ""), settings.METRICS_ALLOWED_NETWORKS):
        return HttpResponse(status=403)
    registry = _registry()
    payload = generate_latest(registry) if registry is not None else generate_latest()
    return HttpResponse(payload, content_type=CONTENT_TYPE_LATEST)
