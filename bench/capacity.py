"""The bench's capacity part: the reference gateway and the mock JumpCloud under the same Locust users, side by side
(``./run load`` as a child process: Locust is never imported here)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

USERS = 20
RUN_TIME = "15s"


def capacity_rows(users: int = USERS, run_time: str = RUN_TIME) -> Iterator[str]:
    """One headless load run against the bundled gateway and mock, then the mock alone: their figures."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as reports:
        command = [sys.executable, "-m", "hoop_conformance.capacity", "--reports", reports,
                   "-u", str(users), "-t", run_time, "--think-time", "0,0"]  # fmt: skip
        run = subprocess.run(command, capture_output=True, text=True, timeout=600)
        summary = Path(reports) / "summary.txt"
        if run.returncode != 0 or not summary.exists():
            yield f"capacity  load run failed (exit {run.returncode}): {(run.stderr or run.stdout)[-300:].strip()}"
            return
        for line in summary.read_text().splitlines():
            yield f"capacity  {users} Locust users, no think time: {line}"
