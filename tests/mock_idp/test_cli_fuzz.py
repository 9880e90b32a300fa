"""Generated bad input for the mock's settings loaders and command line: one clear error, never a traceback.

In-process and bounded: each loader either gives settings the mock can start with, or raises
``SettingsError`` (the CLI prints it as one line, exit status 2); argparse's own usage errors exit 2.
Anything else would reach the user as a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mock_idp.cli import banner, configure, error_line
from mock_idp.errors import SettingsError
from mock_idp.fieldtypes import check_fields
from mock_idp.provider import Provider
from mock_idp.server import describe
from mock_idp.settings import AppSettings, MockIdpSettings, SeedUser

BOUNDED = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
"""Any code point, lone surrogates (undecodable bytes in argv or a file name) and NUL included."""
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT
JSON_VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(ANY_TEXT, inner, max_size=3), max_leaves=6
)
GOOD = st.sampled_from(
    [
        "client_secret_basic",
        "client_secret_post",
        "none",
        "jwt",
        "opaque",
        "http://127.0.0.1:8009/api/callback",
        ["http://127.0.0.1:8009/api/callback"],
        ["authorization_code", "refresh_token"],
        ["admin", "dev"],
        "ann@example.test",
        "JBSWY3DPEHPK3PXP",
        "s3cret",
        3600,
        0,
        8090,
        65536,
        "http://127.0.0.1:{port}/",
        "",
        [],
    ]
)
VALUES = JSON_VALUES | GOOD


def tables(names: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Tables whose keys are mostly real field names, a few not."""
    return st.dictionaries(st.sampled_from([*names, "bogus"]) | ANY_TEXT, VALUES, max_size=6)


APP_FIELDS = [f.name for f in fields(AppSettings)]
USER_FIELDS = [f.name for f in fields(SeedUser)]
TOP_FIELDS = [f.name for f in fields(MockIdpSettings) if f.name not in ("apps", "users")]
SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        **{name: VALUES for name in TOP_FIELDS},
        "apps": st.lists(tables(APP_FIELDS), max_size=3) | JSON_VALUES,
        "users": st.lists(tables(USER_FIELDS) | st.just({"email": "ann@example.test", "password": "p"}), max_size=3)
        | JSON_VALUES,
    },
)


def assert_startable(loaded: MockIdpSettings) -> None:
    """Settings that loaded are well typed, the mock starts with them (its users seeded), and the banner and
    the ready file can be written."""
    check_fields(loaded)
    for part in (*loaded.apps, *loaded.users):
        check_fields(part)
    issuer = loaded.issuer_for(8090)
    Provider(replace(loaded, key_count=1), issuer)
    info = describe(loaded, issuer, 8090)
    banner(info, loaded, show_secrets=True, generated=("admin key",)).encode("utf-8")
    json.dumps(info).encode("utf-8")


@BOUNDED
@given(SETTINGS)
def test_settings_tables(data: dict[str, Any]) -> None:
    try:
        loaded = MockIdpSettings.from_dict(data)
    except SettingsError as error:
        assert "\n" not in error_line(error), "one line"
        return
    assert_startable(loaded)


CONTENT = (
    st.binary(max_size=200)
    | SETTINGS.map(lambda data: json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    | SETTINGS.map(lambda data: json.dumps(data).encode("utf-16"))
    | st.sampled_from(
        [
            b'port = "8090"\n',
            b'[[apps]]\nredirect_uris = "http://x/cb"\n',
            b'[[users]]\nemail = "a@b.c"\npassword = "p"\n[[users]]\nemail = "A@B.C"\npassword = "q"\n',
            "name = 'caf\u00e9'\n".encode("latin-1"),
            b"[" * 5000,
            b"\xef\xbb\xbfport = 1\n",
        ]
    )
)


@BOUNDED
@given(content=CONTENT, suffix=st.sampled_from([".toml", ".json", ".yaml", ""]))
def test_settings_files(content: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"settings{suffix}"
        path.write_bytes(content)
        try:
            loaded = MockIdpSettings.from_file(path)
        except SettingsError as error:
            assert "\n" not in error_line(error)
            return
    assert_startable(loaded)


def unreadable_paths(folder: Path) -> list[Path]:
    """Paths a settings file or a ready file cannot be at."""
    (folder / "a-file").write_text("x")
    (folder / "a-dir.toml").mkdir()
    return [
        folder / "missing.toml",
        folder / "a-dir.toml",
        folder / "a-file" / "below.toml",
        folder / ("x" * 300 + ".toml"),
        Path(str(folder) + "/nul\0.toml"),
        Path(str(folder) + "/undecodable-\udcff.toml"),
    ]


def test_unreadable_settings_files() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for path in unreadable_paths(Path(folder)):
            try:
                MockIdpSettings.from_file(path)
            except SettingsError as error:
                assert "cannot read" in str(error) or "settings file" in str(error)
            else:
                raise AssertionError(f"{path} loaded")


FLAGS = st.sampled_from(
    [
        "--host",
        "--port",
        "--issuer",
        "--admin-key",
        "--config",
        "--ready-file",
        "--client-id",
        "--client-secret",
        "--redirect-uri",
        "--auth-method",
        "--refresh-tokens",
        "--access-token-format",
        "--groups-claim",
        "--login-url",
        "--user",
    ]
)
ARG_VALUES = ANY_TEXT | st.sampled_from(
    [
        "0",
        "-1",
        "99999",
        "none",
        "jwt",
        "notaurl",
        "http://127.0.0.1:8009/api/callback",
        "a@b.c:pw:admin",
        "A@B.C",
        "a@b.c::",
        ":::",
        "examples/mock-idp.toml",
        "/nonexistent/ready.json",
        "/",
        ".",
        "x\0y",
        "\udcff",
    ]
)
ARGV = st.lists(FLAGS | ARG_VALUES, max_size=8)


@BOUNDED
@given(ARGV)
def test_command_lines(argv: list[str]) -> None:
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            config = configure(argv)
    except SettingsError as error:
        assert "\n" not in error_line(error)
        return
    except SystemExit as exit:
        assert exit.code in (0, 2), exit.code  # --help (or an abbreviation of it), or a usage error
        assert "Traceback" not in stderr.getvalue()
        return
    assert_startable(config.settings)
    if config.ready_file is not None:
        assert config.ready_file.parent.is_dir() and not config.ready_file.is_dir()
        assert os.access(config.ready_file.parent, os.W_OK)
