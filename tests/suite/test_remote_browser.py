"""Remote browsers: with ``--browser-server`` the browser checks run on a Playwright browser server (``playwright
run-server``), which launches the Chromium found here with the suite's flags; a bad URL is a usage error."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hoop_conformance.launchers.servers import ServerProcess, free_port, python_module_argv
from tests.suite.runs import run_suite

pytestmark = pytest.mark.integration

BROWSER_CHECKS = "LOGIN-10,CB-01,SESS-01"
"""Checks that drive a browser through a whole login."""
QUIET_FLAG = "--disable-background-networking"
"""One of the suite's Chromium flags (``launch_args``): on a browser's command line, the launch options arrived."""


def _ready(port: int) -> object:
    """The server's ``/json`` (its endpoint path) once it listens."""
    return httpx.get(f"http://127.0.0.1:{port}/json", timeout=1.0, trust_env=False).json()


@pytest.fixture
def browser_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, str]]:
    """``playwright run-server`` on a free loopback port, ``--unsafe`` so that it takes the client's executable path
    and flags; its connections logged (``DEBUG=pw:server``)."""
    port = free_port()
    server = ServerProcess(
        "playwright-server",
        python_module_argv("playwright", "run-server", "--port", str(port), "--host", "127.0.0.1", "--unsafe"),
        ready=lambda: _ready(port),
        env={**os.environ, "DEBUG": "pw:server"},
        log_path=tmp_path / "playwright-server.log",
        start_timeout=30.0,
    )
    with server:
        yield server, f"ws://127.0.0.1:{port}/"


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # the parent is the field after the parenthesised command name, which may hold spaces
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _descendant_command_lines(root: int) -> list[str]:
    """The command lines of every process below ``root``."""
    children = _children()
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            found.append((Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


class BrowserWatch:
    """Records the Chromium command lines running below a process while a block runs (an observation, polled)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.seen: set[str] = set()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._done.wait(0.05):
            self.seen.update(line for line in _descendant_command_lines(self.root) if "chrom" in line)

    def __enter__(self) -> BrowserWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_browser_checks_run_on_a_browser_server(tmp_path: Path, browser_server: tuple[ServerProcess, str]) -> None:
    server, url = browser_server
    with BrowserWatch(server.pid) as watch:
        run = run_suite(tmp_path, "--browser-server", url, "--checks", BROWSER_CHECKS)
    assert run.returncode == 0, run.output
    assert set(run.statuses) == set(BROWSER_CHECKS.split(",")) and set(run.statuses.values()) == {"PASS"}, run.output
    log = server.log_path.read_text()
    assert "serving connection" in log and 'launch mode for "chromium"' in log, log
    launched = [line for line in watch.seen if QUIET_FLAG in line]
    assert launched, f"no Chromium with the suite's flags ran under the browser server; seen: {sorted(watch.seen)}"


def test_a_browser_server_that_is_no_websocket_url_is_a_usage_error(tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--browser-server", "http://127.0.0.1:9/", "--checks", "LOGIN-10")
    assert run.returncode == 4, run.output
    assert "--browser-server http://127.0.0.1:9/: not a ws:// or wss:// URL" in run.output
