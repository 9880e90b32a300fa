"""What a run leaves behind, and the gate: reports against a mutant (with evidence), expectations files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from playwright.sync_api import Page

from hoop_conformance.expectations import main as expectations_main
from hoop_conformance.reporting.document import SCHEMA
from tests.suite.runs import SuiteRun, run_suite

MUTANTS = "ignore_stored_redirect,skip_state_check"
CHECKS = "CB-01,CB-04,CB-05,LOGIN-01"
FAILING = {"CB-01", "CB-04", "CB-05"}
EXPECTED_FAILURES = """
[CB-01]
expected = "FAIL"
reason = "the mutant ignore_stored_redirect"

[CB-04]
expected = "FAIL"
reason = "the mutant skip_state_check"

[CB-05]
expected = "FAIL"
reason = "the mutant skip_state_check"
"""


def documented(reports: Path) -> dict[str, Any]:
    """``conformance.json``, validated against its committed JSON Schema."""
    document: dict[str, Any] = json.loads((reports / "conformance.json").read_text())
    jsonschema.validate(document, json.loads(SCHEMA.read_text()))
    return document


@pytest.fixture(scope="module")
def mutant_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[SuiteRun, Path]:
    """One run of a few checks against mutants, keeping screenshots and traces of failures."""
    tmp = tmp_path_factory.mktemp("mutant-run")
    reports = tmp / "reports"
    run = run_suite(
        tmp, "--checks", CHECKS, "--screenshot", "only-on-failure", "--tracing", "retain-on-failure",
        env={"REFGW_MUTANT": MUTANTS}, reports=reports, junit=reports / "junit.xml", output=reports / "artifacts",
    )  # fmt: skip
    return run, reports


def test_a_mutant_fails_the_gate_and_the_reports_show_its_evidence(
    mutant_run: tuple[SuiteRun, Path], page: Page, tmp_path: Path
) -> None:
    run, reports = mutant_run
    assert run.returncode == 1, run.output
    assert all((reports / name).is_file() for name in ("conformance.json", "report.html", "junit.xml"))
    document = documented(reports)
    assert {c["id"] for c in document["checks"] if c["status"] == "FAIL"} == FAILING
    assert not document["gate"]["passed"] and document["gate"]["exit_status"] == 1
    by_id = {c["id"]: c for c in document["checks"]}
    assert by_id["CB-01"]["evidence"]["screenshots"] and by_id["CB-01"]["evidence"]["traces"]
    assert any(entry["endpoint"] == "token" for entry in by_id["CB-04"]["evidence"]["journal"])

    page.goto((reports / "report.html").as_uri())
    assert page.locator("tr.check").count() == len(document["checks"])
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    for details in page.locator("details").all():
        details.evaluate("element => element.open = true")
    assert page.locator("img[src^='data:image/png;base64,']").count() >= 1
    assert page.get_by_text("playwright show-trace").first.is_visible()
    assert page.locator("details").filter(has_text="token").count() >= 1

    junit = (reports / "junit.xml").read_text()
    assert 'name="CB-04"' in junit and "expected PASS, actual FAIL" in junit


def test_a_run_of_the_reference_gateway_writes_every_report(tmp_path: Path, page: Page) -> None:
    reports = tmp_path / "reports"
    run = run_suite(tmp_path, "--checks", "LOGIN,SESS", reports=reports)
    assert run.returncode == 0, run.output
    document = documented(reports)
    assert document["gate"]["passed"] and {c["status"] for c in document["checks"]} == {"PASS"}
    page.goto((reports / "report.html").as_uri())
    assert page.locator("tr.check").count() == len(document["checks"]) == 17
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)


def test_expected_failures_pass_the_gate_until_an_entry_goes(tmp_path: Path) -> None:
    expectations = tmp_path / "mutants.toml"
    expectations.write_text(EXPECTED_FAILURES)
    env = {"REFGW_MUTANT": MUTANTS}
    run = run_suite(tmp_path / "all", "--checks", CHECKS, "--expectations", str(expectations), env=env)
    assert run.returncode == 0, run.output
    document = documented(tmp_path / "all" / "reports")
    assert {c["id"]: c["unexpected"] for c in document["checks"] if c["status"] == "FAIL"} == dict.fromkeys(
        FAILING, False
    )
    assert "expected   FAIL  CB-04" in run.output

    expectations.write_text(EXPECTED_FAILURES.replace('[CB-05]\nexpected = "FAIL"', '[CB-05]\nexpected = "PASS"'))
    run = run_suite(tmp_path / "one-less", "--checks", CHECKS, "--expectations", str(expectations), env=env)
    assert run.returncode == 1, run.output
    assert "UNEXPECTED FAIL  CB-05" in run.output


def test_an_expected_failure_that_passes_is_reported_and_gates_only_with_strict(tmp_path: Path) -> None:
    expectations = tmp_path / "stale.toml"
    expectations.write_text('[CB-04]\nexpected = "FAIL"\nreason = "fixed since"\n')
    run = run_suite(tmp_path / "plain", "--checks", "CB-04", "--expectations", str(expectations))
    assert run.returncode == 0 and "UNEXPECTED PASS  CB-04" in run.output, run.output
    run = run_suite(tmp_path / "strict", "--checks", "CB-04", "--expectations", str(expectations), "--strict")
    assert run.returncode == 1 and "expected FAIL but passed" in run.output, run.output


def test_an_unknown_check_in_an_expectations_file_is_a_usage_error(tmp_path: Path) -> None:
    expectations = tmp_path / "typo.toml"
    expectations.write_text('[CB-99]\nexpected = "FAIL"\nreason = "typo"\n')
    run = run_suite(tmp_path, "--checks", "CB-04", "--expectations", str(expectations))
    assert run.returncode == 4 and "[CB-99] is not a check of the catalogue" in run.output, run.output


def test_update_rewrites_an_expectations_file_keeping_true_reasons(
    mutant_run: tuple[SuiteRun, Path], tmp_path: Path
) -> None:
    _, reports = mutant_run
    target = tmp_path / "gateway.toml"
    target.write_text('# header kept\n\n[CB-04]\nexpected = "FAIL"\nreason = "kept"\n\n[LOGIN-01]\nexpected = "FAIL"\n')
    assert expectations_main(["update", str(reports / "conformance.json"), str(target)]) == 0
    text = target.read_text()
    assert text.startswith("# header kept")
    assert '[CB-04]\nexpected = "FAIL"\nreason = "kept"' in text
    assert "[CB-01]" in text and "[CB-05]" in text and "LOGIN-01" not in text
