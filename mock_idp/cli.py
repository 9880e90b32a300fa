"""``python -m mock_idp``: run the mock JumpCloud for a local gateway, or for a test run."""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from typing import Any, NoReturn

from mock_idp.errors import SettingsError
from mock_idp.server import serve, write_ready_file
from mock_idp.settings import (
    AUTH_METHODS,
    DEFAULT_GROUPS_CLAIM,
    DEFAULT_REDIRECT_URIS,
    TOKEN_FORMATS,
    AppSettings,
    MockIdpSettings,
    SeedUser,
)

DEFAULT_USER = "dev@example.com"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2), like settings errors."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    """The command line."""
    cli = OneLineParser(
        prog="mock-idp",
        description="A mock JumpCloud OIDC provider (with JumpCloud's admin API and a control API for tests).",
        epilog="Defaults suit a local Hoop gateway on port 8009: point IDP_ISSUER, IDP_CLIENT_ID and "
        "IDP_CLIENT_SECRET at what this prints.",
    )
    server = cli.add_argument_group("server")
    server.add_argument("--host", help="address to listen on (default 127.0.0.1, or the settings file's)")
    server.add_argument("--port", type=int, help="port; 0 picks a free one (default 8090, or the settings file's)")
    server.add_argument(
        "--issuer", help="issuer URL; {port} in it becomes the port (default http://HOST:PORT/, trailing slash)"
    )
    server.add_argument("--admin-key", help="x-api-key for the admin and control APIs (default: random)")
    server.add_argument("--config", type=Path, help="settings file (.toml or .json); replaces the app and user flags")
    server.add_argument(
        "--ready-file", type=Path, help="write the issuer, apps and keys as JSON here once listening (for launchers)"
    )
    app = cli.add_argument_group("app (one; more through --config or the control API)")
    app.add_argument("--client-id", help="OAuth client id (default: a random UUID)")
    app.add_argument("--client-secret", help="client secret (default: random)")
    app.add_argument(
        "--redirect-uri",
        action="append",
        help=f"registered redirect URI, repeatable (default {' '.join(DEFAULT_REDIRECT_URIS)})",
    )
    app.add_argument(
        "--auth-method",
        choices=AUTH_METHODS,
        default="client_secret_basic",
        help="the app's one client authentication method",
    )
    app.add_argument(
        "--refresh-tokens", action="store_true", help="enable the refresh_token grant (with offline_access)"
    )
    app.add_argument(
        "--access-token-format", choices=TOKEN_FORMATS, default="opaque", help="opaque (JumpCloud's default) or jwt"
    )
    app.add_argument(
        "--groups-claim", default=DEFAULT_GROUPS_CLAIM, help="name of the groups claim (default %(default)s)"
    )
    app.add_argument("--login-url", default="http://localhost:8009/login", help="the app's Login URL (portal tile)")
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
        raise SettingsError(f"--user {spec!r}: expected EMAIL[:PASSWORD[:GROUP,...]]")
    return SeedUser(
        email=email,
        password=password or secrets.token_urlsafe(12),
        groups=tuple(g for g in groups.split(",") if g) if groups else ("admin",),
    )


def settings_from(args: argparse.Namespace) -> MockIdpSettings:
    """Settings from the parsed flags (or the settings file they name)."""
    given = {"host": args.host, "port": args.port, "issuer": args.issuer, "admin_key": args.admin_key}
    common: dict[str, Any] = {name: value for name, value in given.items() if value is not None}
    if args.config:
        base = MockIdpSettings.from_file(args.config).to_dict()
        return MockIdpSettings.from_dict({**base, **common})
    app_fields: dict[str, Any] = {
        "redirect_uris": tuple(args.redirect_uri or DEFAULT_REDIRECT_URIS),
        "auth_method": args.auth_method,
        "grant_types": ("authorization_code", "refresh_token") if args.refresh_tokens else ("authorization_code",),
        "access_token_format": args.access_token_format,
        "groups_claim": args.groups_claim or None,
        "login_url": args.login_url,
    }
    if args.client_id:
        app_fields["client_id"] = args.client_id
    if args.client_secret:
        app_fields["client_secret"] = args.client_secret
    users = tuple(parse_user(spec) for spec in (args.user or [DEFAULT_USER]))
    return MockIdpSettings(**common, apps=(AppSettings(**app_fields),), users=users)


def banner(info: dict[str, Any], *, show_secrets: bool) -> str:
    """The human summary printed at start; secrets only when a person runs it without a ready file."""

    def secret(value: str | None) -> str:
        return (value or "(none: public client)") if show_secrets else "(in the ready file)"

    lines = ["Mock JumpCloud is listening.", f"  issuer         {info['issuer']}"]
    for app in info["apps"]:
        lines += [
            f"  client id      {app['client_id']}",
            f"  client secret  {secret(app['client_secret'])}",
            f"  redirect URIs  {' '.join(app['redirect_uris'])}",
        ]
    lines.append(f"  admin key      {secret(info['admin_key'])}  (x-api-key; admin API {info['admin_url']})")
    for user in info["users"]:
        lines.append(
            f"  user           {user['email']} / {secret(user['password'])}  groups: {', '.join(user['groups'])}"
        )
    if show_secrets and info["apps"]:
        app = info["apps"][0]
        lines += [
            "Point a local Hoop gateway at it with:",
            f"  export IDP_ISSUER={info['issuer']} IDP_CLIENT_ID={app['client_id']}",
            f"  export IDP_CLIENT_SECRET={app['client_secret']}",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the mock until interrupted; a bad option or setting is one line on stderr and exit status 2."""
    args = parser().parse_args(argv)
    try:
        settings = settings_from(args)

        def announce(info: dict[str, Any]) -> None:
            if args.ready_file:
                write_ready_file(args.ready_file, info)
            print(banner(info, show_secrets=args.ready_file is None), flush=True)

        serve(settings, announce)
    except SettingsError as error:
        print(f"mock-idp: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0
