"""Staging mode end to end, against a mock JumpCloud standing for a real organization (nothing else is reachable
from here): every staging check against the reference gateway, through the admin API and the login page only."""

from __future__ import annotations

from pathlib import Path

import pytest

from hoop_conformance.assertions import redact_text

from .org import Organization, organization
from .runs import results, staging_checks, statuses

pytestmark = pytest.mark.integration

NEED_THE_MOCK = {"DISC-08": "counts the IdP requests in the mock's journal"}
"""Staging checks that cannot run against a real organization, and why (their skip reason must name the mock)."""


def test_every_staging_check_passes_without_the_control_api(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    # An organization that requires MFA: the provisioned users pass only through their exclusion window.
    with organization(pytestconfig.getoption("server_logs"), require_mfa=True) as org:
        run = org.run(tmp_path, "-n", "2", "--maxprocesses", "2", reports=tmp_path / "reports")
        assert run.returncode == 0, redact_text(run.output)
        assert org.control_calls() == 0, "the staging run used the mock's control API"
        assert org.leftovers() == [], "the run left users or groups behind"
        assert org.population() == (0, 0)
    found = statuses(tmp_path / "reports")
    wanted = staging_checks()
    not_passed = {
        check: found.get(check) for check in wanted - NEED_THE_MOCK.keys() if found.get(check, ("",))[0] != "PASS"
    }
    assert not not_passed, f"staging checks that did not pass: {not_passed}"
    for check, why in NEED_THE_MOCK.items():
        status, message = found[check]
        assert status == "SKIP" and "mock JumpCloud" in message, f"{check} ({why}): {status} {message}"
    others = {check: value for check, value in found.items() if check not in wanted}
    assert others and all(status == "SKIP" and "mock JumpCloud" in message for status, message in others.values())
    idp = results(tmp_path / "reports")["run"]["idp"]
    assert idp["mode"] == "jumpcloud" and idp["issuer"] == org.issuer and idp["run_id"].startswith("hoopconf-")
    assert "exclusion" in idp["mfa"]
    html = (tmp_path / "reports" / "report.html").read_text()
    assert "a JumpCloud organization" in html and org.issuer in html


def test_the_run_sends_the_organization_id_when_given(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    with organization(
        pytestconfig.getoption("server_logs"), org_id="5f0c1a2b3c4d5e6f7a8b9c0d", require_org_id=True
    ) as org:
        run = org.run(tmp_path, "-n", "0", "--checks", "GROUP-01,TOKEN-10", reports=tmp_path / "reports")
        assert run.returncode == 0, redact_text(run.output)
        assert org.leftovers() == []
    assert {status for status, _ in statuses(tmp_path / "reports").values()} == {"PASS"}


def test_a_429_burst_on_the_admin_api_slows_the_run_but_fails_nothing(tmp_path: Path, org: Organization) -> None:
    # the test sets the fault (the run itself never touches the control API)
    fault = org.mock.control.add_fault(
        "respond", endpoint="admin", status=429, times=6, headers={"Retry-After": "1"},
        body='{"message":"Too Many Requests"}',
    )  # fmt: skip
    run = org.run(tmp_path, "-n", "0", "--checks", "GROUP-01,GROUP-03,TOKEN-01", reports=tmp_path / "reports")
    assert run.returncode == 0, redact_text(run.output)
    assert {status for status, _ in statuses(tmp_path / "reports").values()} == {"PASS"}
    fired = next(f["fired"] for f in org.mock.control.faults() if f["id"] == fault)
    assert fired == 6, f"the burst was not met by the run: {fired} of 6 answers 429"
    assert org.leftovers() == []
