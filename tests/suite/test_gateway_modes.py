"""Any gateway: one started from a command that is not the reference entry point (serialized across workers),
one the suite attaches to, and the suite's own against a running mock; and every way a gateway or an option can be
wrong gives an error, never PASS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hoop_conformance.launchers.gateway import GatewayCommand, IdpRegistration, run_gateway
from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.launchers.servers import ServerProcess, free_port, python_module_argv
from tests.suite.runs import REPO_ROOT, run_suite

HOLDING_WRAPPER = """#!/bin/sh
# Like Hoop and its fixed gRPC port: holds $HOLD_PORT while the gateway runs, so two cannot run at once.
exec "{python}" -c 'import os, runpy, socket, sys
held = socket.socket()
held.bind(("127.0.0.1", int(os.environ["HOLD_PORT"])))
held.listen()
sys.argv = ["reference_gateway"]
runpy.run_module("reference_gateway", run_name="__main__")'
"""
MIXED_CHECKS = "LOGIN-01,LOGIN-03,CB-04,CB-05,GROUP-12,GROUP-14,DISC-03"
"""Shared-gateway checks and checks that need a gateway of their own."""


@pytest.fixture
def wrapper(tmp_path: Path) -> str:
    script = tmp_path / "gateway.sh"
    script.write_text(HOLDING_WRAPPER.format(python=sys.executable))
    script.chmod(0o755)
    return str(script)


def test_gateway_cmd_runs_a_wrapper_one_gateway_at_a_time(tmp_path: Path, wrapper: str) -> None:
    run = run_suite(
        tmp_path, "-n", "2", "--gateway-cmd", wrapper, "--checks", MIXED_CHECKS, env={"HOLD_PORT": str(free_port())}
    )
    assert run.returncode == 0, run.output
    assert set(run.statuses.values()) == {"PASS"} and len(run.statuses) == len(MIXED_CHECKS.split(",")), run.statuses


def test_gateway_cmd_with_a_mutant_makes_its_checks_fail(tmp_path: Path) -> None:
    command = f"env REFGW_MUTANT=skip_state_check {sys.executable} -m reference_gateway"
    run = run_suite(tmp_path, "--gateway-cmd", command, "--checks", "CB-04,CB-05,LOGIN-01")
    assert run.statuses == {"CB-04": "FAIL", "CB-05": "FAIL", "LOGIN-01": "PASS"}, run.output
    assert run.returncode == 1


@pytest.fixture
def running_pair(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A mock IdP and a reference gateway already running: (gateway URL, issuer, admin key)."""
    idp_port, gateway_port = free_port(), free_port()
    issuer, gateway_url, key = f"http://127.0.0.1:{idp_port}/", f"http://127.0.0.1:{gateway_port}", "k" * 32
    ready = tmp_path / "ready.json"
    argv = python_module_argv(
        "mock_idp", "--port", str(idp_port), "--admin-key", key, "--ready-file", str(ready), "--client-id", "attached",
        "--client-secret", "attached-secret", "--redirect-uri", gateway_url + "/api/callback",
    )  # fmt: skip
    with ServerProcess("mock-idp", argv, ready=ready.exists, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}):
        registration = IdpRegistration(issuer=issuer, client_id="attached", client_secret="attached-secret")
        with run_gateway(GatewayCommand.reference(), port=gateway_port, idp=registration):
            yield gateway_url, issuer, key


def test_gateway_url_attaches_and_skips_checks_that_need_their_own(
    tmp_path: Path, running_pair: tuple[str, str, str]
) -> None:
    url, issuer, key = running_pair
    run = run_suite(
        tmp_path, "--gateway-url", url, "--idp-issuer", issuer, "--idp-admin-key", key, "--checks", MIXED_CHECKS
    )
    assert run.returncode == 0, run.output
    own = ("DISC-03", "GROUP-14", "LOGIN-01")  # each starts a gateway of its own
    assert {run.statuses[c] for c in own} == {"SKIP"}, run.statuses
    assert {run.statuses[c] for c in ("LOGIN-03", "CB-04", "CB-05", "GROUP-12")} == {"PASS"}, run.output


def test_idp_issuer_alone_starts_gateways_against_the_running_mock(tmp_path: Path, mock_idp: RunningMockIdp) -> None:
    """As the mutation test runs the suite: the suite's own gateways (shared and own) log in at the running mock."""
    cursor = mock_idp.control.journal_cursor()
    run = run_suite(
        tmp_path, "--idp-issuer", mock_idp.issuer, "--checks", MIXED_CHECKS,
        env={"HOOP_IDP_ADMIN_KEY": mock_idp.admin_key},
    )  # fmt: skip
    assert run.returncode == 0, run.output
    assert set(run.statuses.values()) == {"PASS"} and len(run.statuses) == len(MIXED_CHECKS.split(",")), run.statuses
    exchanges = mock_idp.control.journal(endpoint="token", since=cursor)
    assert len({entry["client_id"] for entry in exchanges}) >= 2, "the shared gateway and an own gateway, each its app"


@pytest.mark.parametrize(
    ("command", "expected"),
    [("exit 3", "exited with status 3"), ("sleep 600", "was not ready within 3 s")],
    ids=["exits-at-once", "never-healthy"],
)
def test_a_gateway_that_will_not_start_gives_errors_with_its_log(tmp_path: Path, command: str, expected: str) -> None:
    run = run_suite(
        tmp_path, "--gateway-cmd", f"echo gateway-log-line; {command}", "--gateway-start-timeout", "3",
        "--checks", "LOGIN-01,CB-04",
    )  # fmt: skip
    assert run.statuses == {"LOGIN-01": "ERROR", "CB-04": "ERROR"}, run.output
    assert expected in run.output and "gateway-log-line" in run.output
    assert run.returncode == 1


def test_a_gateway_that_dies_mid_run_gives_errors(tmp_path: Path) -> None:
    command = f"exec timeout -s KILL 4 {sys.executable} -m reference_gateway"
    run = run_suite(tmp_path, "--gateway-cmd", command, "--checks", "LOGIN,CB,SESS", "--time-budget", "3")
    assert "ERROR" in run.statuses.values(), run.output
    document = json.loads((tmp_path / "reports" / "conformance.json").read_text())
    assert any("exited (status -9) during the run" in c["message"] for c in document["checks"]), run.output
    assert run.returncode == 1


def pytest_usage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gateway-url", "http://127.0.0.1:9"], "--gateway-url needs --idp-issuer"),
        (["--gateway-url", "http://127.0.0.1:9", "--idp-issuer", "http://127.0.0.1:9/"], "cannot reach the gateway"),
        (["--gateway-url", "ftp://x", "--idp-issuer", "http://127.0.0.1:9/"], "not an http(s) URL"),
        (["--gateway-url", "http://x", "--gateway-cmd", "true"], "exclude each other"),
        (["--checks", "CB-99"], "unknown check id or area CB-99"),
        (["--time-budget", "0"], "must be positive"),
        (["--idp-ca-file", "/etc/hostname"], "give its issuer with --idp-issuer"),
        (["--idp-issuer", "http://127.0.0.1:9/", "--idp-admin-key", "k", "--idp-ca-file", "x.pem"], "is not https"),
        (
            ["--idp-issuer", "https://127.0.0.1:9/", "--idp-admin-key", "k", "--idp-ca-file", "/nowhere.pem"],
            "cannot load",
        ),
        (["--idp-issuer", "https://127.0.0.1:9/", "--idp-admin-key", "k", "--idp-tls"], "a running mock"),
        (["--hoop-bin", "/nowhere/hoop"], "--hoop-bin /nowhere/hoop: not an executable file"),
        (["--hoop-bin", "/bin/true", "--gateway-cmd", "true"], "exclude each other"),
        (["--static-ui", "/tmp"], "go with --hoop-bin"),
        (["--hoop-bin", "/bin/true", "--hoop-database-url", "mysql://u:p@h/db"], "must be a postgres://"),
    ],
)
def test_bad_options_are_one_line_and_status_4(args: list[str], message: str) -> None:
    result = pytest_usage(*args)
    assert result.returncode == 4, result.stdout + result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr + result.stdout
