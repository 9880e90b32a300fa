"""Where ``./run`` is, and the environment a person's shell would start it with."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN = REPO / "run"
RUN_PYTHON = REPO / ".run-venv" / "bin" / "python"
TOX_VARIABLES = ("VIRTUAL_ENV", "TOX_ENV_NAME", "TOX_ENV_DIR", "TOX_WORK_DIR", "PYTEST_XDIST_WORKER")


def run_environment(**changes: str) -> dict[str, str]:
    """This process's environment less a tox environment's variables, with ``changes``."""
    return {key: value for key, value in os.environ.items() if key not in TOX_VARIABLES} | changes
