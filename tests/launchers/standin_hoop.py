#!/usr/bin/env python3
"""A stand-in for Hoop's binary (``--hoop-bin``): ``standin_hoop.py start gateway``, as the launcher runs Hoop.

It checks the environment Hoop would read, uses the database of ``POSTGRES_DB_URI`` with a real PostgreSQL client
(``psql``): creates a table if missing, counts its rows, adds one; rewrites ``STATIC_UI_PATH`` as Hoop does
(``index.origin.html``); then serves like Hoop on 127.0.0.1:$PORT until SIGTERM or SIGINT: ``/api/*`` from the
reference gateway (run behind it), every other path a file of ``STATIC_UI_PATH``, else its ``index.html``.

Run by ``python3`` on ``PATH`` (the project's environment's, with the repository on ``PYTHONPATH``, as the suite's
gateway environment has it). For the tests:

- ``STANDIN_REPORT=FILE``: one JSON line per start: its pid, ``POSTGRES_DB_URI``, the rows it found, the web app.
- ``STANDIN_EXIT=N``: print one line and exit with status N at once, before anything else.

Exit status: 0 stopped, 1 the reference gateway would not start, 2 a bad environment or command line.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from starlette.responses import FileResponse
from starlette.types import Receive, Scope, Send

from tests.suite.standins.fronting import run_in_front_of_reference_gateway
from tests.suite.standins.proxy import CallbackRefusingProxy, upstream_client
from tests.suite.standins.serving import serve

NAME = "standin-hoop"
REQUIRED = ("API_URL", "PORT", "IDP_ISSUER", "IDP_CLIENT_ID", "IDP_CLIENT_SECRET", "POSTGRES_DB_URI", "STATIC_UI_PATH")


def say(message: str) -> None:
    print(f"{NAME}: {message}", file=sys.stderr, flush=True)


def environment_problems(environ: Mapping[str, str]) -> list[str]:
    """What Hoop would refuse in ``environ``."""
    problems = [f"{name} is not set" for name in REQUIRED if not environ.get(name)]
    uri = urlsplit(environ.get("POSTGRES_DB_URI", ""))
    if environ.get("POSTGRES_DB_URI") and not (uri.username and uri.password):
        problems.append("POSTGRES_DB_URI has no user or no password")
    static = Path(environ.get("STATIC_UI_PATH") or "/nonexistent")
    if environ.get("STATIC_UI_PATH") and not (static / "index.html").is_file():
        problems.append(f"STATIC_UI_PATH {static} has no index.html")
    return problems


class DatabaseError(Exception):
    """psql failed; the message is its last line."""


def psql(uri: str, sql: str) -> str:
    """Run ``sql`` on ``uri`` with PostgreSQL's own client (the password through ``PGPASSWORD``); its output."""
    client = shutil.which("psql") or max(glob.glob("/usr/lib/postgresql/*/bin/psql"), default="psql")
    parts = urlsplit(uri)
    conninfo = urlunsplit(parts._replace(netloc=f"{parts.username}@{parts.netloc.rpartition('@')[2]}"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["PGPASSWORD"] = unquote(parts.password or "")
    done = subprocess.run(
        [client, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        raise DatabaseError((done.stderr.strip().splitlines() or [f"psql: status {done.returncode}"])[-1])
    return done.stdout


def use_database(uri: str) -> int:
    """Create the stand-in's table if missing, count its rows, add one; the count before."""
    psql(uri, "CREATE TABLE IF NOT EXISTS standin_starts (pid integer)")
    before = int(psql(uri, "SELECT count(*) FROM standin_starts").strip())
    psql(uri, f"INSERT INTO standin_starts VALUES ({os.getpid()})")
    return before


def rewrite_web_app(static: Path) -> None:
    """As Hoop does at start: keep ``index.origin.html`` beside ``index.html`` (the directory must be writable)."""
    origin = static / "index.origin.html"
    if not origin.exists():
        shutil.copyfile(static / "index.html", origin)


class HoopLikeFront:
    """Hoop's routing: ``/api`` and below to the gateway behind; any other path a file of the web app, else its
    ``index.html``."""

    def __init__(self, api: CallbackRefusingProxy, static: Path) -> None:
        self._api = api
        self._static = static.resolve()

    def _file(self, path: str) -> Path:
        wanted = (self._static / path.lstrip("/")).resolve()
        if wanted.is_relative_to(self._static):
            if wanted.is_file():
                return wanted
            if (wanted / "index.html").is_file():
                return wanted / "index.html"
        return self._static / "index.html"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path == "/api" or path.startswith("/api/"):
            await self._api(scope, receive, send)
            return
        await FileResponse(self._file(path))(scope, receive, send)


def main(argv: list[str]) -> int:
    """Check, use the database, serve until stopped."""
    if "STANDIN_EXIT" in os.environ:
        say(f"exiting at once with status {os.environ['STANDIN_EXIT']} (STANDIN_EXIT)")
        return int(os.environ["STANDIN_EXIT"])
    if argv != ["start", "gateway"]:
        say(f"usage: {NAME} start gateway (got {argv})")
        return 2
    problems = environment_problems(os.environ)
    if problems:
        say("; ".join(problems))
        return 2
    uri, static = os.environ["POSTGRES_DB_URI"], Path(os.environ["STATIC_UI_PATH"])
    try:
        rows = use_database(uri)
    except DatabaseError as error:
        say(str(error))
        return 2
    rewrite_web_app(static)
    say(f"database {urlsplit(uri).path.lstrip('/')} had {rows} rows; web app {static}")
    if os.environ.get("STANDIN_REPORT"):
        line = {"pid": os.getpid(), "uri": uri, "rows_before": rows, "static_ui": str(static)}
        with open(os.environ["STANDIN_REPORT"], "a") as report:
            print(json.dumps(line), file=report)

    async def serve_front(port: int, upstream_url: str, api_url: str) -> None:
        async with upstream_client() as upstream:
            api = CallbackRefusingProxy(upstream, upstream_url, api_url, passes=sys.maxsize)  # forwards every callback
            await serve(HoopLikeFront(api, static), port)

    return run_in_front_of_reference_gateway(NAME, serve_front)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
