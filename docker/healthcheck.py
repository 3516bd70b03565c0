"""HEALTHCHECK da imagem: ``GET /api/health`` no próprio contêiner, só com a stdlib.

Usa como ``Host`` o primeiro de ``DJANGO_ALLOWED_HOSTS``, para que o Django aceite
a requisição mesmo quando só o domínio público está liberado.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("PORT", "8000")
    hosts = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(",") if h.strip()]
    host = hosts[0] if hosts else "localhost"
    if host == "*":
        host = "localhost"
    elif host.startswith("."):
        host = "health" + host
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/health", headers={"Host": host})
    try:
        # URL fixa http://127.0.0.1 (o próprio contêiner): nenhum esquema vindo de fora.
        with urllib.request.urlopen(request, timeout=4) as response:  # noqa: S310  # nosec B310
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"healthcheck falhou: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
