"""``python -m mock_idp``: run the mock JumpCloud for a local gateway, or for a test run."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

from mock_idp.errors import MockIdpError, SettingsError
from mock_idp.settings import (
    AUTH_METHODS,
    DEFAULT_GROUPS_CLAIM,
    DEFAULT_REDIRECT_URIS,
    TLS_MODES,
    TOKEN_FORMATS,
    AppSettings,
    MockIdpSettings,
    SeedUser,
    check_url,
    read_settings_file,
)

if TYPE_CHECKING:
    from mock_idp.server import Server

PROG = "mock-idp"
DEFAULT_USER = "dev@example.com"
DEFAULT_LOGIN_URL = "http://localhost:8009/login"
CALLBACK_PATH = "/api/callback"
"""Hoop's callback route: a redirect URI ending in it names the gateway's ``API_URL``."""
APP_FLAGS = (
    "client_id",
    "client_secret",
    "redirect_uri",
    "auth_method",
    "refresh_tokens",
    "access_token_format",
    "groups_claim",
    "login_url",
    "user",
)
TLS_FLAGS = ("tls", "tls_mode", "tls_cert", "tls_key", "tls_ca")
"""Flags that, like --host and --port, combine with --config (they override its fields)."""
EPILOG = """\
Defaults suit a local Hoop gateway on port 8009: the banner prints the exports (API_URL, IDP_ISSUER,
IDP_CLIENT_ID, IDP_CLIENT_SECRET). The client id, secret, admin key and passwords are random at each
start unless given: pass --client-id, --client-secret, --admin-key and --user EMAIL:PASSWORD, or
--config FILE (see examples/mock-idp.toml), to keep a gateway's settings across restarts.
exit status: 0 stopped (Ctrl-C or SIGTERM), 2 bad option, settings or ready file, or port in use."""


class UsageError(SettingsError):
    """A bad combination of flags."""


class Stopped(Exception):
    """SIGINT or SIGTERM asked the mock to stop."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2), like settings errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


@dataclass(frozen=True)
class Configuration:
    """What the command line asks for: the settings, where to write the ready file, what was generated."""

    settings: MockIdpSettings
    ready_file: Path | None
    generated: tuple[str, ...]
    """The values made up at random at this start (they change at the next one)."""


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = OneLineParser(
        prog=PROG,
        description="A mock JumpCloud OIDC provider (with JumpCloud's admin API and a control API for tests).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    server = cli.add_argument_group("server")
    server.add_argument("--host", help="address to listen on (default 127.0.0.1, or the settings file's)")
    server.add_argument("--port", type=int, help="port; 0 picks a free one (default 8090, or the settings file's)")
    server.add_argument(
        "--issuer",
        help="issuer URL; {port} in it becomes the port (default http://HOST:PORT/, https with --tls, trailing slash)",
    )
    server.add_argument("--admin-key", help="x-api-key for the admin and control APIs (default: random)")
    server.add_argument(
        "--config",
        type=Path,
        help="settings file (.toml or .json) with [[apps]] and [[users]]; replaces the app and user flags",
    )
    server.add_argument(
        "--ready-file", type=Path, help="write the issuer, apps and keys as JSON here once listening (for launchers)"
    )
    https = cli.add_argument_group("HTTPS (also with --config; the ready file's ca_file names the CA to trust)")
    https.add_argument(
        "--tls", action="store_true", default=None, help="serve HTTPS, with a certificate from a CA made for this run"
    )
    https.add_argument(
        "--tls-mode",
        choices=TLS_MODES,
        help="good (default); wrong-host: the CA's certificate for another name; untrusted-ca: from another CA",
    )
    https.add_argument(
        "--tls-cert", metavar="PEM", help="serve this certificate (with its chain) instead; needs --tls-key"
    )
    https.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert")
    https.add_argument("--tls-ca", metavar="PEM", help="the CA file of --tls-cert, reported as ca_file")
    app = cli.add_argument_group("app (one; more through --config or the control API)")
    app.add_argument("--client-id", help="OAuth client id (default: a random UUID)")
    app.add_argument("--client-secret", help="client secret (default: random; none with --auth-method none)")
    app.add_argument(
        "--redirect-uri",
        action="append",
        help=f"registered redirect URI, repeatable (default {' '.join(DEFAULT_REDIRECT_URIS)})",
    )
    app.add_argument(
        "--auth-method",
        choices=AUTH_METHODS,
        help="the app's one client authentication method (default client_secret_basic; none: public client + PKCE)",
    )
    app.add_argument(
        "--refresh-tokens", action="store_true", default=None, help="enable the refresh_token grant (offline_access)"
    )
    app.add_argument(
        "--access-token-format", choices=TOKEN_FORMATS, help="opaque (JumpCloud's default) or jwt (default opaque)"
    )
    app.add_argument("--groups-claim", help=f"name of the groups claim (default {DEFAULT_GROUPS_CLAIM})")
    app.add_argument("--login-url", help=f"the app's Login URL (portal tile; default {DEFAULT_LOGIN_URL})")
    users = cli.add_argument_group("users")
    users.add_argument(
        "--user",
        action="append",
        metavar="EMAIL[:PASSWORD[:GROUP,...]]",
        help=f"seed a user (repeatable); groups are bound to the app (default {DEFAULT_USER} in group admin)",
    )
    return cli


def parse_user(spec: str) -> SeedUser:
    """``email[:password[:group,group]]``; a missing password is generated."""
    email, _, rest = spec.partition(":")
    password, _, groups = rest.partition(":")
    if "@" not in email:
        raise UsageError(f"--user {spec!r}: expected EMAIL[:PASSWORD[:GROUP,...]]")
    try:
        return SeedUser(
            email=email,
            password=password or secrets.token_urlsafe(12),
            groups=tuple(g for g in groups.split(",") if g) if groups else ("admin",),
        )
    except SettingsError as error:
        raise UsageError(f"--user {spec!r}: {error}") from None


def check_ready_file(path: Path) -> None:
    """Refuse a ready file that cannot be written, before anything listens."""
    parent = path.parent
    if "\0" in str(path):
        raise UsageError(f"--ready-file {str(path)!r} is not a valid file name")
    if path.is_dir():
        raise UsageError(f"--ready-file {path} is a directory; name a file in it")
    if not parent.exists():
        raise UsageError(f"--ready-file {path}: the directory {parent} does not exist")
    if not parent.is_dir():
        raise UsageError(f"--ready-file {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"--ready-file {path}: the directory {parent} is not writable")


def configure(argv: list[str] | None = None) -> Configuration:
    """Parse and check the command line (and the settings file it names); nothing is started.

    Raises ``SettingsError`` (one line) for a bad value; usage errors exit with status 2 through argparse.
    """
    args = parser().parse_args(argv)
    if args.ready_file is not None:
        check_ready_file(args.ready_file)
    given = {
        "host": args.host,
        "port": args.port,
        "issuer": args.issuer,
        "admin_key": args.admin_key,
        **{name: getattr(args, name) for name in TLS_FLAGS},
    }
    common: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    generated: list[str] = [] if args.admin_key else ["admin key"]
    if args.config:
        flags = [f"--{name.replace('_', '-')}" for name in APP_FLAGS if getattr(args, name) is not None]
        if flags:
            raise UsageError(f"--config replaces the app and user flags: drop {', '.join(flags)} or put them in it")
        raw = read_settings_file(args.config)
        try:
            settings = MockIdpSettings.from_dict({**raw, **common})
        except SettingsError as error:
            raise SettingsError(f"{args.config}: {error}") from None
        if "admin_key" in raw:
            generated = []
        generated += [
            f"client {what} of app {i}"
            for i, app in enumerate(raw.get("apps", [{}]), 1)
            for what in ("id", "secret")
            if f"client_{what}" not in app and (what == "id" or app.get("auth_method") != "none")
        ]
        return Configuration(settings, args.ready_file, tuple(generated))
    auth_method = args.auth_method or "client_secret_basic"
    if auth_method == "none" and args.client_secret is not None:
        raise UsageError("--client-secret with --auth-method none: a public client has no secret; drop one of them")
    for uri in args.redirect_uri or ():
        check_url("--redirect-uri", uri)
    app_fields: dict[str, Any] = {
        "redirect_uris": tuple(args.redirect_uri or DEFAULT_REDIRECT_URIS),
        "auth_method": auth_method,
        "grant_types": ("authorization_code", "refresh_token") if args.refresh_tokens else ("authorization_code",),
        "access_token_format": args.access_token_format or "opaque",
        "groups_claim": DEFAULT_GROUPS_CLAIM if args.groups_claim is None else args.groups_claim or None,
        "login_url": DEFAULT_LOGIN_URL if args.login_url is None else args.login_url or None,
    }
    for name in ("client_id", "client_secret"):
        if getattr(args, name):
            app_fields[name] = getattr(args, name)
        elif name == "client_id" or auth_method != "none":
            generated.append(name.replace("_", " "))
    users = tuple(parse_user(spec) for spec in (args.user or [DEFAULT_USER]))
    generated += [f"password of {spec.split(':')[0]}" for spec in args.user or [DEFAULT_USER] if not _password(spec)]
    return Configuration(
        MockIdpSettings(**common, apps=(AppSettings(**app_fields),), users=users), args.ready_file, tuple(generated)
    )


def _password(spec: str) -> str:
    return spec.partition(":")[2].partition(":")[0]


def api_url(redirect_uris: list[str]) -> str | None:
    """The gateway's public URL: the first redirect URI ending in Hoop's callback path, without that path."""
    for uri in redirect_uris:
        if uri.endswith(CALLBACK_PATH):
            return uri[: -len(CALLBACK_PATH)]
    return None


def banner(
    info: dict[str, Any], settings: MockIdpSettings, *, show_secrets: bool, generated: tuple[str, ...] = ()
) -> str:
    """The human summary printed at start; secrets only when a person runs it without a ready file."""

    def secret(value: str | None) -> str:
        return (value or "(none: public client)") if show_secrets else "(in the ready file)"

    totp = {user.email: user.totp_secret for user in settings.users}
    lines = [
        "Mock JumpCloud is listening.",
        f"  issuer         {info['issuer']}",
        f"  user portal    {info['issuer']}userconsole",
        f"  admin API      {info['admin_url']}  (x-api-key: {secret(info['admin_key'])})",
        *_tls_lines(info),
    ]
    for app in info["apps"]:
        lines += [
            f"  app id         {app['app_id']}  (bind user groups to it: admin API v2/usergroups/ID/associations)",
            f"    client id      {app['client_id']}",
            f"    client secret  {secret(app['client_secret'])}",
            f"    redirect URIs  {' '.join(app['redirect_uris'])}",
        ]
    for user in info["users"]:
        enrolled = totp.get(user["email"])
        mfa = f"TOTP secret {secret(enrolled)}" if enrolled else "no TOTP"
        lines.append(
            f"  user           {user['email']} / {secret(user['password'])}"
            f"  groups: {', '.join(user['groups']) or '(none)'}  {mfa}"
        )
    if show_secrets and info["apps"]:
        lines += _gateway_exports(info)
    if generated:
        lines += [
            f"Random at each start: {', '.join(generated)}.",
            "  For stable values pass --client-id, --client-secret, --admin-key and --user EMAIL:PASSWORD,",
            "  or --config FILE (examples/mock-idp.toml).",
        ]
    lines.append("Stop it with Ctrl-C (or SIGTERM).")
    return "\n".join(lines)


TLS_MODE_NOTES = {
    "good": "a certificate for this host from that CA",
    "wrong-host": "a certificate from that CA for another host name: clients must refuse it",
    "untrusted-ca": "a certificate from another CA: clients given the CA file must refuse it",
}


def _tls_lines(info: dict[str, Any]) -> list[str]:
    if info["tls_mode"] is None:
        return []
    trust = info["ca_file"] or "(none given: the system's CAs)"
    return [
        f"  CA file        {trust}  (export SSL_CERT_FILE for a gateway)",
        f"    serving        {TLS_MODE_NOTES[info['tls_mode']]}",
    ]


def _gateway_exports(info: dict[str, Any]) -> list[str]:
    app = info["apps"][0]
    url = api_url(app["redirect_uris"])
    lines = ["Point a local Hoop gateway at it with:"]
    first = f"  export IDP_ISSUER={info['issuer']} IDP_CLIENT_ID={app['client_id']}"
    lines.append(first if url is None else f"  export API_URL={url} {first.strip().removeprefix('export ')}")
    if app["client_secret"] is None:
        lines.append(
            "  (a public client has no secret: Hoop needs a confidential one, e.g. --auth-method client_secret_basic)"
        )
    else:
        lines.append(f"  export IDP_CLIENT_SECRET={app['client_secret']}")
    if url is None:
        lines.append("  export API_URL=<the gateway's URL, whose /api/callback is a redirect URI above>")
    if info["ca_file"]:
        lines.append(f"  export SSL_CERT_FILE={info['ca_file']}")
    return lines


def error_line(error: Exception) -> str:
    """The one line an error is shown as: control characters in it (from a file name, a value) escaped."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(error))
    return f"{PROG}: {text}"


class StopSignals:
    """SIGINT and SIGTERM stop the mock: a running server finishes its requests, anything earlier just ends.

    The handler never raises inside the server's event loop (which would swallow the exception): once a
    server exists, it only asks it to stop. SIGINT is handled too since a launcher may have left it ignored.
    """

    def __init__(self) -> None:
        self.server: Server | None = None
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, self._handle)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.server is None:
            raise Stopped
        self.server.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the mock until SIGINT or SIGTERM (exit status 0); a bad option or setting is one line and status 2."""
    signals = StopSignals()
    try:
        config = configure(argv)
        from mock_idp.server import Server, write_ready_file  # after the checks: a bad flag needs no server

        def announce(info: dict[str, Any]) -> None:
            if config.ready_file is not None:
                write_ready_file(config.ready_file, info)
            print(banner(info, config.settings, show_secrets=config.ready_file is None, generated=config.generated))
            sys.stdout.flush()

        signals.server = Server(config.settings)
        signals.server.run(announce)
    except MockIdpError as error:
        print(error_line(error), file=sys.stderr)
        return 2
    except Stopped:
        pass
    return 0
