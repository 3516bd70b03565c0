"""O workflow do GitHub Actions: lint, suíte com serviços reais e a suíte do store num MongoDB real."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "ci.yml"


def jobs() -> dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]


def commands(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_lint_and_full_suite_jobs_use_the_makefile_with_real_services() -> None:
    found = jobs()

    assert "make lint" in commands(found["lint"])
    test = found["test"]
    assert "make test" in commands(test)
    assert test["env"]["CI"] == "true"
    assert {"redis", "postgres"} <= set(test["services"])
    assert "chromium" in commands(test)


def test_store_suite_runs_against_real_mongodb_7_and_8_as_replica_sets() -> None:
    job = jobs()["mongodb"]
    run = commands(job)

    assert job["strategy"]["matrix"]["mongo"] == ["7.0", "8.0"]
    assert "mongo:${{ matrix.mongo }}" in run
    assert "--replSet rs0" in run
    assert "rs.initiate" in run
    assert "enableTestCommands=1" in run
    assert job["env"]["MONGO_URI"] == "mongodb://localhost:27017/trader_monitor_test?replicaSet=rs0"
    # A suíte de contrato usa TEST_MONGO_URI para o adaptador "mongodb".
    assert job["env"]["TEST_MONGO_URI"].endswith("?replicaSet=rs0")
    assert job["env"]["CI"] == "true"
    assert "tests/events" in run
    assert "tests/reliability" in run


def test_docker_job_builds_and_smoke_tests_the_compose_stack() -> None:
    run = commands(jobs()["docker"])

    assert "make env" in run
    assert "docker compose up --build" in run
    assert "/api/health" in run
    assert "docker compose down --volumes" in run
