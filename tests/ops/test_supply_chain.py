"""``make lint`` audita dependências (pip-audit) e código (bandit) sem verdes falsos."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _gate() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pip_audit_gate", ROOT / ".ci" / "pip_audit.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lint_runs_bandit_and_the_pip_audit_gate() -> None:
    makefile = (ROOT / "Makefile").read_text()
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]

    assert "bandit -c pyproject.toml -r ." in lint
    assert ".ci/pip_audit.py" in lint


def test_github_lint_job_requires_the_audit() -> None:
    job = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())["jobs"]["lint"]

    assert job["env"]["PIP_AUDIT_REQUIRED"] == "true"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[list[str]]]:
    module = _gate()
    calls: list[list[str]] = []

    def fake_run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(module.subprocess, "run", fake_run)
    return module, calls


def test_without_a_reachable_service_the_audit_is_skipped_loudly(
    gate: tuple[ModuleType, list[list[str]]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    module, calls = gate
    monkeypatch.setattr(module, "_probe_pypi", lambda: "pypi: 404")
    monkeypatch.setattr(module, "_probe_osv", lambda: "osv: DNS")
    monkeypatch.delenv("PIP_AUDIT_REQUIRED", raising=False)

    assert module.main() == 0
    assert calls == []
    assert "PULADO" in capsys.readouterr().err
    monkeypatch.setenv("PIP_AUDIT_REQUIRED", "true")
    assert module.main() == 1


def test_with_a_reachable_service_every_pin_must_be_audited(
    gate: tuple[ModuleType, list[list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, calls = gate
    monkeypatch.setattr(module, "_probe_pypi", lambda: "pypi: 404")
    monkeypatch.setattr(module, "_probe_osv", lambda: None)

    assert module.main() == 0
    (command,) = calls
    assert "--strict" in command  # pacote não auditado = falha, não "No known vulnerabilities"
    assert command[command.index("--vulnerability-service") + 1] == "osv"
    assert str(ROOT / "requirements.txt") in command
    assert str(ROOT / "requirements-dev.txt") in command
