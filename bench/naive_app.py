"""B2 — a mesma ingestão feita do jeito ingênuo: uma ``APIView`` síncrona do DRF.

É o app Django puro (``get_asgi_application``), sem o app ASGI enxuto do webhook
montado na frente: ``POST /api/webhook/event`` passa por toda a pilha de middleware
e cai em ``events.api.WebhookEventView`` — a mesma validação, assinatura, gravação e
``group_send`` (``process_delivery`` + ``event_broadcast``), mas numa view síncrona
que o servidor ASGI roda na thread única de código síncrono. Servido pelo daphne.
"""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trader_monitor.settings")

application = get_asgi_application()
