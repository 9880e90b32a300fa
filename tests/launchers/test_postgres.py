"""PostgreSQL for a gateway start: found on the machine (else one line saying what to install), a throwaway cluster
that only a client with its password reaches on loopback, a fresh database on a given server, dropped afterwards."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from hoop_conformance.launchers import hoop, postgres
from hoop_conformance.launchers.postgres import (
    INSTALL_HINT,
    Database,
    DatabaseError,
    PostgresNotFound,
    client_environment,
    cluster_account,
    find_postgres,
    find_psql,
    fresh_database,
    run_sql,
    without_password,
)
from tests.launchers.conftest import STANDIN

pytestmark = pytest.mark.integration

PROGRAMS = ("initdb", "postgres", "psql")


def fake_bindir(directory: Path, programs: tuple[str, ...] = PROGRAMS) -> Path:
    directory.mkdir(parents=True)
    for program in programs:
        (directory / program).write_text("#!/bin/sh\n")
        (directory / program).chmod(0o755)
    return directory


def test_the_newest_debian_postgresql_is_found(tmp_path: Path) -> None:
    for version in ("9.6", "15", "16"):
        fake_bindir(tmp_path / "lib" / version / "bin")
    fake_bindir(tmp_path / "lib" / "17" / "bin", ("initdb", "postgres"))  # no psql: not a whole installation
    found = find_postgres(search_path=str(tmp_path / "empty"), debian_bindirs=str(tmp_path / "lib" / "*" / "bin"))
    assert found.bindir == tmp_path / "lib" / "16" / "bin"


def test_initdb_on_path_wins_and_its_link_is_followed(tmp_path: Path) -> None:
    chosen = fake_bindir(tmp_path / "opt" / "pg" / "bin")
    fake_bindir(tmp_path / "lib" / "16" / "bin")
    (tmp_path / "local-bin").mkdir()
    (tmp_path / "local-bin" / "initdb").symlink_to(chosen / "initdb")  # as /usr/local/bin/initdb here
    found = find_postgres(search_path=str(tmp_path / "local-bin"), debian_bindirs=str(tmp_path / "lib" / "*" / "bin"))
    assert found.bindir == chosen and found("psql") == str(chosen / "psql")


def test_no_postgresql_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotFound) as raised:
        find_postgres(search_path=str(tmp_path), debian_bindirs=str(tmp_path / "*" / "bin"))
    assert str(raised.value) == INSTALL_HINT and "apt-get install postgresql" in INSTALL_HINT


def test_the_launcher_without_postgresql_is_one_line_and_status_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres, "DEBIAN_BINDIRS", str(tmp_path / "*" / "bin"))
    assert hoop.main(["--hoop-bin", str(STANDIN)]) == hoop.EXIT_DATABASE
    assert capsys.readouterr().err == f"hoop-launcher: {INSTALL_HINT}\n"


def test_a_password_stays_out_of_logs_and_command_lines() -> None:
    uri = "postgres://hoop:s%40cret@127.0.0.1:5432/hoop?sslmode=disable"
    assert without_password(uri) == "postgres://hoop@127.0.0.1:5432/hoop?sslmode=disable"
    env = client_environment(uri, {"PGHOST": "elsewhere", "PGPASSWORD": "old", "HOME": "/root"})
    assert env["PGPASSWORD"] == "s@cret" and "PGHOST" not in env and env["HOME"] == "/root"


def test_a_throwaway_cluster_lets_in_only_its_password_and_only_on_loopback(postgres_server: Database) -> None:
    psql = find_psql()
    settings = run_sql(
        psql,
        postgres_server.uri,
        "SELECT current_setting('listen_addresses') || '|' || current_setting('unix_socket_directories') || '|' || "
        "current_setting('password_encryption') || '|' || current_setting('data_directory')",
    ).strip()
    listen, sockets, encryption, data = settings.split("|")
    assert (listen, sockets, encryption) == ("127.0.0.1", "", "scram-sha-256")
    account = cluster_account()
    assert Path(data).stat().st_uid == (os.geteuid() if account is None else account.pw_uid)
    if os.geteuid() == 0:
        assert account is not None and account.pw_name in ("postgres", "nobody"), "initdb refuses root"
    parts = urlsplit(postgres_server.uri)
    wrong = urlunsplit(parts._replace(netloc=f"{parts.username}:wrong@{parts.hostname}:{parts.port}"))
    with pytest.raises(DatabaseError, match="password authentication failed"):
        run_sql(psql, wrong, "SELECT 1")


def test_a_fresh_database_is_dropped_even_when_the_block_fails(postgres_server: Database) -> None:
    psql = find_psql()
    with pytest.raises(RuntimeError, match="the gateway failed"), fresh_database(postgres_server.uri) as fresh:
        name = urlsplit(fresh.uri).path.lstrip("/")
        assert run_sql(psql, fresh.uri, "SELECT current_database()").strip() == name
        password = urlsplit(fresh.uri).password
        assert password and password not in fresh.where
        raise RuntimeError("the gateway failed")
    assert name not in run_sql(psql, postgres_server.uri, "SELECT datname FROM pg_database").split()
