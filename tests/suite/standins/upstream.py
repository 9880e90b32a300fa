"""The reference gateway as a child process on a loopback port of its own, configured by the caller's environment."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import httpx

from hoop_conformance.launchers.gateway import healthy
from hoop_conformance.launchers.servers import free_port
from tests.suite.standins.serving import StandInError

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
POLL_INTERVAL = 0.05


def _healthy(url: str) -> bool:
    try:
        return healthy(url)
    except httpx.HTTPError:
        return False


def _wait_healthy(process: subprocess.Popen[bytes], url: str, timeout: float) -> None:
    """Return once ``url`` is healthy; ``StandInError`` if the process exits first or the deadline passes."""
    deadline = time.monotonic() + timeout
    while not _healthy(url):
        if time.monotonic() >= deadline:
            raise StandInError(f"the reference gateway was not healthy at {url} within {timeout:g} s")
        try:
            status = process.wait(timeout=POLL_INTERVAL)
        except subprocess.TimeoutExpired:
            continue
        raise StandInError(f"the reference gateway exited with status {status} before it was healthy")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def reference_gateway(environ: Mapping[str, str], *, start_timeout: float = START_TIMEOUT) -> Iterator[str]:
    """``python -m reference_gateway`` with ``environ`` on a free port, healthy, for the block; its URL.

    Its output goes where this process's goes; it stays in this process's group, so a signal to the group
    reaches it too, and it is stopped (SIGTERM, then SIGKILL) when the block ends.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "reference_gateway"], env={**environ, "PORT": str(port)}, stdin=subprocess.DEVNULL
    )
    try:
        _wait_healthy(process, url, start_timeout)
        yield url
    finally:
        _stop(process)
