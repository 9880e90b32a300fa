"""Bad input to a staging run is one line before any check runs (exit status 4), never a traceback, never a secret:
a missing credential, a rejected key or client, the wrong organization, an app without the gateway's callback."""

from __future__ import annotations

from pathlib import Path

import pytest

from .org import Organization, organization

WRONG = "wrong-value-0123456789"


def assert_one_line_usage_error(run_output: str, returncode: int, *, says: str, secrets: tuple[str, ...]) -> None:
    lines = [line for line in run_output.strip().splitlines() if line.strip()]
    assert returncode == 4, run_output
    assert "Traceback" not in run_output, run_output
    assert lines[-1].startswith("ERROR: ") and says in lines[-1], run_output
    leaked = [secret for secret in secrets if secret and secret in run_output]
    assert not leaked, "a secret reached the output"


def secrets_of(org: Organization) -> tuple[str, str]:
    """What a staging run must never show: the API key and the client secret."""
    return org.env["JUMPCLOUD_API_KEY"], org.env["IDP_CLIENT_SECRET"]


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"JUMPCLOUD_API_KEY": ""}, "needs JUMPCLOUD_API_KEY"),
        ({"JUMPCLOUD_APP_ID": "", "IDP_CLIENT_SECRET": ""}, "JUMPCLOUD_APP_ID"),
        ({"JUMPCLOUD_API_KEY": WRONG}, "JUMPCLOUD_API_KEY was refused"),
        ({"JUMPCLOUD_APP_ID": "0123456789abcdef01234567"}, "JUMPCLOUD_APP_ID: no application"),
        ({"IDP_CLIENT_SECRET": WRONG}, "refused the app's client credentials"),
        ({"JUMPCLOUD_ORG_ID": "0" * 24}, "refused the organization"),
    ],
    ids=["no key", "no app", "rejected key", "unknown app", "wrong client secret", "other organization"],
)
def test_bad_credentials_are_one_line(tmp_path: Path, org: Organization, change: dict[str, str], says: str) -> None:
    run = org.run(tmp_path, "-n", "0", env=change)
    assert_one_line_usage_error(run.output, run.returncode, says=says, secrets=(*secrets_of(org), WRONG))
    assert org.population() == (0, 0), "a refused run provisioned something"


def test_an_app_without_a_loopback_callback_is_one_line(tmp_path: Path, pytestconfig: pytest.Config) -> None:
    with organization(pytestconfig.getoption("server_logs"),
                      redirect_uris=("https://hoop.example.com/api/callback",)) as org:  # fmt: skip
        run = org.run(tmp_path, "-n", "0")
    assert_one_line_usage_error(run.output, run.returncode, says="lists no loopback redirect URI", secrets=())


def test_heavy_and_the_mocks_key_are_refused(tmp_path: Path, org: Organization) -> None:
    heavy = org.run(tmp_path / "heavy", "-n", "0", "--heavy")
    assert_one_line_usage_error(heavy.output, heavy.returncode, says="--heavy is refused", secrets=())
    keyed = org.run(tmp_path / "keyed", "-n", "0", "--idp-admin-key", WRONG)
    assert_one_line_usage_error(keyed.output, keyed.returncode, says="--idp-admin-key is the mock's", secrets=())
