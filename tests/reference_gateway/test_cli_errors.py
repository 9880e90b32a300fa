"""``python -m reference_gateway``: usage errors and an unusable ``REFGW_DATABASE`` are one line, exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hoop_conformance.launchers.servers import free_port

UNREACHABLE = f"http://127.0.0.1:{free_port()}/"
"""An issuer nobody serves: every error here must come before the gateway asks the IdP."""


def run_gateway(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    """Run the gateway to completion with a valid configuration plus ``variables``."""
    env = {
        "PATH": "/usr/bin:/bin",
        "API_URL": "http://127.0.0.1:8009",
        "PORT": str(free_port()),
        "IDP_ISSUER": UNREACHABLE,
        "IDP_CLIENT_ID": "client",
        "IDP_CLIENT_SECRET": "secret",
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-m", "reference_gateway", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line(result: subprocess.CompletedProcess[str], status: int, *expected: str) -> None:
    """Exit ``status`` with exactly one line on stderr, in the project's style, holding ``expected``."""
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("reference-gateway: ")
    for text in expected:
        assert text in lines[0], lines[0]


def test_help_documents_the_exit_statuses() -> None:
    result = run_gateway("--help")
    assert result.returncode == 0
    assert "exit status: 0 stopped, 1 identity provider unusable at start, 2 bad configuration or usage" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--port", "8010"], ["unrecognized arguments: --port 8010", "environment variables: PORT=8010"]),
        (["--issuer=http://x/"], ["IDP_ISSUER=http://x/"]),
        (["--database", "/tmp/x.db"], ["REFGW_DATABASE=/tmp/x.db"]),
        (["--bogus"], ["unrecognized arguments: --bogus", "(see --help)"]),
        (["--json"], ["--json goes with --list-mutants"]),
    ],
)
def test_usage_errors_are_one_line(args: list[str], expected: list[str]) -> None:
    assert_one_line(run_gateway(*args), 2, *expected)


def test_database_in_a_missing_directory(tmp_path: Path) -> None:
    database = tmp_path / "missing" / "gateway.sqlite3"
    assert_one_line(run_gateway(REFGW_DATABASE=str(database)), 2, str(database), "does not exist")


def test_database_that_is_a_directory(tmp_path: Path) -> None:
    assert_one_line(run_gateway(REFGW_DATABASE=str(tmp_path)), 2, str(tmp_path), "is a directory")


def test_database_that_is_not_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "notes.txt"
    database.write_text("these are not the tables you are looking for\n" * 100)
    assert_one_line(run_gateway(REFGW_DATABASE=str(database)), 2, str(database), "not a usable SQLite database")
    assert database.read_text().startswith("these are not"), "the file is left as it was"
