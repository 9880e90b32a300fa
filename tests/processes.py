"""Which processes are alive, read from /proc: to show that stopping something leaves nothing behind."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from hoop_conformance.waiting import wait_for


@dataclass(frozen=True)
class ProcessInfo:
    """One line of ``/proc/PID/stat``: what matters to find a process's family."""

    pid: int
    ppid: int
    pgid: int
    sid: int
    state: str
    command: str


def processes() -> list[ProcessInfo]:
    """Every process this user can see, zombies included."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:  # it ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        found.append(
            ProcessInfo(
                pid=int(entry.name),
                ppid=int(fields[1]),
                pgid=int(fields[2]),
                sid=int(fields[3]),
                state=fields[0],
                command=command,
            )
        )
    return found


def living(predicate: str) -> list[ProcessInfo]:
    """Running (not zombie) processes whose command line contains ``predicate``."""
    return [p for p in processes() if p.state != "Z" and predicate in p.command and p.pid != os.getpid()]


def wait_until_none(predicate: str, *, timeout: float = 15.0) -> None:
    """Wait until no running process's command line contains ``predicate``; fail naming the ones left."""

    def none_left() -> bool:
        return not living(predicate)

    try:
        wait_for(none_left, timeout=timeout, message=f"no process matching {predicate!r}")
    except AssertionError:
        left = "\n".join(f"{p.pid} (ppid {p.ppid}, sid {p.sid}): {p.command}" for p in living(predicate))
        raise AssertionError(f"processes left behind:\n{left}") from None


def descendants(root: int) -> list[ProcessInfo]:
    """Every running process below ``root`` (zombies left out)."""
    children: dict[int, list[ProcessInfo]] = {}
    for process in processes():
        children.setdefault(process.ppid, []).append(process)
    found: list[ProcessInfo] = []
    queue = [root]
    while queue:
        for child in children.get(queue.pop(), []):
            queue.append(child.pid)
            if child.state != "Z":
                found.append(child)
    return found


def still_running(recorded: list[ProcessInfo]) -> list[ProcessInfo]:
    """Those of ``recorded`` still running (the same pid with the same command line, not a zombie)."""
    wanted = {(p.pid, p.command) for p in recorded}
    return [p for p in processes() if (p.pid, p.command) in wanted and p.state != "Z"]


def wait_all_gone(recorded: list[ProcessInfo], *, timeout: float = 15.0) -> None:
    """Wait until none of ``recorded`` runs; fail naming the ones left."""
    try:
        wait_for(lambda: not still_running(recorded), timeout=timeout, message="every process gone")
    except AssertionError:
        left = "\n".join(f"{p.pid} (ppid {p.ppid}, sid {p.sid}): {p.command}" for p in still_running(recorded))
        raise AssertionError(f"processes left behind:\n{left}") from None
