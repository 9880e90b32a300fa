"""No secret reaches the reports: a conformance run with failing checks, then every file it wrote is searched.

The run is against the reference gateway with mutants that make callback, session and token checks fail, so
the reports hold evidence (journal, answers, gateway log, screenshots, Playwright traces). Every secret the suite
announced (``pytest_hoop_secret_seen``) is on the canary list (``tests.canary``); none may be found in any file under
the reports folder (JUnit XML and pytest-playwright's artifacts included, as ``./run conformance`` puts them
there), nor in any member of a zip archive there, as text or URL-encoded, nor in the run's output. The same holds of
a staging run (``--idp jumpcloud`` against a mock standing for an organization), whose admin API key and client
secret come from the environment.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from hoop_conformance.assertions import redact_text
from tests.canary import CANARY_FILE, read

from ..staging.org import organization
from .runs import SuiteRun, run_suite

MUTANTS = "ignore_stored_redirect,skip_state_check,token_in_url"
CHECKS = "CB-01,CB-02,CB-04,CB-05,CB-30,SESS-01,SESS-02,SESS-03,TOKEN-01,TOKEN-08"
"""Failing (browser and HTTP) and passing checks: evidence of every kind, and every kind of secret on the way."""
REQUIRED_KINDS = ("password", "client_secret", "token", "code")
"""What the canary list must hold, or the scan would prove little."""
TOKEN_SHAPES = re.compile(rb"ory_[a-z]{2}_[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.")
"""Tokens the suite never names (the mock's opaque ones, JWTs) but a browser or the gateway may show."""


def _contents(name: str, data: bytes) -> Iterator[tuple[str, bytes]]:
    """A file's bytes, and those of every member when it is a zip archive (archives in archives too)."""
    yield name, data
    if data.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                yield from _contents(f"{name}!{info.filename}", archive.read(info))


def _forms(value: str) -> set[bytes]:
    """How a secret can be written: as it is, and URL-encoded (as a path or query part, and as a form value)."""
    return {form.encode() for form in (value, quote(value, safe=""), quote_plus(value))}


def _leaks(data: bytes, needles: list[tuple[str, bytes]]) -> set[str]:
    """The kinds of secret ``data`` holds: canaries (in any of their forms), and token-shaped strings."""
    kinds = {kind for kind, form in needles if form in data}
    return kinds | ({"token-shaped string"} if TOKEN_SHAPES.search(data) else set())


def _failing_run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> tuple[SuiteRun, Path, Path]:
    """A run with the mutants, the canary plugin and browser artifacts kept on failure; its reports and canary file."""
    canary = tmp_path / "canary.jsonl"
    reports = tmp_path / "reports"
    run = run_suite(
        tmp_path,
        "--checks", CHECKS, "-p", "tests.canary",
        "--screenshot", "only-on-failure",
        "--tracing", "retain-on-failure",
        *args,
        env={"REFGW_MUTANT": MUTANTS, CANARY_FILE: str(canary), **(env or {})},
        junit=reports / "junit.xml",
        output=reports / "artifacts",
        reports=reports,
    )  # fmt: skip
    assert run.failing(), f"the mutants {MUTANTS} made no check fail:\n{redact_text(run.output)}"
    assert (reports / "conformance.json").is_file(), redact_text(run.output)
    return run, reports, canary


def _assert_no_secret(run: SuiteRun, reports: Path, canary: Path, required: tuple[str, ...]) -> None:
    """Every secret the run announced, of every ``required`` kind, is absent from its reports and its output."""
    secrets = read(canary)
    missing = [kind for kind in required if not secrets.get(kind)]
    assert not missing, f"the canary list has no {missing} (it has {sorted(secrets)}): the scan would prove little"

    files = sorted(path for path in reports.rglob("*") if path.is_file())
    kept = [path.relative_to(reports) for path in files if path.parent == reports / "evidence"]
    assert any(path.suffix == ".zip" for path in kept), f"no trace was kept as evidence: {kept}"
    assert any(path.suffix == ".png" for path in kept), f"no screenshot was kept as evidence: {kept}"

    needles = [(kind, form) for kind, values in secrets.items() for value in values for form in _forms(value)]
    found = sorted(
        {
            (kind, where)
            for path in files
            for where, data in _contents(str(path.relative_to(reports)), path.read_bytes())
            for kind in _leaks(data, needles)
        }
        | {(kind, "the run's output") for kind in _leaks(run.output.encode(), needles)}
    )
    shown = "\n".join(f"  a {kind} in {where}" for kind, where in found)  # where, never the secret itself
    assert not found, f"secrets reached the reports ({len(files)} files scanned):\n{shown}"


def test_no_secret_reaches_the_reports(tmp_path: Path) -> None:
    _assert_no_secret(*_failing_run(tmp_path), required=REQUIRED_KINDS)


def test_no_secret_reaches_the_reports_of_a_staging_run(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    # staging mode: the API key and the client secret come from the environment, users' passwords are generated
    with organization(pytestconfig.getoption("server_logs")) as org:
        run, reports, canary = _failing_run(tmp_path, *org.args("-n", "1"), env=org.env)
        assert org.leftovers() == []
    _assert_no_secret(run, reports, canary, required=(*REQUIRED_KINDS, "admin_key"))
