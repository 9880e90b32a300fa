"""Nothing a staging run provisions stays in the organization: a normal run and a failing run clean up at their end,
a run killed with SIGKILL halfway leaves what it made, and the sweep removes it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hoop_conformance.assertions import redact_text

from ..suite.runs import REPO_ROOT
from .org import Organization
from .runs import interrupted_run, statuses

pytestmark = pytest.mark.integration

CHECKS = "GROUP-01,GROUP-02,GROUP-03,GROUP-04"


def sweep(org: Organization, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m hoop_conformance.staging sweep ARGS`` with the operator's environment."""
    return subprocess.run(
        [sys.executable, "-m", "hoop_conformance.staging", "sweep", *args],
        cwd=REPO_ROOT,
        env={"PATH": "/usr/bin:/bin", **org.env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_normal_failing_and_killed_runs_leave_nothing_after_the_sweep(tmp_path: Path, org: Organization) -> None:
    normal = org.run(tmp_path / "normal", "-n", "0", "--checks", CHECKS, reports=tmp_path / "normal" / "reports")
    assert normal.returncode == 0, redact_text(normal.output)
    assert org.leftovers() == [], "a normal run left users or groups"

    failing = org.run(
        tmp_path / "failing", "-n", "0", "--checks", CHECKS, env={"REFGW_MUTANT": "groups_first_only"},
        reports=tmp_path / "failing" / "reports",
    )  # fmt: skip
    assert failing.returncode == 1 and statuses(tmp_path / "failing" / "reports")["GROUP-01"][0] == "FAIL", redact_text(
        failing.output
    )
    assert org.leftovers() == [], "a failing run left users or groups"

    _, left = interrupted_run(tmp_path / "killed", org, "-n", "1", "--checks", "GROUP,CB-25,CB-27")
    assert left >= 3, "the killed run left nothing: it was not killed halfway"
    population = org.population()

    young = sweep(org, "--older-than", "2h")
    assert young.returncode == 0 and "deleted 0 user(s) and 0 group(s)" in young.stdout, young.stdout + young.stderr
    dry = sweep(org, "--older-than", "0s", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.count("would delete ") == left + 1, dry.stdout + dry.stderr
    assert org.population() == population, "--dry-run deleted something"

    swept = sweep(org, "--older-than", "0s")
    assert swept.returncode == 0, swept.stdout + swept.stderr
    assert org.leftovers() == [] and org.population() == (0, 0), "the organization still holds what the runs made"
    assert org.env["JUMPCLOUD_API_KEY"] not in swept.stdout + swept.stderr + dry.stdout


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_a_stopped_run_cleans_up_before_it_ends(tmp_path: Path, org: Organization, signum: signal.Signals) -> None:
    status, left = interrupted_run(tmp_path, org, "-n", "1", "--checks", "GROUP,CB-25,CB-27", signum=signum)
    assert status == pytest.ExitCode.INTERRUPTED, (tmp_path / "interrupted-run.log").read_text()[-3000:]
    assert left == 0, f"the stopped run left {left} users or groups"
    assert "staging: run hoopconf-" in (tmp_path / "interrupted-run.log").read_text()


def _sweep_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hoop_conformance.staging", "sweep", *args],
        cwd=REPO_ROOT, env={"PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_sweep_bad_input_is_one_line(org: Organization) -> None:
    without_key = {name: value for name, value in org.env.items() if name != "JUMPCLOUD_API_KEY"}
    missing = _sweep_with(without_key, "--older-than", "2h")
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1 and "JUMPCLOUD_API_KEY" in missing.stderr
    refused = _sweep_with({**org.env, "JUMPCLOUD_API_KEY": "wrong-key"}, "--older-than", "2h")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "401" in refused.stderr, refused.stderr
    assert "wrong-key" not in refused.stdout + refused.stderr
    bad_age = sweep(org, "--older-than", "soon")
    assert bad_age.returncode == 2 and "Traceback" not in bad_age.stderr
    fine = sweep(org, "--older-than", "2h")
    assert fine.returncode == 0 and "deleted 0 user(s) and 0 group(s)" in fine.stdout
