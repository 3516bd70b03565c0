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


def test_store_suite_runs_against_a_real_mongodb_service() -> None:
    job = jobs()["mongodb"]

    assert job["services"]["mongo"]["image"].startswith("mongo:")
    assert job["env"]["MONGO_URI"] == "mongodb://localhost:27017/trader_monitor_test"
    assert job["env"]["CI"] == "true"
    assert "tests/events" in commands(job)


def test_docker_job_builds_and_smoke_tests_the_compose_stack() -> None:
    run = commands(jobs()["docker"])

    assert "make env" in run
    assert "docker compose up --build" in run
    assert "/api/health" in run
    assert "docker compose down --volumes" in run
