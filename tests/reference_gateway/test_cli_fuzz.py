"""Generated bad input for the reference gateway's configuration and command line: never a traceback.

In-process and bounded: the environment loader gives settings or ``ConfigError`` (one line, exit status
2), the database check accepts a usable SQLite file or raises ``ConfigError``, and argparse exits 0 or 2.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference_gateway.cli import VARIABLES, _parser, check_database
from reference_gateway.errors import ConfigError
from reference_gateway.settings import load_settings

BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=16)
"""Any code point: lone surrogates are what undecodable bytes in the environment become."""
GOOD = {
    "API_URL": "http://127.0.0.1:8009",
    "IDP_ISSUER": "http://127.0.0.1:8090/",
    "IDP_CLIENT_ID": "client",
    "IDP_CLIENT_SECRET": "secret",
}
SAMPLES = st.sampled_from(
    ["", " ", "0", "65536", "8009", "-1", "1e9", "nan", "inf", "force", "http://[::1", "http://h:99999/", "a,b c"]
)
ENVIRONMENTS = st.dictionaries(st.sampled_from([*VARIABLES, "IDP_URI"]), ANY_TEXT | SAMPLES, max_size=8).map(
    lambda changes: GOOD | changes
)


@BOUNDED
@given(ENVIRONMENTS)
def test_environments(env: dict[str, str]) -> None:
    try:
        loaded = load_settings(env)
    except ConfigError as error:
        assert str(error), "the error names the variable"
        return
    assert 1 <= loaded.port <= 65535
    assert loaded.idp_timeout > 0 and loaded.state_ttl >= 0


ARGV = st.lists(st.sampled_from(["--list-mutants", "--json", "--port", "--help", "-h", "--"]) | ANY_TEXT, max_size=5)


@BOUNDED
@given(ARGV)
def test_command_lines(argv: list[str]) -> None:
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            _parser().parse(argv)
    except SystemExit as exit:
        assert exit.code in (0, 2)
        if exit.code == 2:
            assert len(stderr.getvalue().strip().splitlines()) == 1, stderr.getvalue()


CONTENT = st.binary(max_size=300) | st.sampled_from([b"SQLite format 3\x00" + b"\x00" * 200, b"", b"\x00" * 4096])


@BOUNDED
@given(CONTENT)
def test_database_files(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gateway.sqlite3"
        path.write_bytes(content)
        try:
            check_database(str(path))
        except ConfigError as error:
            assert str(path) in str(error)
            return
        with contextlib.closing(sqlite3.connect(path)) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"users", "login_states", "tokens"} <= tables


def test_database_paths() -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "a-file").write_text("x")
        (base / "a-dir").mkdir()
        for name in ("missing/db", "a-dir", "a-file/below.db", "x" * 300, "nul\0.db", "undecodable-\udcff.db"):
            try:
                check_database(str(base / name))
            except ConfigError as error:
                assert "REFGW_DATABASE" in str(error)
            else:
                raise AssertionError(f"{name!r} was accepted")
