"""Receptor de notificações embutido, só para a demo (``/demo/receiver/``; 404 fora do DEBUG).

Faz o que um destino de verdade deve fazer: confere a assinatura Standard Webhooks com
a biblioteca ``standardwebhooks`` e o segredo do destino cadastrado com esta URL, e só
então aceita (2xx). Guarda as últimas entregas na memória do processo; ``GET`` (equipe)
as mostra em JSON. Assim, em ``make demo``, o ciclo alerta → entrega assinada →
``delivered`` no admin acontece sem nenhum serviço de fora.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from events.alerts.models import NotificationEndpoint
from events.windows import isoformat

logger = logging.getLogger(__name__)

KEEP = 50
_received: deque[dict[str, Any]] = deque(maxlen=KEEP)
_lock = threading.Lock()


def received() -> list[dict[str, Any]]:
    """As últimas entregas recebidas (mais novas primeiro)."""
    with _lock:
        return list(reversed(_received))


def _secrets_for(path: str) -> list[str]:
    """Segredos dos destinos cadastrados com este caminho (a demo aponta um para cá)."""
    wanted = path.rstrip("/")
    return [
        endpoint.secret
        for endpoint in NotificationEndpoint.objects.only("url", "secret")
        if urlsplit(endpoint.url).path.rstrip("/") == wanted
    ]


def _verified(body: str, headers: dict[str, str], secrets: list[str]) -> dict[str, Any] | None:
    for secret in secrets:
        try:
            payload: dict[str, Any] = Webhook(secret).verify(body, headers)
        except (WebhookVerificationError, ValueError):
            # ValueError: a biblioteca deixa escapar base64 ou "v1,…" malformados e JSON inválido.
            continue
        return payload
    return None


@csrf_exempt
def demo_receiver(request: HttpRequest) -> HttpResponse:
    if not settings.DEBUG:
        raise Http404
    if request.method == "GET":
        user = request.user
        if not (user.is_authenticated and user.is_staff):
            return JsonResponse({"error": "permission_denied", "detail": "Só equipe."}, status=403)
        return JsonResponse({"received": received()}, json_dumps_params={"ensure_ascii": False})
    if request.method != "POST":
        return JsonResponse({"error": "method_not_allowed"}, status=405)
    headers = {name.lower(): value for name, value in request.headers.items()}
    body = request.body.decode("utf-8", errors="replace")
    payload = _verified(body, headers, _secrets_for(request.path))
    record = {
        "receivedAt": isoformat(datetime.now(UTC)),
        "webhookId": headers.get("webhook-id", ""),
        "verified": payload is not None,
    }
    if payload is not None:
        data = payload.get("data") if isinstance(payload, dict) else None
        alert = data if isinstance(data, dict) else {}
        record |= {"type": payload.get("type"), "alertId": alert.get("id"), "message": alert.get("message")}
    with _lock:
        _received.append(record)
    if payload is None:
        logger.warning("receptor da demo: assinatura inválida", extra={"webhook_id": record["webhookId"]})
        return JsonResponse({"error": "bad_signature"}, status=401)
    logger.warning("receptor da demo: %s", json.dumps(record, ensure_ascii=False))
    return JsonResponse({"ok": True})
