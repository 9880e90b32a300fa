"""The Hoop launcher with the stand-in binary, as the suite's ``--hoop-bin`` and as a ``--gateway-cmd``: checks pass
through it (LOGIN-10 starts at the stand-in web app's ``/login``), and a Hoop that exits at once makes ERRORs carrying
its log's tail."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from tests.launchers.conftest import STANDIN, launcher_argv, standin_environment
from tests.suite.runs import run_suite

pytestmark = pytest.mark.integration


def gateway_cmd(*options: str) -> str:
    """The launcher as a ``--gateway-cmd``, without ``exec``: the suite's stop gives what a shell started the time it
    needs (the shell dies at SIGTERM at once; the launcher still stops Hoop and removes its database)."""
    return shlex.join(launcher_argv(*options))


CHECKS = "LOGIN-10,LOGIN-01,CB-04,GROUP-14"
"""The portal tile (the web app's /login), a gateway of a check's own, a shared one, a fresh gateway's first user."""


@pytest.mark.parametrize("how", ["--hoop-bin", "--gateway-cmd"])
def test_checks_pass_through_the_launcher(tmp_path: Path, how: str) -> None:
    report = tmp_path / "standin.jsonl"
    gateway = str(STANDIN) if how == "--hoop-bin" else gateway_cmd()
    run = run_suite(tmp_path, how, gateway, "--checks", CHECKS, env=standin_environment(report))
    assert run.statuses == dict.fromkeys(CHECKS.split(","), "PASS"), run.output
    assert run.returncode == 0, run.output
    starts = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(starts) >= 2 and {start["rows_before"] for start in starts} == {0}, starts
    assert len({start["uri"] for start in starts}) == len(starts), "every start has a database of its own"
    left = [start["static_ui"] for start in starts if Path(start["static_ui"]).parent.exists()]
    assert not left, f"the suite's SIGTERM left work directories (cluster, web app) behind: {left}"


def test_a_hoop_that_exits_at_once_gives_errors_with_its_log(tmp_path: Path) -> None:
    env = standin_environment(tmp_path / "standin.jsonl") | {"STANDIN_EXIT": "3"}
    run = run_suite(tmp_path, "--gateway-cmd", gateway_cmd(), "--checks", "LOGIN-01,CB-04", env=env)
    assert run.statuses == {"LOGIN-01": "ERROR", "CB-04": "ERROR"}, run.output
    assert "exited with status 3" in run.output, run.output
    assert "standin-hoop: exiting at once with status 3 (STANDIN_EXIT)" in run.output, "the log's tail"
    assert run.returncode == 1


def test_login_10_needs_the_web_apps_hand_off(tmp_path: Path) -> None:
    """The control for the first test: a web app whose /login starts nothing fails LOGIN-10 (so the stand-in page,
    not the gateway behind it, is what passed it)."""
    inert = tmp_path / "inert-ui"
    (inert / "js").mkdir(parents=True)
    (inert / "index.html").write_text("<!doctype html><title>Hoop</title><p>nothing starts here</p>")
    (inert / "js" / "app.js").write_text("")
    command = gateway_cmd("--static-ui", str(inert))
    env = standin_environment(tmp_path / "standin.jsonl")
    run = run_suite(tmp_path, "--gateway-cmd", command, "--checks", "LOGIN-10", "--time-budget", "5", env=env)
    assert run.statuses == {"LOGIN-10": "FAIL"}, run.output
