"""Cria o ``.env`` a partir do ``.env.example`` com segredos novos (``make env``).

Só a stdlib: roda antes de existir o ``.venv``. Não sobrescreve um ``.env`` existente.
"""

from __future__ import annotations

import base64
import secrets
import sys
from pathlib import Path

GENERATORS = {
    "DJANGO_SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "WEBHOOK_SECRET": lambda: "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
}


def render(template: str) -> str:
    """Preenche as chaves obrigatórias vazias do modelo com segredos novos."""
    lines = []
    for line in template.splitlines():
        name, sep, value = line.partition("=")
        if sep and not value and name in GENERATORS:
            line = f"{name}={GENERATORS[name]()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def main(root: Path) -> int:
    target = root / ".env"
    if target.exists():
        print(f"{target} já existe; nada foi alterado.")
        return 0
    target.write_text(render((root / ".env.example").read_text()))
    target.chmod(0o600)
    print(f"{target} criado com DJANGO_SECRET_KEY e WEBHOOK_SECRET novos.")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()))
