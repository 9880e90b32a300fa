"""The conformance suite's own speed: a full run, one browser login, and the mutation job (``./run mutation``)."""

from __future__ import annotations

import configparser
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from faker import Faker
from playwright.sync_api import sync_playwright

from bench.soak import flake_rate, soak
from hoop_conformance.contract import CALLBACK
from hoop_conformance.deployment import Deployment
from hoop_conformance.drivers.browser_flow import browser_login
from hoop_conformance.drivers.chromium import find_chromium, launch_args
from hoop_conformance.gateway_api import Gateway
from hoop_conformance.idp.provider import Idp
from hoop_conformance.launchers.gateway import GatewayCommand, IdpRegistration, run_gateway
from hoop_conformance.launchers.mock import start_mock_idp
from hoop_conformance.launchers.servers import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
FULL_RUN_TARGET_S = 180.0
FULL_RUN_AIM_S = 90.0


def mutation_job_args() -> list[str]:
    """The pytest arguments of ``./run mutation``, from tox.ini's ``mutation`` environment (defaults for posargs)."""
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(REPO_ROOT / "tox.ini", encoding="utf-8")
    argv = shlex.split(tox["testenv:mutation"]["commands"].strip())
    default = [arg.removeprefix("{posargs:").removesuffix("}") if arg.startswith("{posargs") else arg for arg in argv]
    return default[1:]  # without the leading "pytest"


def browser_login_times(logins: int) -> list[float]:
    """Seconds per whole browser login (``/api/login``, the IdP's pages, the callback), one fresh context each."""
    times = []
    with start_mock_idp() as mock, sync_playwright() as playwright:
        idp = Idp(issuer=mock.issuer, base_url=mock.base_url, admin=mock.admin, control=mock.control)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        app = mock.control.create_app(redirect_uris=[url + CALLBACK])
        registration = IdpRegistration(
            issuer=idp.issuer, client_id=app["client_id"], client_secret=app["client_secret"]
        )
        with run_gateway(GatewayCommand.reference(), port=port, idp=registration) as process:
            deployment = Deployment(idp, Gateway(url, registration, process=process, timeout=30.0), app, Faker())
            executable = find_chromium(playwright.chromium.executable_path)
            browser = playwright.chromium.launch(executable_path=executable, args=launch_args())
            for _ in range(logins):
                user = deployment.make_user()
                context = browser.new_context()
                began = time.perf_counter()
                browser_login(context.new_page(), deployment, user)
                times.append(time.perf_counter() - began)
                context.close()
            browser.close()
    return times


def timed_pytest(*args: str) -> tuple[float, int]:
    """Seconds a ``python -m pytest ARGS`` run takes in the repository, and its exit status."""
    with tempfile.TemporaryDirectory(prefix="bench-run-") as scratch:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--basetemp", f"{scratch}/t", *args]
        began = time.perf_counter()
        result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
        return time.perf_counter() - began, result.returncode


def suite_rows(logins: int, *, mutation: bool, soak_runs: int) -> Iterator[str]:
    """The lines of the suite's part of the report."""
    times = browser_login_times(logins)
    median = statistics.median(times)
    yield f"suite     browser login (whole, headless Chromium)  median {median:.2f} s ({logins} logins)"
    seconds, status = timed_pytest("suites", "-n", "2", "--reports", f"{tempfile.gettempdir()}/bench-reports")
    verdict = "aim MET" if seconds < FULL_RUN_AIM_S else "target MET" if seconds < FULL_RUN_TARGET_S else "NOT MET"
    yield f"suite     full conformance run (-n 2)  {seconds:.0f} s, exit {status}: {FULL_RUN_TARGET_S:.0f} s {verdict}"
    if mutation:
        args = mutation_job_args()
        seconds, status = timed_pytest(*args)
        yield f"suite     mutation job (./run mutation: pytest {' '.join(args)})  {seconds:.0f} s, exit {status}"
    if soak_runs > 0:
        runs = soak(soak_runs, hog=False)
        unexpected = sum(len(run.unexpected) for run in runs)
        yield (
            f"suite     flake rate over {soak_runs} random-order runs (-n 2)  {flake_rate(runs):.0%} of runs, "
            f"{unexpected} unexpected result(s) in all"
        )
