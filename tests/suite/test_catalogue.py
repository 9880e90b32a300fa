"""The check markers are the catalogue: the committed list is what they say, and it matches spec/checks.md."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
COMMITTED = REPO_ROOT / "suites" / "checks.txt"
SPEC = REPO_ROOT / "spec" / "checks.md"
SPEC_ROW = re.compile(r"^\|\s*([A-Z]+-\d+)\s*\|(?:[^|]*\|){3}\s*([A-Z/]+)\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)
LISTED = re.compile(r"^([A-Z]+-\d{2})\s+(MUST|SHOULD|CONTRACT|INFO)\s+(staging|-)\s", re.MULTILINE)


def listed_checks() -> str:
    """What ``python -m pytest --list-checks`` prints: the catalogue lines only."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--list-checks", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return "\n".join(line for line in result.stdout.splitlines() if LISTED.match(line)) + "\n"


def test_committed_list_is_what_the_markers_say() -> None:
    assert listed_checks() == COMMITTED.read_text(), (
        "regenerate: python -m pytest --list-checks -q | grep -E '^[A-Z]+-[0-9]{2} ' > suites/checks.txt"
    )


def test_committed_list_matches_the_spec() -> None:
    spec: dict[str, tuple[set[str], bool]] = {
        check: (set(level.split("/")), staging.startswith("yes"))
        for check, level, staging in SPEC_ROW.findall(SPEC.read_text())
    }
    listed: dict[str, tuple[set[str], bool]] = {}
    for check, level, staging in LISTED.findall(COMMITTED.read_text()):
        levels, _ = listed.get(check, (set(), False))
        listed[check] = (levels | {level}, staging == "staging")
    assert sorted(spec.keys() - listed.keys()) == [], "checks in the spec without a check function"
    assert sorted(listed.keys() - spec.keys()) == [], "check functions the spec does not know"
    differing = {check: (listed[check], spec[check]) for check in spec if listed[check] != spec[check]}
    assert differing == {}, "level or staging differs (listed, spec)"


HOOP_ROW = re.compile(r"^\|\s*([A-Z]+-\d+)\s*\|(?:[^|]*\|){5}\s*([^|]*?)\s*\|\s*$", re.MULTILINE)
"""A catalogue row's id and its last column: what Hoop does."""


def test_hoop_expectations_are_the_spec_hoop_column() -> None:
    predicted: dict[str, str] = {}
    for check, hoop in HOOP_ROW.findall(SPEC.read_text()):
        if hoop == "fail":
            predicted[check] = "FAIL"
        elif hoop == "n/a":
            predicted[check] = "SKIP"
        elif hoop.endswith(" fails"):  # one level of a two-level row fails: "HttpOnly fails" is SESS-03's SHOULD
            predicted[f"{check} SHOULD"] = "FAIL"
    listed = tomllib.loads((REPO_ROOT / "expectations" / "hoop.toml").read_text())
    assert {key: entry["expected"] for key, entry in listed.items()} == predicted
