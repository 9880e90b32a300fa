"""The Hoop launcher with a stand-in binary: each start has a database of its own for exactly as long as the gateway
runs, a web app with ``/login``, Hoop's variables; stop signals reach Hoop, and Hoop's exit status is the launcher's."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from hoop_conformance.contract import CONFIG_VARIABLES
from hoop_conformance.launchers.gateway import healthy
from hoop_conformance.launchers.hoop import HOOP_VARIABLES, hoop_environment
from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.launchers.postgres import Database, DatabaseError, find_postgres, find_psql, run_sql
from hoop_conformance.launchers.servers import ServerStartError, free_port
from hoop_conformance.waiting import wait_for
from tests.launchers.conftest import DATA_DIRECTORY, LAUNCHER, Launch, launcher_argv, standin_environment
from tests.processes import descendants, still_running, wait_all_gone
from tests.suite.runs import REPO_ROOT

pytestmark = pytest.mark.integration


def databases(server: Database) -> set[str]:
    """The names of the databases on ``server``."""
    return set(run_sql(find_psql(), server.uri, "SELECT datname FROM pg_database").split())


def test_a_throwaway_database_lives_exactly_as_long_as_the_gateway(launch: Launch) -> None:
    with launch() as started:
        uri = started.report["uri"]
        assert urlsplit(uri).hostname == "127.0.0.1" and urlsplit(uri).password, uri
        assert run_sql(find_psql(), uri, "SELECT count(*) FROM standin_starts").strip() == "1"
        found = DATA_DIRECTORY.search(started.log)
        assert found, started.log
        data, workdir = Path(found.group(1)), started.workdir
        assert (data / "PG_VERSION").is_file()
    assert not workdir.exists(), "the cluster's directory outlived the gateway"
    with pytest.raises(DatabaseError, match="Connection refused"):
        run_sql(find_psql(), uri, "SELECT 1")


def test_two_starts_in_a_row_do_not_share_data(launch: Launch) -> None:
    with launch() as first:
        pass
    with launch() as second:
        pass
    assert first.report["uri"] != second.report["uri"]
    assert (first.report["rows_before"], second.report["rows_before"]) == (0, 0), "the second start saw the first's row"


def test_on_a_given_server_each_start_gets_a_fresh_database_dropped_afterwards(
    launch: Launch, postgres_server: Database
) -> None:
    before = databases(postgres_server)
    with launch("--hoop-database-url", postgres_server.uri) as first:
        name = urlsplit(first.report["uri"]).path.lstrip("/")
        assert databases(postgres_server) == before | {name}
        assert urlsplit(first.report["uri"]).query == "sslmode=disable", "the given URL's query is kept"
    assert databases(postgres_server) == before
    with launch(env={"HOOP_DATABASE_URL": postgres_server.uri}) as second:  # the URL from the environment
        assert second.report["rows_before"] == 0, "the second start saw the first's row"
    assert databases(postgres_server) == before


def test_the_stand_in_web_app_hands_off_from_login_to_api_login(launch: Launch) -> None:
    """Its text only; that the page starts a login a browser completes is LOGIN-10's (``test_with_the_suite``)."""
    with launch() as started:
        page = httpx.get(started.url + "/login", trust_env=False)
        script = httpx.get(started.url + "/js/app.js", trust_env=False)
        webapp = Path(started.report["static_ui"])
        assert (webapp / "index.origin.html").is_file(), "Hoop rewrites its web app at start: a writable copy"
    assert page.status_code == 200 and '<script src="/js/app.js' in page.text
    assert script.status_code == 200
    assert '"/api/login?redirect=" + encodeURIComponent(landing)' in script.text
    assert 'window.location.origin + "/callback"' in script.text
    assert not webapp.exists(), "the stand-in web app outlived the gateway"


def test_a_given_web_app_is_what_hoop_gets(launch: Launch, tmp_path: Path) -> None:
    given = tmp_path / "ui"
    given.mkdir()
    (given / "index.html").write_text("<!doctype html><title>a Hoop build</title>")
    with launch("--static-ui", str(given)) as by_option:
        assert "a Hoop build" in httpx.get(by_option.url + "/login", trust_env=False).text
    with launch(env={"STATIC_UI_PATH": str(given)}) as by_variable:
        pass
    assert by_option.report["static_ui"] == by_variable.report["static_ui"] == str(given)


def test_every_contract_variable_reaches_hoop_under_its_name() -> None:
    assert {v.contract for v in HOOP_VARIABLES if v.contract} == set(CONFIG_VARIABLES)
    caller = {name: f"value of {name}" for name in CONFIG_VARIABLES} | {
        "POSTGRES_DB_URI": "postgres://someone:else@db/elsewhere",
        "MIGRATION_PATH_FILES": "/opt/hoop/migrations",
    }
    env = hoop_environment(caller, database_uri="postgres://u:p@127.0.0.1:1/hoop", static_ui=Path("/ui"))
    assert {v.hoop: env[v.hoop] for v in HOOP_VARIABLES if v.contract} == {
        v.hoop: f"value of {v.contract}" for v in HOOP_VARIABLES if v.contract
    }
    assert env["POSTGRES_DB_URI"] == "postgres://u:p@127.0.0.1:1/hoop" and env["STATIC_UI_PATH"] == "/ui"
    assert env["MIGRATION_PATH_FILES"] == "/opt/hoop/migrations", "Hoop's other variables pass unchanged"
    admin = {"HOOP_DATABASE_URL": "postgres://admin:secret@db/postgres"}
    env = hoop_environment(admin, database_uri="postgres://u:p@h/d", static_ui=Path("/"))
    assert "HOOP_DATABASE_URL" not in env, "the server's admin URL is the launcher's alone"


def test_a_stand_in_that_exits_at_once_is_a_start_error_with_its_log(launch: Launch) -> None:
    with pytest.raises(ServerStartError) as raised, launch(env={"STANDIN_EXIT": "3"}):
        pass
    message = str(raised.value)
    assert "exited with status 3 before it was ready" in message, message
    assert "standin-hoop: exiting at once with status 3" in message, "the stand-in's own line, from the log's tail"
    assert "exited with status 3 (not asked to stop)" in message, message


def contract_environment(tmp_path: Path, port: int, idp: RunningMockIdp | None = None, **extra: str) -> dict[str, str]:
    """The launcher's environment as the suite gives it: with an app of its own at ``idp``, else no IdP at all (for
    what ends before the gateway needs one)."""
    env = {
        **os.environ,
        **standin_environment(tmp_path / "standin.jsonl"),
        "PYTHONPATH": str(REPO_ROOT),
        "API_URL": f"http://127.0.0.1:{port}",
        "PORT": str(port),
    }
    if idp is not None:
        app = idp.control.create_app(redirect_uris=[f"http://127.0.0.1:{port}/api/callback"])
        env |= {"IDP_ISSUER": idp.issuer, "IDP_CLIENT_ID": app["client_id"], "IDP_CLIENT_SECRET": app["client_secret"]}
    return env | extra


def test_hoops_exit_status_is_the_launchers_and_its_database_is_removed(tmp_path: Path) -> None:
    done = subprocess.run(
        launcher_argv(),
        env=contract_environment(tmp_path, free_port(), STANDIN_EXIT="7"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 7, done.stderr
    found = DATA_DIRECTORY.search(done.stderr)
    assert found and not Path(found.group(1)).exists(), done.stderr


def _healthy_or_dead(process: subprocess.Popen[bytes], port: int) -> bool:
    assert process.poll() is None, f"the launcher exited with status {process.returncode}"
    try:
        return healthy(f"http://127.0.0.1:{port}")
    except httpx.HTTPError:
        return False


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_stop_signal_reaches_hoop_and_everything_is_cleaned_up(
    mock_idp: RunningMockIdp, tmp_path: Path, stop: signal.Signals
) -> None:
    """The signal goes to the launcher alone (not to its group, as a supervisor may send it): Hoop, in a group of
    its own, gets it from the launcher and stops (status 0, the launcher's too); its database goes."""
    port = free_port()
    log = tmp_path / "launcher.log"
    with open(log, "wb") as output:
        launcher = subprocess.Popen(
            launcher_argv(), env=contract_environment(tmp_path, port, mock_idp), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: _healthy_or_dead(launcher, port), timeout=60, message="the launched stand-in healthy")
        family = descendants(launcher.pid)
        standin = [p for p in family if "standin_hoop.py" in p.command]
        assert standin and any(p.command.startswith(str(find_postgres()("postgres"))) for p in family), family
        assert {p.pgid for p in standin} == {standin[0].pid}, "Hoop leads a process group of its own"
        launcher.send_signal(stop)
        assert launcher.wait(timeout=30) == 0, log.read_text()
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    wait_all_gone(family)
    found = DATA_DIRECTORY.search(log.read_text())
    assert found and not Path(found.group(1)).exists(), log.read_text()


def test_killed_outright_it_leaves_no_server_and_the_next_start_removes_its_files(launch: Launch) -> None:
    """SIGKILL to the launcher: Hoop and PostgreSQL die with it (the parent-death signal); its directory, which it
    could not remove, goes at the next launcher's start."""
    with launch() as started:
        family = descendants(started.process.pid)
        standin = next(p for p in family if "standin_hoop.py" in p.command)
        servers = [p for p in family if p.ppid in (started.process.pid, standin.pid) or "postgres" in p.command]
        behind = [p for p in family if p.ppid == standin.pid]  # the stand-in's reference gateway (Hoop has none)
        assert any(p.command.startswith(str(find_postgres()("postgres"))) for p in servers), family
        workdir = started.workdir
        os.kill(started.process.pid, signal.SIGKILL)
        try:
            wait_all_gone([p for p in servers if p not in behind])
        finally:
            for orphan in still_running(behind):  # killed with the stand-in, it could not stop its child
                os.kill(orphan.pid, signal.SIGKILL)
        assert workdir.exists()
    with launch():
        pass
    assert not workdir.exists(), "the next start did not remove a dead launcher's directory"


def test_a_stop_signal_before_hoop_starts_unwinds_the_setup(tmp_path: Path) -> None:
    """SIGTERM while the database is being made (here: a server that never answers): the launcher ends its client,
    removes its directory, starts no Hoop and exits 128+15."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgres://hoop:secret@127.0.0.1:{silent.getsockname()[1]}/postgres"
        log = tmp_path / "launcher.log"
        with open(log, "wb") as output:
            launcher = subprocess.Popen(
                [*launcher_argv(), "--hoop-database-url", url],
                env=contract_environment(tmp_path, free_port()),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            clients = wait_for(
                lambda: [p for p in descendants(launcher.pid) if "psql" in p.command],
                timeout=30,
                message="the launcher's psql waiting for the server",
            )
            launcher.send_signal(signal.SIGTERM)
            assert launcher.wait(timeout=30) == 128 + signal.SIGTERM, log.read_text()
        finally:
            if launcher.poll() is None:
                launcher.kill()
                launcher.wait()
    assert log.read_text().strip().splitlines()[-1] == "hoop-launcher: stopped by SIGTERM before Hoop started"
    assert not still_running(clients)
    assert not list(Path(tempfile.gettempdir()).glob(f"hoop-launcher-{launcher.pid}-*"))
    assert not (tmp_path / "standin.jsonl").exists(), "Hoop was started"


def test_a_hoop_that_ignores_sigterm_is_killed_after_the_stop_timeout(tmp_path: Path) -> None:
    stubborn = tmp_path / "stubborn-hoop"
    stubborn.write_text("#!/bin/sh\ntrap '' TERM INT\nexec sleep 600\n")
    stubborn.chmod(0o755)
    argv = [*LAUNCHER, "--hoop-bin", str(stubborn), "--hoop-stop-timeout", "1"]
    log = tmp_path / "launcher.log"
    with open(log, "wb") as output:
        launcher = subprocess.Popen(
            argv, env=contract_environment(tmp_path, free_port()), stdout=output, stderr=subprocess.STDOUT
        )
    try:
        started = wait_for(
            lambda: [p for p in descendants(launcher.pid) if p.command == "sleep 600"],
            timeout=60,
            message="the stubborn Hoop running",
        )
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(timeout=30) == 128 + signal.SIGKILL, log.read_text()
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
    assert "Hoop did not stop within 1 s: SIGKILL" in log.read_text()
    assert not still_running(started)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--hoop-bin", "/nowhere/hoop"], "--hoop-bin /nowhere/hoop is not an executable file"),
        (["--hoop-database-url", "postgres://nopassword@127.0.0.1/db"], "needs a user and a password"),
        (["--hoop-database-url", "mysql://u:p@127.0.0.1/db"], "must be a postgres://"),
        (["--static-ui", "/"], "the web app / has no index.html"),
        (["--hoop-stop-timeout", "0"], "must be positive"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_bad_usage_is_one_line_and_status_2(options: list[str], expected: str) -> None:
    argv = [*launcher_argv(), *options] if options[0] != "--hoop-bin" else [*launcher_argv()[:3], *options]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and expected in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
