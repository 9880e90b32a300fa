"""``./run``'s set-up on a fresh machine: its own virtual environment, never pip into the system's Python.

The system is faked on ``PATH``: a ``python3`` whose ``venv`` fails until ``apt-get install`` ran (Debian
without python3-venv), an ``apt-get`` that records its arguments, and a virtual environment's ``python``
that records pip and the runner. Each fake writes one line per call to a shared log.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.runner.place import REPO

NOBODY = 65534

FAKE_PYTHON3 = """#!/bin/bash
echo "python3 $*" >> "$FAKE_LOG"
if [ "$1" = -m ] && [ "$2" = venv ]; then
  if [ ! -e "$FAKE_STATE/venv-installed" ]; then
    echo "The virtual environment was not created successfully because ensurepip is not available." >&2
    exit 1
  fi
  mkdir -p "$3/bin" && cp "$FAKE_STATE/venv-python" "$3/bin/python" && exit 0
fi
if [ "$1" = -m ]; then echo "the system python3 must not run modules: $*" >&2; exit 99; fi
exec /usr/bin/python3 "$@"
"""
FAKE_APT_GET = """#!/bin/bash
echo "apt-get $*" >> "$FAKE_LOG"
if [ "$1" = install ]; then touch "$FAKE_STATE/venv-installed"; fi
"""
FAKE_VENV_PYTHON = """#!/bin/bash
echo "venv-python $*" >> "$FAKE_LOG"
here=$(dirname "$0")
if [ "$1" = -m ] && [ "$2" = pip ]; then touch "$here/../tox-installed"; exit 0; fi
if [ "$1" = -c ]; then [ -e "$here/../tox-installed" ]; exit; fi
if [ "$1" = -m ] && [ "$2" = runner ]; then exit 0; fi
exit 98
"""


@dataclass
class FakeMachine:
    """A copy of ``./run`` in a project folder, and a fake system on ``PATH``."""

    root: Path

    @property
    def project(self) -> Path:
        return self.root / "project"

    @property
    def log(self) -> Path:
        return self.root / "calls.log"

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def run(self, *args: str, as_user: int | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            "PATH": f"{self.root / 'bin'}:/usr/bin:/bin",
            "HOME": str(self.root),
            "FAKE_LOG": str(self.log),
            "FAKE_STATE": str(self.root / "state"),
        }
        argv = [str(self.project / "run"), *args]
        if as_user is not None:
            argv = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--clear-groups", *argv]
        return subprocess.run(
            argv, env=env, cwd=self.root, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )


def _write(path: Path, text: str, mode: int = 0o755) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


@pytest.fixture
def machine() -> Iterator[FakeMachine]:
    """A fresh fake machine in a folder anyone may use (the non-root case runs as nobody)."""
    root = Path(tempfile.mkdtemp(prefix="run-bootstrap-"))
    try:
        fake = FakeMachine(root)
        _write(fake.project / "run", (REPO / "run").read_text())
        _write(root / "bin" / "python3", FAKE_PYTHON3)
        _write(root / "bin" / "apt-get", FAKE_APT_GET)
        _write(root / "state" / "venv-python", FAKE_VENV_PYTHON)
        for folder in (root, fake.project, root / "state"):
            folder.chmod(0o777 | stat.S_ISVTX)
        fake.log.touch(mode=0o666)
        fake.log.chmod(0o666)
        yield fake
    finally:
        shutil.rmtree(root)


@pytest.mark.skipif(os.geteuid() != 0, reason="installing python3-venv is what ./run does as root")
def test_as_root_it_installs_python3_venv_then_tox_into_its_own_environment(machine: FakeMachine) -> None:
    result = machine.run("mock", "--port", "0")
    assert result.returncode == 0, result.stderr
    calls = machine.calls()
    installs = [call for call in calls if call.startswith("apt-get install")]
    assert installs == ["apt-get install -y -qq python3-venv"], calls
    assert "venv-python -m pip install --quiet --disable-pip-version-check tox>=4" in calls
    assert not any(call.startswith("python3 -m pip") for call in calls), "never pip into the system's Python"
    assert calls[-1] == "venv-python -m runner mock --port 0", "tox env name, then the arguments as given"
    assert "installing Debian's python3-venv" in result.stderr
    assert (machine.project / ".run-venv" / "bin" / "python").exists()

    again = machine.run("lint")
    assert again.returncode == 0 and again.stderr == "", "set up once: quiet afterwards"
    assert machine.calls()[len(calls) :] == [
        'venv-python -c import sys, tox; sys.exit(int(tox.__version__.split(".")[0]) < 4)',
        "venv-python -m runner lint",
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_as_a_normal_user_it_says_in_one_line_what_to_install(machine: FakeMachine) -> None:
    result = machine.run("mock", as_user=NOBODY)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("run: ") and "install it with 'sudo apt-get install python3-venv'" in lines[0]
    assert not any(call.startswith("apt-get") for call in machine.calls())


@pytest.mark.parametrize("args", [[], ["bogus"], ["--help"]])
def test_an_unknown_command_shows_the_usage(machine: FakeMachine, args: list[str]) -> None:
    result = machine.run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: ./run {conformance|tests|mutation|integration|soak|mock|bench|lint|load}")
    assert machine.calls() == [], "nothing is set up for a usage error"
