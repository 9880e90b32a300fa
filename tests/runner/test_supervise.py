"""``runner.supervise``: the signal that stops ``./run`` stops everything its command started, quietly.

The commands here are small stand-ins for pytest: each starts a real mock in a session of its own (as the
suite's launchers do) and then misbehaves in its own way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from hoop_conformance.waiting import wait_for
from tests.mock_idp.test_cli import ready_info
from tests.processes import ProcessInfo, descendants, living, wait_all_gone
from tests.runner.place import REPO
from tests.terminal import Terminal

SUPERVISE = [sys.executable, "-m", "runner.supervise"]
MOCK = [sys.executable, "-m", "mock_idp", "--port", "0"]

START_SERVER_AND_WAIT = """
import signal, subprocess, sys
subprocess.Popen(sys.argv[1:], start_new_session=True)
signal.pause()  # Ctrl-C ends this process only: the server in its own session would be orphaned
"""
START_SERVER_AND_LEAVE = """
import os, subprocess, sys, time
subprocess.Popen(sys.argv[2:], start_new_session=True)
deadline = time.monotonic() + 20
while not os.path.exists(sys.argv[1]) and time.monotonic() < deadline:
    time.sleep(0.05)
"""
STUBBORN = """
import signal, sys
from pathlib import Path
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
Path(sys.argv[1]).write_text("ignoring")
signal.pause()
"""


def supervise(launched: list[subprocess.Popen[bytes]], log: Path, *command: str, **env: str) -> subprocess.Popen[bytes]:
    """Start ``python -m runner.supervise COMMAND`` in a session of its own, its output to ``log``."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*SUPERVISE, *command],
            cwd=REPO,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    launched.append(process)
    return process


def ready(path: Path) -> dict[str, Any]:
    """The mock's ready file once it is there."""
    return ready_info(path, timeout=30)


def family(supervisor: int, expected: int) -> list[ProcessInfo]:
    """The supervisor's descendants once there are at least ``expected`` of them."""

    def found() -> list[ProcessInfo] | None:
        processes = descendants(supervisor)
        return processes if len(processes) >= expected else None

    return wait_for(found, timeout=15, message="the processes")


def assert_refused(issuer: str) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{issuer}.well-known/openid-configuration", timeout=5)


def test_sigterm_stops_the_command_and_the_server_it_started(
    tmp_path: Path, launched: list[subprocess.Popen[bytes]]
) -> None:
    ready_file = tmp_path / "ready.json"
    supervisor = supervise(
        launched,
        tmp_path / "out.txt",
        sys.executable,
        "-c",
        START_SERVER_AND_WAIT,
        *MOCK,
        "--ready-file",
        str(ready_file),
    )
    info = ready(ready_file)
    started = family(supervisor.pid, 2)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=30) == 128 + signal.SIGTERM
    wait_all_gone(started, timeout=1)
    assert not living(str(ready_file))
    assert_refused(info["issuer"])


def test_sigint_sent_to_it_alone_is_passed_on(tmp_path: Path, launched: list[subprocess.Popen[bytes]]) -> None:
    ready_file = tmp_path / "ready.json"
    supervisor = supervise(launched, tmp_path / "out.txt", *MOCK, "--ready-file", str(ready_file))
    info = ready(ready_file)
    started = family(supervisor.pid, 1)
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=30) == 128 + signal.SIGINT
    wait_all_gone(started, timeout=1)
    assert_refused(info["issuer"])
    assert "Traceback" not in (tmp_path / "out.txt").read_text()


def test_a_server_left_running_is_stopped_when_the_command_ends(
    tmp_path: Path, launched: list[subprocess.Popen[bytes]]
) -> None:
    ready_file = tmp_path / "ready.json"
    command = [sys.executable, "-c", START_SERVER_AND_LEAVE, str(ready_file), *MOCK, "--ready-file", str(ready_file)]
    supervisor = supervise(launched, tmp_path / "out.txt", *command)
    assert supervisor.wait(timeout=60) == 0, "the command's own status"
    assert not living(str(ready_file)), "the orphaned server was stopped before the supervisor ended"
    assert_refused(ready(ready_file)["issuer"])


def test_a_command_that_ignores_signals_is_killed_in_bounded_time(
    tmp_path: Path, launched: list[subprocess.Popen[bytes]]
) -> None:
    marker = tmp_path / "ignoring"
    supervisor = supervise(
        launched,
        tmp_path / "out.txt",
        sys.executable,
        "-c",
        STUBBORN,
        str(marker),
        RUN_GRACE="0.5",
        RUN_KILL_AFTER="1",
    )
    wait_for(marker.exists, timeout=15, message="the stubborn command")
    started = family(supervisor.pid, 1)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=15) == 128 + signal.SIGTERM
    wait_all_gone(started, timeout=1)


def test_ctrl_c_at_a_terminal_exits_130_quietly(tmp_path: Path) -> None:
    with Terminal([*SUPERVISE, *MOCK, "--ready-file", str(tmp_path / "ready.json")], cwd=REPO) as terminal:
        terminal.read_until("Stop it with Ctrl-C", timeout=30)
        started = family(terminal.process.pid, 1)
        terminal.press_ctrl_c()
        assert terminal.wait(timeout=30) == 130
        wait_all_gone(started, timeout=1)
        after = terminal.output.split("Stop it with Ctrl-C (or SIGTERM).", 1)[1]
        assert after.strip() in ("", "^C"), f"nothing but the echoed ^C after Ctrl-C: {after!r}"


@pytest.mark.parametrize(
    ("code", "status"),
    [("raise SystemExit(3)", 3), ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", 128 + 9)],
)
def test_the_command_status_is_passed_on(code: str, status: int) -> None:
    result = subprocess.run([*SUPERVISE, sys.executable, "-c", code], cwd=REPO, timeout=60, capture_output=True)
    assert result.returncode == status


def test_a_missing_command_is_one_line() -> None:
    result = subprocess.run([*SUPERVISE, "no-such-command-here"], cwd=REPO, timeout=60, capture_output=True, text=True)
    assert result.returncode == 127
    assert result.stderr.strip() == "run: no-such-command-here: command not found"
