"""Run commands as children that stop, with everything they started, when ``./run`` is told to stop.

- ``./run`` becomes a child subreaper (Linux): a process whose parent ended is re-parented to ``./run``
  instead of init, so nothing a command started escapes it, servers in a session of their own included.
- SIGINT, SIGTERM and SIGHUP are taken synchronously (``sigtimedwait``). The first interrupts the command as
  Ctrl-C does: SIGINT to the processes of ``./run``'s process group, unless the terminal already sent it to
  them. A second signal, or the end of a grace period, sends SIGTERM to every descendant; then SIGKILL.
- When a command ends, whatever it left running is stopped (SIGTERM, then SIGKILL) and reaped.

The exit status after a stopping signal is 128 + its number (130 for SIGINT, 143 for SIGTERM), quietly.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

STOPPING = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
WATCHED = STOPPING | {signal.SIGCHLD}
SI_KERNEL = 0x80
"""``si_code`` of a signal the kernel sent: Ctrl-C at a terminal, sent to the whole foreground group."""
PR_SET_CHILD_SUBREAPER = 36
POLL = 0.05
"""Seconds between looks at processes whose end sends ``./run`` no SIGCHLD (grandchildren)."""


class CommandNotFound(Exception):
    """A command's program is not on its ``PATH``."""


@dataclass(frozen=True)
class Process:
    """A line of ``/proc/PID/stat``: enough to find a process's parent and process group."""

    pid: int
    ppid: int
    pgid: int
    zombie: bool


def _processes() -> list[Process]:
    found = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read().decode(errors="replace")
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found.append(Process(pid=int(name), ppid=int(fields[1]), pgid=int(fields[2]), zombie=fields[0] == "Z"))
    return found


def descendants(root: int | None = None) -> list[Process]:
    """Every process below ``root`` (default: this one), parents before children."""
    root = os.getpid() if root is None else root
    children: dict[int, list[Process]] = {}
    for process in _processes():
        children.setdefault(process.ppid, []).append(process)
    found: list[Process] = []
    queue = [root]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child.pid)
    return found


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``); whether it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def _send(pids: Sequence[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def _status(wait_status: int) -> int:
    """A shell's exit status for a ``waitpid`` status: the code, or 128 + the signal that ended it."""
    if os.WIFSIGNALED(wait_status):
        return 128 + os.WTERMSIG(wait_status)
    return os.waitstatus_to_exitcode(wait_status)


class Supervisor:
    """Runs commands one after another; a stopping signal stops the running one and refuses the next ones."""

    def __init__(self, *, grace: float = 10.0, kill_after: float = 5.0) -> None:
        self.grace = grace
        """Seconds a command gets after the interrupt to end by itself, before SIGTERM."""
        self.kill_after = kill_after
        """Seconds between SIGTERM and SIGKILL."""
        self.signal: signal.Signals | None = None
        """The first stopping signal received."""
        self._exited: dict[int, int] = {}

    def __enter__(self) -> Supervisor:
        become_subreaper()
        signal.pthread_sigmask(signal.SIG_BLOCK, WATCHED)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.sweep()
        while signal.sigtimedwait(WATCHED, 0) is not None:  # drop what is pending: nothing more to do
            pass
        signal.pthread_sigmask(signal.SIG_UNBLOCK, WATCHED)

    @property
    def stopped(self) -> bool:
        """Whether a stopping signal came."""
        return self.signal is not None

    def exit_status(self, status: int) -> int:
        """``status``, or 128 + the stopping signal once one came."""
        return status if self.signal is None else 128 + int(self.signal)

    def pause(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for a stopping signal (children ending are reaped meanwhile); whether one came."""
        deadline = time.monotonic() + seconds
        while self.signal is None and (remaining := deadline - time.monotonic()) > 0:
            info = signal.sigtimedwait(WATCHED, remaining)
            if info is not None and info.si_signo in STOPPING:
                self.signal = signal.Signals(info.si_signo)
            self._reap()
        return self.signal is not None

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        output: Path | None = None,
    ) -> int:
        """Run ``argv`` to its end (output to ``output`` if given, stdin then empty) and stop what it left.

        Returns its exit status (128 + N if signal N ended it); nothing is started once stopped.
        """
        if self.signal is not None:
            return self.exit_status(0)
        pid = self._spawn(argv, env, output)
        try:
            return self._wait(pid)
        finally:
            self.sweep()

    def _spawn(self, argv: Sequence[str], env: Mapping[str, str], output: Path | None) -> int:
        program = shutil.which(argv[0], path=env.get("PATH", os.defpath))
        if program is None:
            raise CommandNotFound(argv[0])
        actions: list[tuple[int, int, str, int, int] | tuple[int, int, int]] = []
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            actions = [
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, str(output), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
                (os.POSIX_SPAWN_DUP2, 1, 2),
            ]
        return os.posix_spawn(
            program,
            list(argv),
            dict(env),
            file_actions=actions,
            setsigmask=(),
            setsigdef=(*STOPPING, signal.SIGPIPE, signal.SIGXFSZ),
        )

    def _reap(self) -> None:
        while True:
            try:
                pid, wait_status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self._exited[pid] = wait_status

    def _wait(self, pid: int) -> int:
        level = 0
        deadline: float | None = None
        while True:
            self._reap()
            if pid in self._exited:
                return _status(self._exited.pop(pid))
            timeout = 1.0 if deadline is None else max(0.0, deadline - time.monotonic())
            info = signal.sigtimedwait(WATCHED, timeout)
            if info is not None and info.si_signo in STOPPING:
                self.signal = self.signal or signal.Signals(info.si_signo)
                level += 1
                by_terminal = info.si_signo == signal.SIGINT and info.si_code == SI_KERNEL
                deadline = self._escalate(level, pid, by_terminal=by_terminal)
            elif deadline is not None and time.monotonic() >= deadline:
                level += 1
                deadline = self._escalate(level, pid, by_terminal=False)

    def _escalate(self, level: int, pid: int, *, by_terminal: bool) -> float:
        """Step ``level`` of stopping: 1 interrupt (as Ctrl-C), 2 SIGTERM to all, then SIGKILL to all."""
        if level == 1:
            if not by_terminal:
                group = os.getpgrp()
                _send(sorted({pid} | {p.pid for p in descendants() if p.pgid == group}), signal.SIGINT)
            return time.monotonic() + self.grace
        everyone = [p.pid for p in descendants() if not p.zombie]
        _send(everyone, signal.SIGTERM if level == 2 else signal.SIGKILL)
        return time.monotonic() + self.kill_after

    def sweep(self) -> None:
        """Stop every descendant still running: SIGTERM, then SIGKILL after ``kill_after``; reap them."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            self._reap()
            left = [p.pid for p in descendants() if not p.zombie]
            if not left:
                return
            _send(left, sig)
            deadline = time.monotonic() + self.kill_after
            while time.monotonic() < deadline:
                info = signal.sigtimedwait(WATCHED, POLL)
                if info is not None and info.si_signo in STOPPING:
                    self.signal = self.signal or signal.Signals(info.si_signo)
                    break  # impatient: kill now
                self._reap()
                if not any(not p.zombie for p in descendants()):
                    return
        self._reap()


def main(argv: list[str] | None = None) -> int:
    """``python -m runner.supervise COMMAND...``: run one command under supervision (for tests and scripts).

    ``RUN_GRACE`` and ``RUN_KILL_AFTER`` (seconds) shorten the waits before SIGTERM and SIGKILL.
    """
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m runner.supervise COMMAND [ARG...]", file=sys.stderr)
        return 2
    grace = float(os.environ.get("RUN_GRACE", "10"))
    kill_after = float(os.environ.get("RUN_KILL_AFTER", "5"))
    with Supervisor(grace=grace, kill_after=kill_after) as supervisor:
        try:
            status = supervisor.run(args, env=os.environ)
        except CommandNotFound as error:
            print(f"run: {error}: command not found", file=sys.stderr)
            return 127
        return supervisor.exit_status(status)


if __name__ == "__main__":
    sys.exit(main())
