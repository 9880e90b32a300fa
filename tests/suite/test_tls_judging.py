"""How TLS-01 and TLS-02 judge both ways a gateway may refuse a certificate: at start (the reference gateway: it
exits, its log naming the certificate) or at login (a gateway that reads nothing from the IdP at start); and how a
refusal at start whose log does not say why, or a gateway that trusts what it must not, fails them."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from tests.suite.runs import run_suite

pytestmark = pytest.mark.integration

LAZY = shlex.join([sys.executable, "-m", "tests.suite.standins.lazy_idp"])
"""The reference gateway without its start-up check of the IdP."""
UNCLEAR = f"{shlex.join([sys.executable, '-m', 'reference_gateway'])} 2>&1 | sed -e 's/its TLS certificate.*/failed/'"
"""The reference gateway, its log saying nothing of a certificate when it refuses one at start."""


def tls_run(tmp_path: Path, command: str, mutant: str = "") -> dict[str, tuple[str, str]]:
    """TLS-01 and TLS-02 against ``command`` (with ``mutant``): check id -> status and message."""
    run = run_suite(
        tmp_path, "--checks", "TLS-01,TLS-02", "--gateway-cmd", command, "--gateway-side-by-side",
        env={"REFGW_MUTANT": mutant},
    )  # fmt: skip
    report = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    results = {c["id"]: (c["status"], c["message"]) for c in report["checks"]}
    assert results.keys() == {"TLS-01", "TLS-02"}, run.output
    return results


def test_a_gateway_refusing_the_certificate_at_login_passes(tmp_path: Path) -> None:
    results = tls_run(tmp_path, LAZY)
    assert {check: status for check, (status, _) in results.items()} == {"TLS-01": "PASS", "TLS-02": "PASS"}, results


@pytest.mark.parametrize(
    ("command", "mutant", "expected"),
    [
        (LAZY, "tls_no_verify", "a login handed a session over"),
        (UNCLEAR, "", "its log does not say the certificate is the problem"),
    ],
    ids=["trusting-at-login", "refusing-at-start-unclearly"],
)
def test_a_gateway_refusing_nothing_or_unclearly_fails(
    tmp_path: Path, command: str, mutant: str, expected: str
) -> None:
    results = tls_run(tmp_path, command, mutant)
    for check, (status, message) in results.items():
        assert status == "FAIL" and expected in message, (check, status, message)
