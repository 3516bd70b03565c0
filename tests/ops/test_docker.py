"""Dockerfile, entrypoint e docker-compose.yml validados sem um Docker engine.

Não há engine nestas máquinas: o Dockerfile passa pelo hadolint e por checagens de
estrutura (dockerfile-parse); o compose, por asserções e pelo ``docker compose
config``/``docker-compose config`` quando um cliente existe (só o cliente: não sobe nada).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "docker"))
from make_env import render  # noqa: E402


def stages() -> dict[str, list[dict[str, str]]]:
    """Instruções do Dockerfile (instrução → valor) agrupadas por estágio (nome do ``FROM … AS``)."""
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    grouped: dict[str, list[dict[str, str]]] = {}
    current = ""
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            current = instruction["value"].split()[-1]
            grouped[current] = []
        if current:
            grouped[current].append({"instruction": instruction["instruction"], "value": instruction["value"]})
    return grouped


def values(stage: list[dict[str, str]], instruction: str) -> list[str]:
    return [item["value"] for item in stage if item["instruction"] == instruction]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_hadolint_finds_nothing() -> None:
    hadolint = BIN / "hadolint"
    result = subprocess.run(  # noqa: S603
        [str(hadolint), "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_has_builder_dev_and_prod_stages() -> None:
    found = stages()
    assert {"base", "builder", "dev", "prod"} <= set(found)
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    assert parser.parent_images == ["python:3.11-slim", "base", "builder", "base"]
    assert values(found["prod"], "FROM") == ["base AS prod"]
    assert values(found["dev"], "CMD")


def test_prod_stage_is_non_root_without_build_tools_and_collects_static() -> None:
    prod = stages()["prod"]
    runs = " ".join(values(prod, "RUN"))

    [user] = values(prod, "USER")
    assert user.split(":")[0] not in {"root", "0"}
    assert "apt-get" not in runs
    assert "build-essential" not in runs
    assert "--mount=type=bind,from=builder" in runs  # wheels emprestadas, não copiadas
    assert not any("builder" in value for value in values(prod, "COPY"))
    assert "collectstatic --noinput" in runs
    assert "DJANGO_SECRET_KEY" not in " ".join(values(prod, "ENV"))


def test_prod_stage_runs_uvicorn_with_healthcheck_and_entrypoint() -> None:
    prod = stages()["prod"]

    [healthcheck] = values(prod, "HEALTHCHECK")
    [entrypoint] = values(prod, "ENTRYPOINT")
    [command] = values(prod, "CMD")
    assert "/app/docker/healthcheck.py" in healthcheck
    assert "/app/docker/entrypoint.sh" in entrypoint
    assert "uvicorn trader_monitor.asgi:application" in command
    assert "--workers ${WEB_CONCURRENCY:-2}" in command
    assert "--port ${PORT:-8000}" in command
    assert "--proxy-headers" in command
    # Medido no fan-out do feed (bench/OTIMIZACOES.md): comprimir cada quadro pequeno custa CPU.
    assert "--ws-per-message-deflate false" in command
    env = " ".join(values(prod, "ENV"))
    assert "PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus" in env
    assert "DJANGO_DEBUG=false" in env


def test_build_context_leaves_out_secrets_and_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git", "db.sqlite3", "staticfiles"} <= set(ignored)
    assert "!.env.example" in ignored


def test_build_context_leaves_out_the_development_tools() -> None:
    # devtools/ (o mongowire, um MongoDB de mentira) nunca pode ir para a imagem de produção.
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "devtools" in ignored


def test_entrypoint_migrates_ensures_indexes_resets_metrics_and_execs(tmp_path: Path) -> None:
    entrypoint = ROOT / "docker" / "entrypoint.sh"
    assert entrypoint.stat().st_mode & stat.S_IXUSR
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_99999.db").write_bytes(b"old")
    database = tmp_path / "db.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "DJANGO_DEBUG": "true",
        "MONGO_URI": "mongomock://localhost/entrypoint",
        "DATABASE_URL": f"sqlite:///{database}",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }

    result = subprocess.run(  # noqa: S603
        ["/bin/sh", str(entrypoint), "sh", "-c", "echo comando=$PROMETHEUS_MULTIPROC_DIR"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "índices garantidos" in result.stdout
    assert result.stdout.strip().endswith(f"comando={metrics_dir}")
    assert database.stat().st_size > 0
    assert list(metrics_dir.iterdir()) == []


def test_compose_declares_backend_mongo_and_redis_with_healthchecks() -> None:
    spec = compose()

    assert set(spec["services"]) == {"backend", "notifications", "mongo", "redis"}
    assert "mongo_data" in spec["volumes"]
    assert "mongo_data:/data/db" in spec["services"]["mongo"]["volumes"]
    assert "mongosh" in spec["services"]["mongo"]["healthcheck"]["test"]
    # MongoDB em replica set de um nó (escritas repetíveis), iniciado pela própria checagem.
    assert spec["services"]["mongo"]["command"] == ["--replSet", "rs0", "--bind_ip_all"]
    assert "rs.initiate" in " ".join(spec["services"]["mongo"]["healthcheck"]["test"])
    assert "ping" in spec["services"]["redis"]["healthcheck"]["test"]
    backend = spec["services"]["backend"]
    assert backend["build"] == {"context": ".", "target": "prod"}
    assert backend["depends_on"] == {
        "mongo": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


def test_compose_runs_the_notification_sender_from_the_same_image_after_the_backend() -> None:
    services = compose()["services"]
    sender = services["notifications"]

    assert sender["command"] == ["python", "manage.py", "deliver_notifications"]
    assert sender["image"] == services["backend"]["image"]
    assert sender["build"] == services["backend"]["build"]
    assert sender["environment"]["MONGO_URI"] == services["backend"]["environment"]["MONGO_URI"]
    assert sender["environment"]["DATABASE_URL"] == services["backend"]["environment"]["DATABASE_URL"]
    assert sender["environment"]["RUN_MIGRATIONS"] == "false"
    assert sender["depends_on"]["backend"] == {"condition": "service_healthy"}
    assert sender["healthcheck"] == {"disable": True}


def test_compose_wires_services_and_requires_secrets_from_env_file() -> None:
    environment = compose()["services"]["backend"]["environment"]

    assert environment["MONGO_URI"] == "mongodb://mongo:27017/trader_monitor?replicaSet=rs0"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["DJANGO_DEBUG"] == "false"
    assert environment["DJANGO_SECRET_KEY"].startswith("${DJANGO_SECRET_KEY:?")
    assert environment["WEBHOOK_SECRET"].startswith("${WEBHOOK_SECRET:?")
    assert environment["DJANGO_ALLOWED_HOSTS"] == "${DJANGO_ALLOWED_HOSTS:-localhost,127.0.0.1}"
    assert environment["DJANGO_SECURE_SSL_REDIRECT"] == "${DJANGO_SECURE_SSL_REDIRECT:-false}"


def test_env_example_lists_required_secrets_and_make_env_fills_them() -> None:
    template = (ROOT / ".env.example").read_text()

    rendered = dict(line.split("=", 1) for line in render(template).splitlines() if line and not line.startswith("#"))

    assert len(rendered["DJANGO_SECRET_KEY"]) >= 50
    assert rendered["WEBHOOK_SECRET"].startswith("whsec_")
    assert render(template) != render(template)


def _compose_client() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True, check=False).returncode == 0:  # noqa: S603
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_client_accepts_the_file(tmp_path: Path) -> None:
    client = _compose_client()
    require_service(client is not None, "nenhum cliente docker compose instalado (apt-get install docker-compose)")
    assert client is not None
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    (tmp_path / ".env.example").write_text((ROOT / ".env.example").read_text())
    (tmp_path / ".env").write_text(render((ROOT / ".env.example").read_text()))
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SECRET_KEY", "WEBHOOK_SECRET"}}

    result = subprocess.run(  # noqa: S603
        [*client, "config"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    (tmp_path / ".env").write_text("")
    missing = subprocess.run(  # noqa: S603
        [*client, "config"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert result.returncode == 0, result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert resolved["services"]["backend"]["environment"]["WEBHOOK_SECRET"].startswith("whsec_")
    assert missing.returncode != 0
    assert "make env" in missing.stderr
