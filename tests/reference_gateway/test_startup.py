"""Starting the gateway: healthy and serving, and one readable line for every bad start."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from hoop_conformance.launchers.gateway import IdpRegistration, gateway_environment
from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.launchers.reference import start_reference_gateway
from hoop_conformance.launchers.servers import free_port
from reference_gateway.mutants import MUTANTS
from tests.reference_gateway.harness import harness


def run_gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m reference_gateway`` to completion (it must exit by itself)."""
    return subprocess.run(
        [sys.executable, "-m", "reference_gateway", *args], env=env, capture_output=True, text=True, timeout=30
    )


def env_for(idp: RunningMockIdp, **changes: str) -> dict[str, str]:
    """A valid gateway environment for ``idp``'s first app, with ``changes`` applied."""
    registration = IdpRegistration(
        issuer=idp.issuer, client_id=idp.app["client_id"], client_secret=idp.app["client_secret"]
    )
    env = gateway_environment(free_port(), registration, {})
    return env | changes


def assert_one_line_error(result: subprocess.CompletedProcess[str], status: int, text: str) -> None:
    """Exit ``status``, and stderr is exactly one line naming the problem, without a traceback."""
    assert result.returncode == status, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("reference-gateway: ") and text in lines[0]
    assert "Traceback" not in result.stderr


def test_starts_healthy_and_serving(mock_idp: RunningMockIdp) -> None:
    """Start-up time (under a second) is measured by ``./run bench``, not here."""
    with start_reference_gateway(
        issuer=mock_idp.issuer, client_id=mock_idp.app["client_id"], client_secret=mock_idp.app["client_secret"]
    ) as gateway:
        assert httpx.get(f"{gateway.url}/api/healthz", trust_env=False).status_code == 200
        assert httpx.get(f"{gateway.url}/api/login", trust_env=False).json()["login_url"].startswith(mock_idp.issuer)


@pytest.mark.parametrize(
    ("changes", "text"),
    [
        ({"API_URL": ""}, "API_URL is not set"),
        ({"IDP_CLIENT_SECRET": ""}, "IDP_CLIENT_SECRET is not set"),
        ({"PORT": "http"}, "PORT must be a TCP port number"),
        ({"REFGW_MUTANT": "nope"}, "unknown mutant nope"),
        ({"IDP_ISSUER": "not a url"}, "IDP_ISSUER must be an http(s) URL"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(mock_idp: RunningMockIdp, changes: dict[str, str], text: str) -> None:
    assert_one_line_error(run_gateway(env_for(mock_idp, **changes)), 2, text)


def test_unreachable_idp_exits_1_with_one_line(mock_idp: RunningMockIdp) -> None:
    dead = f"http://127.0.0.1:{free_port()}/"
    result = run_gateway(env_for(mock_idp, IDP_ISSUER=dead))
    assert_one_line_error(result, 1, "cannot reach the identity provider")


def test_issuer_mismatch_at_start_exits_1_with_one_line(mock_idp: RunningMockIdp) -> None:
    result = run_gateway(env_for(mock_idp, IDP_ISSUER=mock_idp.issuer.rstrip("/")))
    assert_one_line_error(result, 1, "differs from the configured")


def test_port_in_use_exits_2_with_one_line(mock_idp: RunningMockIdp) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run_gateway(env_for(mock_idp, PORT=str(busy.getsockname()[1])))
    assert_one_line_error(result, 2, "cannot listen on 127.0.0.1:")


def test_list_mutants() -> None:
    env = gateway_environment(1, IdpRegistration(issuer="http://x/", client_id="c", client_secret="s"), {})
    text = run_gateway(env, "--list-mutants")
    assert text.returncode == 0 and len(text.stdout.splitlines()) == len(MUTANTS)
    (line,) = [line for line in text.stdout.splitlines() if line.startswith("hoop_email_linking ")]
    assert line.endswith("; must still pass CB-25")
    listed: dict[str, Any] = json.loads(run_gateway(env, "--list-mutants", "--json").stdout)
    assert listed.keys() == MUTANTS.keys()
    assert listed["skip_state_check"]["checks"] == ["CB-04", "CB-05"]
    assert listed["skip_state_check"]["passes"] == [] and listed["malformed_state_500"]["passes"] == ["CB-05"]


def test_sqlite_file_keeps_users_and_sessions_across_restarts(mock_idp: RunningMockIdp, tmp_path: Path) -> None:
    env = {"REFGW_DATABASE": str(tmp_path / "gateway.sqlite3")}
    with harness(mock_idp, extra_env=env, warm_up=False) as gw:
        token = gw.sign_in(gw.user())
        first = gw.me(token)
        app = gw.app
    with start_reference_gateway(
        issuer=mock_idp.issuer, client_id=app["client_id"], client_secret=app["client_secret"], extra_env=env
    ) as again:
        response = httpx.get(f"{again.url}/api/userinfo", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200 and response.json() == first
