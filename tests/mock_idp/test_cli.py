"""``python -m mock_idp``: help, one-line errors with exit status 2, the ready file and the banner."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hoop_conformance.launchers.servers import free_port
from hoop_conformance.waiting import wait_for

CLI = [sys.executable, "-m", "mock_idp"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI to completion (it must exit by itself)."""
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mock-idp: ")
    for text in expected:
        assert text in lines[0]


@pytest.fixture
def started(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts; terminated (then killed) at the end."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def start(started: list[subprocess.Popen[bytes]], output: Path, *args: str) -> subprocess.Popen[bytes]:
    with output.open("wb") as sink:
        process = subprocess.Popen([*CLI, *args], stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    started.append(process)
    return process


def test_help() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: mock-idp")
    for option in ("--port", "--issuer", "--config", "--ready-file", "--auth-method", "--user"):
        assert option in result.stdout


@pytest.mark.parametrize("args", [["--no-such-option"], ["--port", "eighty"], ["--auth-method", "magic"]])
def test_bad_option(args: list[str]) -> None:
    assert_one_line_error(run(*args))


def test_bad_settings_file(tmp_path: Path) -> None:
    broken = tmp_path / "settings.json"
    broken.write_text("{not json")
    assert_one_line_error(run("--config", str(broken), "--port", "0"), "settings.json", "is not valid json")
    assert_one_line_error(run("--config", str(tmp_path / "missing.toml")), "cannot read")


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"colour": "blue"}, "unknown settings field(s): colour"),
        ({"apps": [{"client_id": "x", "flavour": "mint"}]}, "unknown app field(s): flavour"),
        ({"apps": [{"auth_method": "magic"}]}, "auth_method must be one of"),
        ({"key_count": "three"}, "bad settings"),
        ({"issuer": "ftp://example.test/"}, "issuer must be an http(s) URL"),
    ],
)
def test_bad_settings(tmp_path: Path, settings: dict[str, object], expected: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    assert_one_line_error(run("--config", str(path), "--port", "0"), expected)


def test_port_in_use() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert_one_line_error(run("--port", str(port)), f"cannot listen on 127.0.0.1:{port}")


def test_ready_file_describes_the_running_mock(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    ready = tmp_path / "ready.json"
    output = tmp_path / "out.txt"
    start(
        started,
        output,
        "--port",
        "0",
        "--ready-file",
        str(ready),
        "--client-id",
        "cli-client",
        "--client-secret",
        "cli-secret-value",
        "--admin-key",
        "cli-admin-key",
        "--user",
        "ann@example.test:pw:Ops",
    )
    info = wait_for(lambda: ready.exists() and json.loads(ready.read_text()), timeout=20, message="the ready file")
    assert stat.S_IMODE(os.stat(ready).st_mode) == 0o600
    assert info["issuer"] == info["base_url"] + "/"
    assert info["admin_key"] == "cli-admin-key"
    assert info["apps"][0]["client_id"] == "cli-client" and info["apps"][0]["client_secret"] == "cli-secret-value"
    assert info["users"] == [{"email": "ann@example.test", "password": "pw", "groups": ["Ops"]}]
    discovery = httpx.get(f"{info['issuer']}.well-known/openid-configuration").json()
    assert discovery["issuer"] == info["issuer"]

    banner = wait_for(lambda: "admin key" in output.read_text() and output.read_text(), timeout=10, message="banner")
    assert "cli-secret-value" not in banner and "cli-admin-key" not in banner, "secrets go to the ready file only"
    assert "(in the ready file)" in banner


def test_banner_shows_what_a_person_needs(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    output = tmp_path / "out.txt"
    process = start(
        started,
        output,
        "--port",
        "0",
        "--client-id",
        "person-client",
        "--client-secret",
        "person-secret",
        "--admin-key",
        "person-admin-key",
    )
    banner = wait_for(
        lambda: "Point a local Hoop gateway" in output.read_text() and output.read_text(),
        timeout=20,
        message="the banner",
    )
    assert "Mock JumpCloud is listening." in banner
    issuer = next(line.split()[-1] for line in banner.splitlines() if line.strip().startswith("issuer"))
    assert issuer.startswith("http://127.0.0.1:") and issuer.endswith("/")
    assert "person-client" in banner and "person-secret" in banner and "person-admin-key" in banner
    assert f"IDP_ISSUER={issuer} IDP_CLIENT_ID=person-client" in banner
    assert "IDP_CLIENT_SECRET=person-secret" in banner
    assert "dev@example.com" in banner, "the default user is seeded"
    process.terminate()
    assert process.wait(timeout=10) in (0, -15)


def test_settings_file_port_is_honoured(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    config = tmp_path / "settings.toml"
    config.write_text(f'port = {port}\nadmin_key = "toml-key"\n[[apps]]\nclient_id = "toml-client"\n')
    ready = tmp_path / "ready.json"
    start(started, tmp_path / "out.txt", "--config", str(config), "--ready-file", str(ready))
    info = wait_for(lambda: ready.exists() and json.loads(ready.read_text()), timeout=20, message="the ready file")
    assert info["base_url"] == f"http://127.0.0.1:{port}"
    assert info["admin_key"] == "toml-key"
    assert [app["client_id"] for app in info["apps"]] == ["toml-client"]
