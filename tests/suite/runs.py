"""Run the conformance suite in a child pytest, as a user would, and read each check's status from its JUnit XML.

The own tests run the suite often (the mutation test about a hundred times), and a child pytest spends most of a short
run importing the plugin and the suites. So children keep their bytecode in a cache of their own (``PYCACHE``, outside
the tree) even where ``PYTHONDONTWRITEBYTECODE`` is set, and leave out the test-only Hypothesis plugin, which
``./run conformance``'s environment does not have either.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT = 600
PYCACHE = Path(tempfile.gettempdir()) / f"hoop-conformance-pycache-{os.getuid()}"
"""Where child runs, and the servers they start, keep their bytecode (``PYTHONPYCACHEPREFIX``): shared by all runs."""


@dataclass(frozen=True)
class SuiteRun:
    """A finished conformance run: its exit status, each check's status, and its output."""

    returncode: int
    statuses: dict[str, str]
    output: str

    def failing(self) -> set[str]:
        """Check ids with a FAIL."""
        return {check for check, status in self.statuses.items() if status == "FAIL"}


def _status(case: ElementTree.Element) -> str:
    if case.find("failure") is not None:
        return "FAIL"
    if case.find("error") is not None:
        return "ERROR"
    if case.find("skipped") is not None:
        return "SKIP"
    return "PASS"


def read_statuses(junit: Path) -> dict[str, str]:
    """Check id -> worst status over its test cases (FAIL > ERROR > SKIP > PASS)."""
    rank = {"PASS": 0, "SKIP": 1, "ERROR": 2, "FAIL": 3}
    statuses: dict[str, str] = {}
    for case in ElementTree.parse(junit).iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        check = properties.get("check")
        if check is None:
            continue
        status = _status(case)
        if rank[status] > rank[statuses.get(check, "PASS")]:
            statuses[check] = status
        statuses.setdefault(check, status)
    return statuses


def run_suite(
    tmp_path: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    paths: Sequence[str] = ("suites",),
    junit: Path | None = None,
    output: Path | None = None,
    reports: Path | None = None,
) -> SuiteRun:
    """``python -m pytest suites ARGS`` in the repository, with ``env`` added to the environment.

    The JUnit XML (``junit``), pytest-playwright's artifacts (``output``) and the suite's reports (``reports``)
    go under ``tmp_path`` unless given.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    junit = junit or tmp_path / "junit.xml"
    output = output or tmp_path / "artifacts"
    reports = reports or tmp_path / "reports"
    command = [
        sys.executable, "-m", "pytest", *paths, "-p", "no:randomly", "-p", "no:cacheprovider",
        "-p", "no:hypothesispytest", "-q",
        "--junitxml", str(junit), "--output", str(output), "--basetemp", str(tmp_path / "base"),
        "--reports", str(reports), *args,
    ]  # fmt: skip
    result = subprocess.run(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(PYCACHE), **(env or {})},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    statuses = read_statuses(junit) if junit.exists() else {}
    return SuiteRun(result.returncode, statuses, result.stdout[-4000:] + result.stderr[-2000:])
