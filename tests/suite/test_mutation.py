"""The mutation test: every check can fail. Each mutant of the reference gateway makes every check it names fail,
and the strict reference gateway passes the whole suite.

Mutants reach the gateway as any configuration does, through the environment (``REFGW_MUTANT``): the plugin
never knows they exist. Each mutant's run selects only the checks it names (``--checks``) and uses the worker's one
mock IdP (``--idp-issuer``): every gateway a run starts registers an app of its own there, and the checks that set
global faults start a mock of their own as always. The long runs go first (``first=True``): the strict run, then the
mutants that name a LOAD check.

``./run mutation`` runs this module (marker ``mutation``), not ``./run tests``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hoop_conformance.launchers.mock import RunningMockIdp
from reference_gateway.mutants import MUTANTS
from tests.suite.runs import run_suite

pytestmark = pytest.mark.mutation

IDP_TIMEOUT = 2
"""The reference gateway's bound on IdP calls in mutant runs (default 5 s): hangs are judged sooner."""
HANG_BUDGET = 6
"""The suite's time budget for hangs in mutant runs: above the gateway's own bound, well under the default 15 s."""


@pytest.mark.mutation(first=True)
def test_strict_reference_gateway_passes_every_check(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "-n", "2")
    not_passing = {check: status for check, status in run.statuses.items() if status != "PASS"}
    heavy_skips = {
        check for check, status in not_passing.items() if status == "SKIP" and check in ("LOAD-04", "LOAD-05")
    }
    assert {c: s for c, s in not_passing.items() if c not in heavy_skips} == {}, run.output
    assert run.returncode == 0, run.output
    assert len(run.statuses) >= 87, f"only {len(run.statuses)} checks ran"


def scheduling(name: str) -> tuple[pytest.MarkDecorator, ...]:
    """A mutant that names a LOAD check (hundreds of logins: a long run) is scheduled first."""
    return (pytest.mark.mutation(first=True),) if any(c.startswith("LOAD-") for c in MUTANTS[name].checks) else ()


@pytest.mark.parametrize("name", [pytest.param(name, marks=scheduling(name)) for name in sorted(MUTANTS)])
def test_mutant_makes_its_checks_fail(
    name: str, tmp_path: Path, record_property: Callable[[str, object], None], mock_idp: RunningMockIdp
) -> None:
    mutant = MUTANTS[name]
    run = run_suite(
        tmp_path,
        "--checks", ",".join(mutant.checks + mutant.passes), "--heavy", "--strict", "--time-budget", str(HANG_BUDGET),
        "--idp-issuer", mock_idp.issuer,
        env={"REFGW_MUTANT": name, "REFGW_IDP_TIMEOUT": str(IDP_TIMEOUT), "HOOP_IDP_ADMIN_KEY": mock_idp.admin_key},
    )  # fmt: skip
    record_property("mutant_failing", " ".join(sorted(run.failing())))
    survivors = sorted(set(mutant.checks) - run.failing())
    assert not survivors, (
        f"mutant {name} ({mutant.description}) survives {survivors}: {[run.statuses.get(c) for c in survivors]}\n"
        f"{run.output}"
    )
    statuses = {check: run.statuses.get(check, "not run") for check in mutant.passes}
    meddling = {check: status for check, status in statuses.items() if status != "PASS"}
    assert not meddling, (
        f"mutant {name} ({mutant.description}) breaks none of the rules of {list(mutant.passes)}, so they must PASS "
        f"(a check that does not judges another check's business): {meddling}\n{run.output}"
    )
    assert run.returncode != 0
