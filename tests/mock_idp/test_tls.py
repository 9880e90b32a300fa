"""``python -m mock_idp --tls``: HTTPS with a CA made per run (reported as ``ca_file``), the wrong-host and
untrusted-CA modes, a given certificate, and one-line errors for bad TLS settings."""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from hoop_conformance.launchers.servers import ServerProcess, python_module_argv
from hoop_conformance.waiting import wait_for
from mock_idp.server import describe
from mock_idp.settings import MockIdpSettings
from tests.mock_idp.test_cli import assert_one_line_error

DISCOVERY = ".well-known/openid-configuration"


@dataclass(frozen=True)
class HttpsMock:
    """A mock started with TLS flags, and what its ready file says."""

    info: dict[str, Any]
    log_path: Path

    @property
    def ca_file(self) -> str:
        """The CA the mock reports (every mode reports the trusted one)."""
        ca_file = self.info["ca_file"]
        assert isinstance(ca_file, str), self.info
        return ca_file

    def discovery(self, verify: ssl.SSLContext, *, base: str | None = None) -> httpx.Response:
        """GET discovery, verifying the server with ``verify``; ``base`` replaces the issuer (another host name)."""
        return httpx.get(f"{base or self.info['issuer']}{DISCOVERY}", verify=verify, trust_env=False, timeout=10.0)

    def refusal(self, verify: ssl.SSLContext) -> ssl.SSLCertVerificationError:
        """The certificate error a client verifying with ``verify`` gets (the test fails if it gets an answer)."""
        with pytest.raises(httpx.ConnectError) as caught:
            self.discovery(verify)
        return verification_error(caught.value)


def verification_error(error: BaseException) -> ssl.SSLCertVerificationError:
    """The ``SSLCertVerificationError`` behind an httpx error (httpx → httpcore → ssl)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
        cause = cause.__cause__ or cause.__context__
    raise AssertionError(f"not a certificate verification error: {error!r}")


def trusting(ca_file: str, *, check_hostname: bool = True) -> ssl.SSLContext:
    """A client context that trusts only ``ca_file`` (and, unless told otherwise, checks the host name)."""
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = check_hostname
    return context


def read_ready(path: Path) -> dict[str, Any] | None:
    found: dict[str, Any] | None = json.loads(path.read_text()) if path.exists() else None
    return found


@contextmanager
def running_mock(workdir: Path, *args: str) -> Iterator[HttpsMock]:
    """``python -m mock_idp --port 0 ARGS`` until the block ends (SIGTERM); its temporary files go to ``workdir``."""
    ready = workdir / "ready.json"
    log_path = workdir / "mock.log"
    process = ServerProcess(
        "mock-idp",
        python_module_argv("mock_idp", "--port", "0", "--ready-file", str(ready), *args),
        ready=lambda: read_ready(ready),
        env={**os.environ, "TMPDIR": str(workdir)},
        log_path=log_path,
    )
    with process:
        assert isinstance(process.info, dict)
        yield HttpsMock(process.info, log_path)


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsMock]:
    """``--tls``: a certificate for 127.0.0.1 and localhost from the CA it reports."""
    with running_mock(tmp_path_factory.mktemp("good"), "--tls") as mock:
        yield mock


@pytest.fixture(scope="module")
def wrong_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpsMock]:
    """``--tls --tls-mode wrong-host``."""
    with running_mock(tmp_path_factory.mktemp("wrong-host"), "--tls", "--tls-mode", "wrong-host") as mock:
        yield mock


def test_https_discovery_is_verified_with_the_reported_ca(good: HttpsMock) -> None:
    port = good.info["base_url"].rpartition(":")[2]
    assert good.info["issuer"] == f"https://127.0.0.1:{port}/"
    assert good.info["base_url"] == f"https://127.0.0.1:{port}"
    assert good.info["tls_mode"] == "good"
    assert Path(good.ca_file).is_absolute() and Path(good.ca_file).is_file()
    assert good.info["serving_ca_file"] == good.ca_file

    answer = good.discovery(trusting(good.ca_file))
    assert answer.status_code == 200
    found = answer.json()
    assert found["issuer"] == good.info["issuer"]
    urls = {name: value for name, value in found.items() if name.endswith(("_endpoint", "_uri"))}
    assert len(urls) == 6 and all(url.startswith(good.info["issuer"]) for url in urls.values()), urls


def test_localhost_is_on_the_certificate_too(good: HttpsMock) -> None:
    port = good.info["base_url"].rpartition(":")[2]
    assert good.discovery(trusting(good.ca_file), base=f"https://localhost:{port}/").status_code == 200


def test_one_https_connection_carries_many_requests(good: HttpsMock) -> None:
    headers = {"x-api-key": good.info["admin_key"]}
    with httpx.Client(verify=trusting(good.ca_file), trust_env=False, timeout=10.0) as client:
        answers = [
            client.get(good.info["issuer"] + DISCOVERY),
            client.get(good.info["admin_url"] + "/systemusers", headers=headers),
            client.get(good.info["issuer"] + ".well-known/jwks.json"),
        ]
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert answers[1].json()["totalCount"] >= 1


def test_a_client_without_the_ca_refuses_the_certificate(good: HttpsMock) -> None:
    error = good.refusal(ssl.create_default_context())
    assert error.verify_code == 20, error.verify_message  # unable to get local issuer certificate


def test_the_ca_file_is_the_trusted_ca_and_the_key_is_private(good: HttpsMock) -> None:
    folder = Path(good.ca_file).parent
    assert b"BEGIN CERTIFICATE" in Path(good.ca_file).read_bytes()
    assert b"PRIVATE KEY" not in Path(good.ca_file).read_bytes(), "the CA's key never leaves the mock's memory"
    assert stat.S_IMODE((folder / "server-key.pem").stat().st_mode) == 0o600
    banner = wait_for(lambda: "Stop it with" in good.log_path.read_text(), timeout=10, message="the banner")
    assert banner and f"CA file        {good.ca_file}" in good.log_path.read_text(), "the banner names it"


def test_wrong_host_fails_hostname_verification_only(wrong_host: HttpsMock) -> None:
    assert wrong_host.info["tls_mode"] == "wrong-host"
    assert wrong_host.info["serving_ca_file"] == wrong_host.ca_file
    error = wrong_host.refusal(trusting(wrong_host.ca_file))
    assert error.verify_code == 64, error.verify_message  # IP address mismatch
    answer = wrong_host.discovery(trusting(wrong_host.ca_file, check_hostname=False))
    assert answer.status_code == 200, "the certificate is from the reported CA: only its host name is wrong"


def test_wrong_host_is_also_wrong_for_localhost(wrong_host: HttpsMock) -> None:
    port = wrong_host.info["base_url"].rpartition(":")[2]
    with pytest.raises(httpx.ConnectError) as caught:
        wrong_host.discovery(trusting(wrong_host.ca_file), base=f"https://localhost:{port}/")
    assert verification_error(caught.value).verify_code == 62  # hostname mismatch


def test_untrusted_ca_fails_verification_with_the_reported_ca(tmp_path: Path) -> None:
    with running_mock(tmp_path, "--tls", "--tls-mode", "untrusted-ca") as mock:
        assert mock.info["tls_mode"] == "untrusted-ca"
        error = mock.refusal(trusting(mock.ca_file))
        assert error.verify_code == 20, error.verify_message  # unable to get local issuer certificate
        assert mock.refusal(trusting(mock.ca_file, check_hostname=False)).verify_code == 20, "not a host name matter"
        serving = mock.info["serving_ca_file"]
        assert serving != mock.ca_file and Path(serving).read_bytes() != Path(mock.ca_file).read_bytes()
        assert mock.discovery(trusting(serving)).status_code == 200, (
            "the suite's own clients reach it with the other CA"
        )


def test_a_settings_file_turns_tls_on(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text('tls = true\ntls_mode = "wrong-host"\nadmin_key = "k"\n')
    with running_mock(tmp_path, "--config", str(config)) as mock:
        assert mock.info["issuer"].startswith("https://") and mock.info["tls_mode"] == "wrong-host"
        assert mock.refusal(trusting(mock.ca_file)).verify_code == 64


def test_generated_files_are_removed_when_the_mock_stops(tmp_path: Path) -> None:
    with running_mock(tmp_path, "--tls") as mock:
        folder = Path(mock.ca_file).parent
        assert folder.parent == tmp_path, "made where TMPDIR says"
        assert sorted(path.name for path in folder.iterdir()) == ["ca.pem", "server-key.pem", "server.pem"]
    assert not folder.exists()


def test_a_given_certificate_is_served_and_its_ca_reported(tmp_path: Path) -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1", "localhost")
    files = {"cert": tmp_path / "cert.pem", "key": tmp_path / "key.pem", "ca": tmp_path / "ca.pem"}
    leaf.cert_chain_pems[0].write_to_path(str(files["cert"]))
    leaf.private_key_pem.write_to_path(str(files["key"]))
    ca.cert_pem.write_to_path(str(files["ca"]))
    given = ["--tls-cert", str(files["cert"]), "--tls-key", str(files["key"]), "--tls-ca", str(files["ca"])]
    with running_mock(tmp_path, "--tls", *given) as mock:
        assert mock.ca_file == str(files["ca"]) and mock.info["tls_mode"] == "good"
        assert mock.discovery(trusting(mock.ca_file)).status_code == 200
    assert all(path.exists() for path in files.values()), "given files are left alone"


def test_plain_http_reports_no_ca() -> None:
    info = describe(MockIdpSettings(), "http://127.0.0.1:8090/", 8090)
    assert info["ca_file"] is None and info["tls_mode"] is None and info["serving_ca_file"] is None
    assert info["base_url"] == "http://127.0.0.1:8090"


def run_in(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion with ``folder`` as its TMPDIR and working directory."""
    return subprocess.run(
        [sys.executable, "-m", "mock_idp", *args],
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
        cwd=folder,
        env={**os.environ, "TMPDIR": str(folder)},
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--tls-mode", "wrong-host"], "tls_mode wrong-host given without tls"),
        (["--tls-cert", "c.pem", "--tls-key", "k.pem"], "tls_cert, tls_key given without tls"),
        (["--tls", "--tls-cert", "c.pem"], "tls_cert and tls_key go together"),
        (["--tls", "--tls-ca", "ca.pem"], "tls_ca names the CA of a given tls_cert"),
        (["--tls", "--tls-mode", "untrusted-ca", "--tls-cert", "c", "--tls-key", "k"], "makes its own certificate"),
        (["--tls", "--issuer", "http://127.0.0.1:{port}/"], "is not https:// but tls is on"),
        (["--tls", "--tls-cert", "missing.pem", "--tls-key", "missing.pem"], "No such file or directory"),
        (["--tls", "--tls-cert", "junk.pem", "--tls-key", "junk.pem"], "not a PEM certificate and its key"),
        (["--tls", "--tls-mode", "sideways"], "--tls-mode: invalid choice"),
    ],
)
def test_bad_tls_settings_are_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    assert_one_line_error(run_in(tmp_path, "--port", "0", *args), expected)
    assert not list(tmp_path.glob("mock-idp-tls-*")), "nothing generated is left behind"


def test_a_ca_file_that_is_not_a_certificate_is_one_line(tmp_path: Path) -> None:
    leaf = trustme.CA().issue_cert("127.0.0.1")
    leaf.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    leaf.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    given = ["--tls-cert", "cert.pem", "--tls-key", "key.pem", "--tls-ca", "ca.pem"]
    assert_one_line_error(run_in(tmp_path, "--port", "0", "--tls", *given), "tls_ca ca.pem", "cannot load it")


def test_a_settings_file_with_tls_wrongly_typed_names_the_field(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('tls = "yes"\n')
    assert_one_line_error(run_in(tmp_path, "--config", "s.toml"), "tls must be true or false, not the string 'yes'")


def test_port_in_use_with_tls_leaves_nothing_behind(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert_one_line_error(run_in(tmp_path, "--tls", "--port", str(port)), f"cannot listen on 127.0.0.1:{port}")
    assert not list(tmp_path.glob("mock-idp-tls-*")), "the generated CA is removed when the mock cannot start"
