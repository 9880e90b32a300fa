"""``python -m mock_idp``: help, one-line errors with exit status 2, the ready file, the banner, stopping."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hoop_conformance.launchers.servers import free_port
from hoop_conformance.waiting import wait_for
from tests.processes import wait_until_none

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
        process = subprocess.Popen(
            [*CLI, *args], stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    started.append(process)
    return process


def ready_info(ready: Path, *, timeout: float = 20) -> dict[str, Any]:
    """The ready file's description, once the mock wrote it."""

    def read() -> dict[str, Any] | None:
        return json.loads(ready.read_text()) if ready.exists() else None

    return wait_for(read, timeout=timeout, message="the ready file")


def banner_of(output: Path, *, timeout: float = 20) -> str:
    """The mock's whole banner, once printed."""

    def read() -> str | None:
        text = output.read_text()
        return text if "Stop it with" in text else None

    return wait_for(read, timeout=timeout, message="the banner")


def settings_file(path: Path, text: str) -> str:
    """Write a settings file; its path as an argument."""
    path.write_text(text)
    return str(path)


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
        ({"colour": "blue"}, "unknown field(s): colour"),
        ({"apps": [{"client_id": "x", "flavour": "mint"}]}, "app 1: unknown field(s): flavour"),
        ({"apps": [{"auth_method": "magic"}]}, "app 1: auth_method must be one of"),
        ({"key_count": "three"}, "key_count must be an integer, not the string 'three'"),
        ({"issuer": "ftp://example.test/"}, "issuer: 'ftp://example.test/' is not an http(s) URL"),
    ],
)
def test_bad_settings(tmp_path: Path, settings: dict[str, object], expected: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(settings))
    assert_one_line_error(run("--config", str(path), "--port", "0"), expected)


def test_ready_file_in_a_missing_directory(tmp_path: Path) -> None:
    ready = tmp_path / "nowhere" / "ready.json"
    assert_one_line_error(run("--port", "0", "--ready-file", str(ready)), str(ready), "does not exist")


def test_ready_file_naming_a_directory_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "ready"
    target.mkdir()
    assert_one_line_error(run("--port", "0", "--ready-file", str(target)), str(target), "is a directory")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ready"], "no stray ready.tmp"


@pytest.mark.parametrize("second", ["A@B.C:pw2", "a@b.c"])
def test_the_same_seed_user_twice(second: str) -> None:
    assert_one_line_error(run("--user", "a@b.c:pw", "--user", second), "seeded twice", "a@b.c")


def test_the_same_seed_user_twice_in_a_settings_file(tmp_path: Path) -> None:
    config = settings_file(
        tmp_path / "s.toml",
        '[[users]]\nemail = "ann@example.test"\npassword = "a"\n'
        '[[users]]\nemail = "Ann@Example.test"\npassword = "b"\n',
    )
    assert_one_line_error(run("--config", config), "s.toml", "Ann@Example.test is seeded twice")


def test_settings_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[[users]]\nemail = "jos\u00e9@example.test"\n'.encode("latin-1"))
    assert_one_line_error(run("--config", str(path)), "latin1.toml", "is not UTF-8", "0xe9")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[apps]]\nredirect_uris = "http://localhost:8009/api/callback"\n', "app 1: redirect_uris must be a list"),
        ('[[users]]\nemail = "a@b.c"\npassword = "p"\ngroups = "admin"\n', "user 1 (a@b.c): groups must be a list"),
        ('port = "8090"\n', "port must be an integer, not the string '8090'"),
        ("apps = 5\n", "apps must be a list of tables"),
        ("[[apps]]\naccess_token_ttl = true\n", "app 1: access_token_ttl must be an integer, not true"),
        ('[[apps]]\nauth_method = "none"\nclient_secret = "s"\n', "public client has no secret"),
        ('[[apps]]\nredirect_uris = ["notaurl"]\n', "'notaurl' is not an absolute URL"),
        ('[[users]]\nemail = "a@b.c"\npassword = "p"\ntotp_secret = "not base32!"\n', "totp_secret must be"),
        ("[[users]]\nemail = 'a@b.c'\n", "user 1 (a@b.c): password is required"),
    ],
)
def test_wrongly_typed_settings_name_the_field(tmp_path: Path, text: str, expected: str) -> None:
    assert_one_line_error(run("--config", settings_file(tmp_path / "s.toml", text)), "s.toml", expected)


def test_yaml_settings_file_is_refused_by_its_name(tmp_path: Path) -> None:
    config = settings_file(tmp_path / "settings.yaml", "port: 8090\n")
    assert_one_line_error(run("--config", config), "settings.yaml", "must end in .toml or .json, not .yaml")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--redirect-uri", "notaurl"], "--redirect-uri: 'notaurl' is not an absolute URL"),
        (["--auth-method", "none", "--client-secret", "s"], "--client-secret with --auth-method none"),
        (["--config", "examples/mock-idp.toml", "--client-id", "x"], "--config replaces the app and user flags"),
        (["--user", "a@b.c:pw:admin,", "--user", "a@d.e"], "share the username a"),
        (["--user", "nobody"], "--user 'nobody': expected EMAIL"),
        (["--issuer", "http://"], "issuer: 'http://' is not an http(s) URL"),
    ],
)
def test_bad_flag_values(args: list[str], expected: str) -> None:
    assert_one_line_error(run(*args), expected)


def test_an_undecodable_argument_is_one_line() -> None:
    result = subprocess.run(
        [*map(os.fsencode, CLI), b"--client-id", b"caf\xe9"], capture_output=True, timeout=30, stdin=subprocess.DEVNULL
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2 and "Traceback" not in stderr
    assert stderr.strip().splitlines() == [
        "mock-idp: client_id holds characters that are not text (undecodable bytes?): 'caf\\udce9'"
    ]


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
    info = ready_info(ready)
    assert stat.S_IMODE(os.stat(ready).st_mode) == 0o600
    assert info["issuer"] == info["base_url"] + "/"
    assert info["admin_key"] == "cli-admin-key"
    assert info["apps"][0]["client_id"] == "cli-client" and info["apps"][0]["client_secret"] == "cli-secret-value"
    assert info["users"] == [{"email": "ann@example.test", "password": "pw", "groups": ["Ops"]}]
    discovery = httpx.get(f"{info['issuer']}.well-known/openid-configuration").json()
    assert discovery["issuer"] == info["issuer"]

    banner = banner_of(output)
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
    banner = banner_of(output)
    assert "Mock JumpCloud is listening." in banner
    issuer = next(line.split()[-1] for line in banner.splitlines() if line.strip().startswith("issuer"))
    assert issuer.startswith("http://127.0.0.1:") and issuer.endswith("/")
    assert "person-client" in banner and "person-secret" in banner and "person-admin-key" in banner
    assert f"export API_URL=http://localhost:8009 IDP_ISSUER={issuer} IDP_CLIENT_ID=person-client" in banner
    assert "IDP_CLIENT_SECRET=person-secret" in banner
    assert f"user portal    {issuer}userconsole" in banner
    app_id = next(line.split()[2] for line in banner.splitlines() if line.strip().startswith("app id"))
    apps = httpx.get(f"{issuer}api/applications", headers={"x-api-key": "person-admin-key"}).json()["results"]
    assert [app["_id"] for app in apps] == [app_id]
    assert "dev@example.com" in banner and "no TOTP" in banner, "the default user is seeded, without TOTP"
    assert "Random at each start: password of dev@example.com." in banner, "the one value that was not given"
    assert "--config FILE" in banner and banner.rstrip().endswith("Stop it with Ctrl-C (or SIGTERM).")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=10) == 0


def test_banner_of_a_settings_file_names_totp_users_and_public_clients(
    tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    output = tmp_path / "out.txt"
    config = settings_file(
        tmp_path / "s.toml",
        'admin_key = "k"\n[[apps]]\nclient_id = "cli"\nauth_method = "none"\nredirect_uris = ["http://127.0.0.1:9/cb"]\n'
        '[[users]]\nemail = "bob@example.test"\npassword = "pw"\ntotp_secret = "JBSWY3DPEHPK3PXP"\n',
    )
    start(started, output, "--port", "0", "--config", config)
    banner = banner_of(output)
    assert "TOTP secret JBSWY3DPEHPK3PXP" in banner
    assert "None" not in banner, "a public client's secret is not printed as None"
    assert "IDP_CLIENT_SECRET" not in banner and "a public client has no secret" in banner
    assert "export API_URL=<the gateway's URL" in banner, "no redirect URI ends in /api/callback"
    assert "Random at each start: client id of app 1." not in banner and "Random at each start" not in banner


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_mock_quietly_and_completely(
    tmp_path: Path, started: list[subprocess.Popen[bytes]], stop: signal.Signals
) -> None:
    ready = tmp_path / "ready.json"
    output = tmp_path / "out.txt"
    process = start(started, output, "--port", "0", "--ready-file", str(ready))
    info = ready_info(ready)
    process.send_signal(stop)
    assert process.wait(timeout=10) == 0, "stopping is not a failure"
    assert "Traceback" not in output.read_text() and "Error" not in output.read_text()
    wait_until_none(str(ready))
    with pytest.raises(httpx.ConnectError):
        httpx.get(info["issuer"] + ".well-known/openid-configuration")


def test_settings_file_port_is_honoured(tmp_path: Path, started: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    config = tmp_path / "settings.toml"
    config.write_text(f'port = {port}\nadmin_key = "toml-key"\n[[apps]]\nclient_id = "toml-client"\n')
    ready = tmp_path / "ready.json"
    start(started, tmp_path / "out.txt", "--config", str(config), "--ready-file", str(ready))
    info = ready_info(ready)
    assert info["base_url"] == f"http://127.0.0.1:{port}"
    assert info["admin_key"] == "toml-key"
    assert [app["client_id"] for app in info["apps"]] == ["toml-client"]
