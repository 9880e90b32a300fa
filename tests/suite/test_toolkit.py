"""One way to write a check: suite files hold checks and data only, faults go through the toolkit and must fire, and
a check's own gateway is declared by its marker and started at setup."""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest

from tests.suite.runs import REPO_ROOT, run_suite

SUITE_FILES = sorted((REPO_ROOT / "suites").glob("test_*.py"))
FORBIDDEN_IN_CHECKS = {"add_fault": "set faults with deployment.fault() or a marker's idp_faults",
                       "gateway_pool": "declare a gateway of its own with @gateway(...)",
                       "run_gateway": "declare a gateway of its own with @gateway(...)"}  # fmt: skip


def _is_check(node: ast.FunctionDef | ast.ClassDef) -> bool:
    """A check function: a ``check`` marker, or a parametrization whose rows carry one."""
    decorators = [ast.unparse(d) for d in node.decorator_list]
    return any(d.startswith("check(") for d in decorators) or any("parametrize" in d for d in decorators)


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: p.name)
def test_suite_files_hold_only_checks_and_data(path: Path) -> None:
    tree = ast.parse(path.read_text())
    helpers = [n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef) and not _is_check(n)]
    assert not helpers, f"{path.name}: move these into the toolkit (hoop_conformance): {helpers}"
    forbidden = {n.attr if isinstance(n, ast.Attribute) else n.id for n in ast.walk(tree)
                 if isinstance(n, ast.Attribute | ast.Name) and (n.attr if isinstance(n, ast.Attribute) else n.id)
                 in FORBIDDEN_IN_CHECKS}  # fmt: skip
    assert not forbidden, f"{path.name}: " + "; ".join(f"{name}: {FORBIDDEN_IN_CHECKS[name]}" for name in forbidden)


CHECKS = """
from hoop_conformance.catalogue import MUST, check
from hoop_conformance.deployment import Deployment
from hoop_conformance.gateways import gateway


@check("CB-01", level=MUST, ref="-", requirement="A fault nobody meets.")
def test_fault_on_an_endpoint_nobody_calls(deployment: Deployment) -> None:
    user = deployment.make_user()
    with deployment.fault("respond", endpoint="revoke", user=user.email, status=500):
        deployment.login(user)


@check("CB-02", level=MUST, ref="-", requirement="A gateway that will not start.")
@gateway(env={"REFGW_IDP_TIMEOUT": "not a number"}, own_idp=False, warm_up=False)
def test_own_gateway_that_will_not_start(deployment: Deployment) -> None:
    raise AssertionError("never reached: the gateway did not start")
"""


def test_a_fault_that_never_fired_and_a_gateway_that_will_not_start_are_errors(tmp_path: Path) -> None:
    checks = tmp_path / "checks" / "test_toolkit_checks.py"
    checks.parent.mkdir()
    checks.write_text(textwrap.dedent(CHECKS))
    run = run_suite(tmp_path, paths=[str(checks)])
    report = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    results = {c["id"]: (c["status"], c["message"]) for c in report["checks"]}
    status, message = results["CB-01"]
    assert status == "ERROR" and "never fired" in message, (results, run.output)
    status, message = results["CB-02"]
    assert status == "ERROR" and "did not start" in message, (results, run.output)
    junit = (tmp_path / "junit.xml").read_text()
    assert "failed on setup with" in junit, "the gateway's failed start must be an error at setup"
