"""The reference gateway and an IdP over HTTPS: it trusts the CAs of ``SSL_CERT_FILE`` (OpenSSL's and Go's
convention), refuses any other certificate at start with one line naming it, and the launcher hands the CA over."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from hoop_conformance.launchers.gateway import IdpRegistration, gateway_environment
from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from hoop_conformance.launchers.reference import start_reference_gateway
from hoop_conformance.launchers.servers import free_port
from mock_idp.settings import MockIdpSettings, TlsMode


@pytest.fixture(scope="module", params=["good", "wrong-host", "untrusted-ca"])
def https_idp(request: pytest.FixtureRequest) -> Iterator[RunningMockIdp]:
    """A mock over HTTPS in each TLS mode."""
    mode: TlsMode = request.param
    with start_mock_idp(MockIdpSettings(users=(), tls=True, tls_mode=mode)) as running:
        yield running


def registration(idp: RunningMockIdp) -> IdpRegistration:
    """The mock's first app, and its trusted CA."""
    return IdpRegistration(
        issuer=idp.issuer,
        client_id=idp.app["client_id"],
        client_secret=idp.app["client_secret"],
        ca_file=idp.ca_file,
    )


def test_the_launcher_gives_the_ca_as_ssl_cert_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/the/callers/own.pem")
    plain = IdpRegistration(issuer="http://x/", client_id="c", client_secret="s")
    assert "SSL_CERT_FILE" not in gateway_environment(1, plain, {})
    given = IdpRegistration(issuer="https://x/", client_id="c", client_secret="s", ca_file="/tmp/ca.pem")
    assert gateway_environment(1, given, {})["SSL_CERT_FILE"] == "/tmp/ca.pem"


def test_https_idp_reports_its_cas(https_idp: RunningMockIdp) -> None:
    assert https_idp.issuer.startswith("https://") and https_idp.ca_file and https_idp.serving_ca_file
    assert (https_idp.serving_ca_file == https_idp.ca_file) is (https_idp.tls_mode != "untrusted-ca")
    assert https_idp.control.info()["issuer"] == https_idp.issuer  # the suite's own clients reach it in every mode


def run_gateway(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``python -m reference_gateway`` until it exits by itself."""
    return subprocess.run(
        [sys.executable, "-m", "reference_gateway"], env=env, capture_output=True, text=True, timeout=30
    )


def test_starts_only_with_a_certificate_it_trusts(https_idp: RunningMockIdp) -> None:
    env = gateway_environment(free_port(), registration(https_idp), {})
    if https_idp.tls_mode == "good":
        with start_reference_gateway(
            issuer=https_idp.issuer,
            client_id=https_idp.app["client_id"],
            client_secret=https_idp.app["client_secret"],
            extra_env={"SSL_CERT_FILE": env["SSL_CERT_FILE"]},
        ) as gateway:
            login_url = httpx.get(f"{gateway.url}/api/login", trust_env=False).json()["login_url"]
            assert login_url.startswith(https_idp.issuer)
        del env["SSL_CERT_FILE"]  # the same certificate, its CA not given: the system's CAs do not know it
    result = run_gateway(env)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "cannot reach the identity provider" in line and "its TLS certificate was refused" in line, line
    assert ("mismatch" in line) is (https_idp.tls_mode == "wrong-host"), line  # the name, not the CA
