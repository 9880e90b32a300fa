"""The load run (``python -m hoop_conformance.capacity``, ``./run load``) against the bundled gateway and mock: short
headless runs, a small curve, a distributed run on loopback, and Locust kept out of pytest's process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hoop_conformance.capacity import cli
from hoop_conformance.capacity.curve import write_curve
from hoop_conformance.capacity.stats import Headroom, run_figures
from hoop_conformance.launchers.servers import free_port
from tests.suite.runs import run_suite

pytestmark = pytest.mark.integration

RUN_TIMEOUT = 180
"""Seconds a whole short run may take on a busy two-core machine (servers, provisioning, Locust, the baseline)."""
SHORT = ["-u", "2", "-r", "2", "-t", "3s", "--think-time", "0.1,0.3", "--baseline-time", "2s", "--only-summary"]


def entries(path: Path) -> dict[str, dict[str, object]]:
    """Locust's JSON stats by entry name."""
    return {entry["name"]: entry for entry in json.loads(path.read_text())}


def test_a_short_headless_run_writes_the_stats_and_the_mocks_headroom(tmp_path: Path) -> None:
    status = cli.main(["--reports", str(tmp_path), *SHORT])  # in this process: Locust runs as a subprocess
    assert status == 0, (tmp_path / "summary.txt").read_text() if (tmp_path / "summary.txt").exists() else status
    for name in ("stats.json", "stats_stats.csv", "stats.html", "mock-stats.json", "summary.txt"):
        assert (tmp_path / name).stat().st_size > 0, name
    stats = entries(tmp_path / "stats.json")
    assert stats["login"]["num_requests"] >= 2 and stats["login"]["num_failures"] == 0, stats["login"]
    assert stats["/api/callback"]["num_requests"] >= 2
    assert entries(tmp_path / "mock-stats.json")["mock login"]["num_requests"] >= 1
    summary = (tmp_path / "summary.txt").read_text()
    assert "gateway:" in summary and "mock alone, same users:" in summary and "headroom" in summary, summary
    assert "locust" not in sys.modules and "gevent" not in sys.modules, "Locust was imported into pytest's process"


def test_the_curve_writes_a_plot_and_a_table(tmp_path: Path) -> None:
    args = ["--curve", "--curve-steps", "1,2", "--step-time", "3s", "--baseline-time", "2s", "--only-summary"]
    assert cli.main(["--reports", str(tmp_path), "--think-time", "0.1,0.3", *args]) == 0
    assert (tmp_path / "capacity.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    table = (tmp_path / "capacity.md").read_text().splitlines()
    assert table[0].startswith("| users | logins_per_s | login_p50_ms | api_per_s | api_p50_ms | api_p99_ms | errors")
    assert [row.split("|")[1].strip() for row in table[2:]] == ["1", "2"], table
    assert (tmp_path / "step-2-users.json").exists() and (tmp_path / "mock-step-2-users.json").exists()
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_a_distributed_run_one_master_two_workers_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "hoop_conformance.capacity"]
    master = subprocess.Popen(
        [*command, "--reports", str(tmp_path), "--baseline-time", "2s", "--master", "--expect-workers", "2",
         "--expect-workers-max-wait", "90", "--master-bind-port", str(port), "-u", "4", "-r", "4", "-t", "4s",
         "--think-time", "0.1,0.3", "--only-summary"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    worker = [*command, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    workers = [subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        output, _ = master.communicate(timeout=RUN_TIMEOUT)
        for worker in workers:
            worker.wait(timeout=30)
    finally:
        for process in (master, *workers):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert master.returncode == 0, output[-3000:]
    assert "2 workers connected" in output, output[-3000:]
    stats = entries(tmp_path / "stats.json")
    assert stats["login"]["num_requests"] >= 4 and stats["login"]["num_failures"] == 0, stats["login"]
    assert "mock alone, same users:" in (tmp_path / "summary.txt").read_text(), "the baseline ran in the master's place"


def test_the_installed_command_has_the_load_job(capsys: pytest.CaptureFixture[str]) -> None:
    from hoop_conformance.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["load", "--help"])
    assert exited.value.code == 0
    assert "--curve-steps" in capsys.readouterr().out
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_figures_and_headroom_from_stats(tmp_path: Path) -> None:
    def entry(name: str, count: int, failures: int, times: dict[str, int]) -> dict[str, object]:
        return {"name": name, "method": "X", "start_time": 100.0, "last_request_timestamp": 110.0,
                "num_requests": count, "num_failures": failures, "response_times": times}  # fmt: skip

    gateway = tmp_path / "g.json"
    gateway.write_text(json.dumps([entry("login", 20, 1, {"40": 20}), entry("api call", 100, 0, {"5": 98, "90": 2})]))
    mock = tmp_path / "m.json"
    mock.write_text(json.dumps([entry("mock login", 60, 0, {"10": 60}), entry("mock userinfo", 80, 0, {"2": 80})]))
    figures = run_figures(gateway)
    assert (figures.logins.per_second, figures.calls.per_second, figures.errors) == (2.0, 10.0, 1)
    assert (figures.calls.p50, figures.calls.p99) == (5.0, 90.0)
    headroom = Headroom(figures, run_figures(mock, mock=True))
    assert headroom.load == pytest.approx(12 / 14) and headroom.mock_saturated
    assert "the mock, not the gateway, saturated" in headroom.lines()[-1]
    table, plot = write_curve(tmp_path, [{"users": 1, **figures.row()}, {"users": 5, **figures.row()}])
    assert plot.read_bytes().startswith(b"\x89PNG") and "| 5 |" in table.read_text()
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_the_load_checks_run_locust_outside_pytests_process(tmp_path: Path) -> None:
    # One process (no xdist): the checks run where the probe looks, and their HTTP logins came from Locust.
    probe = tmp_path / "modules.json"
    run = run_suite(
        tmp_path, "--checks", "LOAD-01,LOAD-02", "-p", "tests.capacity.modules_probe",
        env={"HOOP_MODULES_PROBE": str(probe)},
    )  # fmt: skip
    assert run.statuses == {"LOAD-01": "PASS", "LOAD-02": "PASS"}, run.output
    assert json.loads(probe.read_text()) == [], "Locust or gevent was imported into pytest's process"
    assert "locust" not in sys.modules and "gevent" not in sys.modules
