"""Reading a staging run's results, and a run that is killed halfway."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from hoop_conformance.waiting import wait_for

from ..processes import processes
from ..suite.runs import PYCACHE, REPO_ROOT
from .org import Organization

CATALOGUE = REPO_ROOT / "suites" / "checks.txt"


def staging_checks() -> set[str]:
    """The ids the catalogue marks ``staging``."""
    rows = (line.split() for line in CATALOGUE.read_text().splitlines())
    return {row[0] for row in rows if len(row) > 2 and row[2] == "staging"}


def results(reports: Path) -> dict[str, Any]:
    """``conformance.json`` of a run."""
    return json.loads((reports / "conformance.json").read_text())  # type: ignore[no-any-return]


def statuses(reports: Path) -> dict[str, tuple[str, str]]:
    """Check id -> (status, message) from ``conformance.json`` (an id with two levels: the worse)."""
    found: dict[str, tuple[str, str]] = {}
    for check in results(reports)["checks"]:
        if found.get(check["id"], ("PASS", ""))[0] == "PASS":
            found[check["id"]] = (check["status"], check.get("message") or "")
    return found


def _descendants(root: int) -> list[int]:
    everyone = processes()
    family, grew = {root}, True
    while grew:
        more = {p.pid for p in everyone if p.ppid in family} - family
        family |= more
        grew = bool(more)
    return sorted(family)


def interrupted_run(
    tmp_path: Path,
    org: Organization,
    *args: str,
    signum: signal.Signals = signal.SIGKILL,
    after_users: int = 3,
    timeout: float = 240.0,
) -> tuple[int | None, int]:
    """Start a staging run, wait until the organization holds ``after_users`` users of it, then stop it: SIGKILL to
    the run and everything it started (gateways and browsers in sessions of their own included), or another signal
    to pytest alone, which must then end by itself. The run's exit status (None when killed) and how many objects it
    left in the organization."""
    command = [
        sys.executable, "-m", "pytest", "suites", "-p", "no:randomly", "-p", "no:cacheprovider",
        "-p", "no:hypothesispytest", "-q", "--basetemp", str(tmp_path / "base"), "--reports", str(tmp_path / "reports"),
        *org.args(*args),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPYCACHEPREFIX": str(PYCACHE), **org.env}
    tmp_path.mkdir(parents=True, exist_ok=True)
    log_path = tmp_path / "interrupted-run.log"
    status: int | None = None
    with log_path.open("wb") as log:
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_for(
                lambda: sum(item.kind == "user" for item in org.leftovers()) >= after_users or child.poll() is not None,
                timeout=timeout,
                interval=0.5,
                message=f"{after_users} users of the staging run in the organization",
            )
            assert child.poll() is None, f"the run ended too soon:\n{log_path.read_text()[-2000:]}"
            if signum != signal.SIGKILL:
                child.send_signal(signum)
                status = child.wait(timeout=120)
        finally:
            family = _kill_family(child.pid)  # SIGKILL, or whatever a stopped run left running
            child.wait(timeout=30)
    wait_for(
        lambda: not (set(family) & {p.pid for p in processes() if p.state != "Z"}),
        timeout=30,
        message="the run's processes gone",
    )
    return status, len(org.leftovers())


def _kill_family(root: int) -> list[int]:
    """SIGSTOP ``root`` and its descendants (none can start another), then SIGKILL them all; their pids."""
    family: list[int] = []
    for signum in (signal.SIGSTOP, signal.SIGSTOP, signal.SIGKILL):  # a second look finds what started meanwhile
        if signum == signal.SIGSTOP or not family:
            family = _descendants(root)
        for pid in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
    return family
