"""Fixtures for the tests of ``./run``: the real script, set up once per worker."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runner.place import REPO, RUN, run_environment

SETUP_TIMEOUT = 900
"""Seconds for a first ``./run mock`` on a fresh clone: ./run's own environment, then tox's ``mock`` one."""


@pytest.fixture(scope="session")
def run_ready() -> Path:
    """``./run`` with its own environment and tox's ``mock`` one ready (``./run mock --help`` once)."""
    result = subprocess.run(
        [str(RUN), "mock", "--help"],
        cwd=REPO,
        env=run_environment(),
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("usage: mock-idp"), "the argument reached the mock"
    return RUN


@pytest.fixture
def launched() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes (``./run``, supervisors) a test starts; their whole session is killed at the end, whatever happened."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
