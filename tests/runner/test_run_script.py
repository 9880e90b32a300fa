"""The real ``./run``: arguments reach the command, its error is the last line, and the signal that stops
``./run`` stops every process it started (``./run mock`` and ``./run conformance``), Ctrl-C quietly."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from hoop_conformance.waiting import wait_for
from tests.mock_idp.test_cli import ready_info
from tests.processes import ProcessInfo, descendants, living, wait_all_gone
from tests.runner.conftest import SETUP_TIMEOUT
from tests.runner.place import REPO, run_environment
from tests.terminal import Terminal

NOISE = ("Traceback", "KeyboardInterrupt", "evaluation failed", "congratulations")
"""What tox or Python would print on an interrupt: none of it may reach the screen."""


class RunEnded(Exception):
    """``./run`` ended while the test waited for it."""


def start_run(launched: list[subprocess.Popen[bytes]], log: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start ``./run ARGS`` in a session of its own, its output to ``log``."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(REPO / "run"), *args],
            cwd=REPO,
            env=run_environment(),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    launched.append(process)
    return process


def test_arguments_reach_the_command_and_its_error_is_the_last_line(run_ready: Path) -> None:
    result = subprocess.run(
        [str(run_ready), "mock", "--bogus"],
        cwd=REPO,
        env=run_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["mock-idp: unrecognized arguments: --bogus (see --help)"]


def test_sigterm_to_run_mock_leaves_no_process_behind(
    run_ready: Path, tmp_path: Path, launched: list[subprocess.Popen[bytes]]
) -> None:
    ready = tmp_path / "ready.json"
    run = start_run(launched, tmp_path / "out.txt", "mock", "--port", "0", "--ready-file", str(ready))
    info = ready_info(ready, timeout=120)
    started = descendants(run.pid)
    assert any("mock_idp" in p.command for p in started), started
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=30) == 128 + signal.SIGTERM
    wait_all_gone(started, timeout=1)
    assert not living(str(ready))
    with pytest.raises(httpx.ConnectError):
        httpx.get(info["issuer"] + ".well-known/openid-configuration", timeout=5)


def test_ctrl_c_stops_run_mock_quietly(run_ready: Path, tmp_path: Path) -> None:
    with Terminal([str(run_ready), "mock", "--port", "0"], cwd=REPO, env=run_environment()) as terminal:
        terminal.read_until("Stop it with Ctrl-C (or SIGTERM).", timeout=120)
        started = descendants(terminal.process.pid)
        terminal.press_ctrl_c()
        assert terminal.wait(timeout=30) in (0, 130)
        wait_all_gone(started, timeout=1)
        after = terminal.output.split("Stop it with Ctrl-C (or SIGTERM).", 1)[1]
        assert after.strip() in ("", "^C"), f"nothing but the echoed ^C after Ctrl-C: {after!r}"
        assert not any(noise in terminal.output for noise in NOISE)


def test_sigterm_to_run_conformance_leaves_no_process_behind(
    run_ready: Path, tmp_path: Path, launched: list[subprocess.Popen[bytes]]
) -> None:
    """Mid-run: once the suite's mocks and a gateway are up, SIGTERM ``./run``; nothing may survive it."""
    run = start_run(launched, tmp_path / "out.txt", "conformance", "-p", "no:randomly")

    def servers_up() -> list[ProcessInfo] | None:
        if run.poll() is not None:
            output = (tmp_path / "out.txt").read_text(errors="replace")
            raise RunEnded(f"./run conformance ended ({run.returncode}) before a gateway started:\n{output}")
        found = descendants(run.pid)
        commands = " ".join(p.command for p in found)
        return found if "mock_idp" in commands and "reference_gateway" in commands else None

    started = wait_for(
        servers_up, timeout=SETUP_TIMEOUT, interval=0.2, message="the suite's servers", abort_on=(RunEnded,)
    )
    run.send_signal(signal.SIGTERM)
    assert run.wait(timeout=60) == 128 + signal.SIGTERM
    wait_all_gone(started, timeout=1)
