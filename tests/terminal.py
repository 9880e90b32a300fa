"""Run a command on a pseudo-terminal of its own, as a person at a shell would, and press Ctrl-C in it."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

CTRL_C = b"\x03"


class Terminal:
    """A command whose controlling terminal is a fresh pty: Ctrl-C there is the kernel's SIGINT to its group."""

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
        self._master, slave = os.openpty()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=None if env is None else dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_take_terminal,
        )
        os.close(slave)
        self._output = bytearray()

    @property
    def output(self) -> str:
        """Everything the command wrote so far."""
        return self._output.decode(errors="replace")

    def _read(self, timeout: float) -> int | None:
        """Read what comes within ``timeout``: how many bytes, or ``None`` once the terminal is closed."""
        ready, _, _ = select.select([self._master], [], [], max(timeout, 0.0))
        if not ready:
            return 0
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: every process let go of the terminal
            return None
        self._output += chunk
        return len(chunk) if chunk else None

    def read_until(self, text: str, *, timeout: float) -> str:
        """Read until ``text`` appears; fail with the output if it does not in time or the command ends."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{text!r} not shown within {timeout:g} s; the terminal shows:\n{self.output}")
            if self._read(min(remaining, 0.5)) is None and text not in self.output:
                raise AssertionError(f"the terminal closed before {text!r}; it shows:\n{self.output}")
        return self.output

    def press_ctrl_c(self) -> None:
        """Type Ctrl-C: the terminal sends SIGINT to its foreground process group."""
        os.write(self._master, CTRL_C)

    def wait(self, *, timeout: float) -> int:
        """Wait for the command's end, reading what it writes meanwhile; its exit status."""
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() >= deadline:
                raise AssertionError(f"still running after {timeout:g} s; the terminal shows:\n{self.output}")
            self._read(0.1)
        while self._read(0.1):  # what it wrote last
            pass
        return self.process.returncode

    def close(self) -> None:
        """Kill the command's session if it still runs, and close the terminal."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        os.close(self._master)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _take_terminal() -> None:
    """In the child, after ``setsid``: make its stdin (the pty) its controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
