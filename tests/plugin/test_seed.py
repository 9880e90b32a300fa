"""Test data is seeded: the seed is printed, shared with xdist workers, and repeats the same data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import os

def test_probe(fake, pytestconfig):
    with open(os.environ["PROBE_OUT"], "a") as out:
        out.write(f"DATA {pytestconfig.getoption('seed')} {fake.email()}\\n")
"""


def run_probe(tmp_path: Path, *args: str) -> str:
    """Run the probe test; its header and the data it wrote."""
    (tmp_path / "test_probe.py").write_text(PROBE)
    out = tmp_path / "probe.out"
    out.unlink(missing_ok=True)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "hoop_conformance.plugin",
            "-p",
            "no:cacheprovider",
            *args,
            "test_probe.py",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "PROBE_OUT": str(out)},
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + out.read_text()


def test_seed_is_printed_and_repeats_the_data(tmp_path: Path) -> None:
    first = run_probe(tmp_path, "--seed", "1234")
    assert "hoop-oidc: test data seed 1234 (repeat with --seed)" in first
    data = re.findall(r"DATA (\d+) (\S+)", first)
    assert data and data[0][0] == "1234"
    assert re.findall(r"DATA (\d+) (\S+)", run_probe(tmp_path, "--seed", "1234")) == data
    assert re.findall(r"DATA (\d+) (\S+)", run_probe(tmp_path, "--seed", "99")) != data


def test_a_random_seed_reaches_the_xdist_workers(tmp_path: Path) -> None:
    output = run_probe(tmp_path, "-n", "1")
    printed = re.search(r"hoop-oidc: test data seed (\d+)", output)
    assert printed is not None
    assert re.findall(r"DATA (\d+) ", output) == [printed.group(1)]
