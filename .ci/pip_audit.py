"""``pip-audit`` das dependências fixadas, honesto sobre o que conseguiu auditar (``make lint``).

O pip-audit consulta um serviço de vulnerabilidades: a API JSON por versão do PyPI
(``/pypi/<pacote>/<versão>/json``, campo ``vulnerabilities``) ou o OSV (api.osv.dev).
Se nenhum responde, ele imprime "No known vulnerabilities found" sem ter auditado nada
(cada pacote vira "could not be audited") e sai com 0 — um verde falso. Por isso:

* antes, sondamos os serviços; com um deles no ar, o pip-audit roda com ``--strict``
  (um pacote não auditado é falha) e qualquer vulnerabilidade derruba o lint;
* sem nenhum, imprimimos "pip-audit: PULADO" com o motivo observado e saímos com 0 —
  a não ser que ``PIP_AUDIT_REQUIRED=true`` (o workflow do GitHub, que alcança o PyPI),
  quando a falta do serviço é erro. O ``.ci/run`` roda nesta máquina, que não alcança
  nenhum dos serviços: lá o passo é pulado e diz isso.

Exceções (vulnerabilidades aceitas) vão em ``IGNORED``, cada uma com a justificativa.
"""

from __future__ import annotations

import json
import os
import subprocess  # só roda o pip-audit, com argumentos fixos  # nosec B404
import sys
import urllib.error
import urllib.request
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = ["requirements.txt", "requirements-dev.txt"]
TIMEOUT_SECONDS = 10
# Vulnerabilidades aceitas conscientemente: {"ID": "por quê"}. Hoje nenhuma.
IGNORED: dict[str, str] = {}


def _probe_pypi() -> str | None:
    """``None`` se a API por versão do PyPI responde com o campo de vulnerabilidades."""
    url = f"https://pypi.org/pypi/pip-audit/{version('pip-audit')}/json"
    try:
        # URL fixa https (nenhum esquema vindo de fora).
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # nosec B310
            payload = json.load(response)
    except (OSError, ValueError) as exc:
        return f"{url} → {exc}"
    if "vulnerabilities" not in payload:
        return f"{url} → resposta sem o campo 'vulnerabilities'"
    return None


def _probe_osv() -> str | None:
    """``None`` se o OSV responde a uma consulta de um pacote sabidamente vulnerável."""
    url = "https://api.osv.dev/v1/query"
    query = json.dumps({"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "2.4.1"}).encode()
    request = urllib.request.Request(url, data=query, headers={"Content-Type": "application/json"})
    try:
        # URL fixa https (nenhum esquema vindo de fora).
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            payload = json.load(response)
    except (OSError, ValueError) as exc:
        return f"{url} → {exc}"
    if not payload.get("vulns"):
        return f"{url} → resposta sem vulnerabilidades para um pacote sabidamente vulnerável"
    return None


def main() -> int:
    required = os.environ.get("PIP_AUDIT_REQUIRED", "").lower() in {"1", "true", "yes"}
    failures: list[str] = []
    service = None
    for name, probe in (("pypi", _probe_pypi), ("osv", _probe_osv)):
        failure = probe()
        if failure is None:
            service = name
            break
        failures.append(failure)
    if service is None:
        print("pip-audit: PULADO — nenhum serviço de vulnerabilidades alcançável daqui:", file=sys.stderr)
        for failure in failures:
            print(f"  - {failure}", file=sys.stderr)
        if required:
            print("pip-audit: PIP_AUDIT_REQUIRED=true — falhando.", file=sys.stderr)
            return 1
        return 0
    command = [
        str(Path(sys.executable).with_name("pip-audit")),
        "--strict",
        "--progress-spinner",
        "off",
        "--vulnerability-service",
        service,
    ]
    for requirements in REQUIREMENTS:
        command += ["-r", str(ROOT / requirements)]
    for vuln_id in IGNORED:
        command += ["--ignore-vuln", vuln_id]
    print(f"pip-audit: auditando {', '.join(REQUIREMENTS)} contra o serviço {service}", file=sys.stderr)
    # Comando fixo (o pip-audit do próprio venv), sem shell.
    return subprocess.run(command, cwd=ROOT, check=False).returncode  # noqa: S603  # nosec B603


if __name__ == "__main__":
    sys.exit(main())
