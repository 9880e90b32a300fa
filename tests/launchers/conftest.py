"""Fixtures for the Hoop launcher's tests: the stand-in binary started through the launcher, as the suite starts a
gateway, and a PostgreSQL server of the tests' own for ``--hoop-database-url``."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from hoop_conformance.launchers.gateway import GatewayCommand, IdpRegistration, run_gateway
from hoop_conformance.launchers.hoop import launcher_command
from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.launchers.postgres import Database, find_postgres, throwaway_cluster
from hoop_conformance.launchers.servers import ServerProcess, free_port

STANDIN = Path(__file__).resolve().parent / "standin_hoop.py"
"""The stand-in for Hoop's binary (``--hoop-bin``)."""
LAUNCHER = launcher_command(STANDIN)[:3]
"""``python -m hoop_conformance.launchers.hoop``."""
START_TIMEOUT = 60.0
DATA_DIRECTORY = re.compile(r"data in (\S+);")
WORKDIR = re.compile(r"web app: (/\S+)/webapp$", re.MULTILINE)


def launcher_argv(*options: str) -> tuple[str, ...]:
    """The launcher's command line with the stand-in as Hoop."""
    return (*launcher_command(STANDIN), *options)


def standin_environment(report: Path) -> dict[str, str]:
    """What the stand-in needs besides the contract's variables: this environment's ``python3`` first on ``PATH``
    (its ``#!/usr/bin/env python3``), and where to report each start."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return {"PATH": path, "STANDIN_REPORT": str(report)}


@dataclass
class Started:
    """A gateway the launcher started: its process (log included) and what the stand-in reported."""

    url: str
    process: ServerProcess
    report: dict[str, Any]

    @property
    def log(self) -> str:
        """The gateway's log so far: the launcher's lines and the stand-in's."""
        return self.process.log_path.read_text()

    @property
    def workdir(self) -> Path:
        """The launcher's temporary directory for this start."""
        found = WORKDIR.search(self.log)
        assert found, self.log
        return Path(found.group(1))


class Launch(Protocol):
    """Start the stand-in through the launcher (``options`` added, ``env`` added to the environment)."""

    def __call__(self, *options: str, env: dict[str, str] | None = None) -> AbstractContextManager[Started]: ...


@pytest.fixture
def launch(mock_idp: RunningMockIdp, tmp_path: Path) -> Launch:
    """Starts like the suite's: the contract's environment for an app of its own at the session's mock, SIGTERM at the
    end of the block."""
    report = tmp_path / "standin.jsonl"
    starts = iter(range(1, 1000))

    @contextmanager
    def start(*options: str, env: dict[str, str] | None = None) -> Iterator[Started]:
        port, number = free_port(), next(starts)
        url = f"http://127.0.0.1:{port}"
        app = mock_idp.control.create_app(redirect_uris=[url + "/api/callback"], login_url=url + "/login")
        idp = IdpRegistration(issuer=mock_idp.issuer, client_id=app["client_id"], client_secret=app["client_secret"])
        command = GatewayCommand(launcher_argv(*options), "hoop launcher", side_by_side=True)
        extra = standin_environment(report) | (env or {})
        log = tmp_path / f"gateway-{number}.log"
        with run_gateway(command, port=port, idp=idp, extra_env=extra, log_path=log, start_timeout=START_TIMEOUT) as p:
            lines = report.read_text().splitlines()
            yield Started(url=url, process=p, report=json.loads(lines[-1]))

    return start


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[Database]:
    """A PostgreSQL server of the module's own (a throwaway cluster): its ``hoop`` role may create databases.

    In a directory of its own under the system's temporary one: under root the cluster runs as another user, who
    cannot reach pytest's (mode 0700) temporary directories.
    """
    with tempfile.TemporaryDirectory(prefix="hoop-launcher-tests-") as parent:
        Path(parent).chmod(0o711)
        with throwaway_cluster(find_postgres(), Path(parent) / "cluster") as database:
            yield database
