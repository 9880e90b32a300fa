"""The command line: check the configuration and the IdP, then serve on 127.0.0.1:$PORT."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import httpx
import uvicorn

from reference_gateway.errors import ConfigError, IdpError
from reference_gateway.mutants import MUTANTS, listing
from reference_gateway.oidc import discovery_url, failure_reason, idp_verify, parse_discovery
from reference_gateway.settings import Settings, load_settings
from reference_gateway.store import Store

PROG = "reference-gateway"
EPILOG = """\
environment (Hoop's):
  API_URL, PORT (8009), IDP_ISSUER, IDP_CLIENT_ID, IDP_CLIENT_SECRET, IDP_AUDIENCE,
  IDP_CUSTOM_SCOPES, IDP_GROUPS_CLAIM (https://app.hoop.dev/groups), ADMIN_USERNAME (admin),
  AUDITOR_USERNAME (auditor), URL_TOKEN_EXCHANGE (force)
  SSL_CERT_FILE, SSL_CERT_DIR: the CAs that may sign the IdP's certificate (default: the system's)
environment (the reference gateway's own):
  REFGW_DATABASE     SQLite file (default: in memory)
  REFGW_IDP_TIMEOUT  seconds allowed for each IdP call (default 5)
  REFGW_STATE_TTL    seconds a login state stays usable (default 600)
  REFGW_MUTANT       comma-separated mutants to switch on (see --list-mutants); never for real use
access tokens are checked at the IdP's userinfo on every API call (no cache): a revoked
token is refused at once.
exit status: 0 stopped, 1 identity provider unusable at start, 2 bad configuration or usage."""
VARIABLES = (
    "API_URL",
    "PORT",
    "IDP_ISSUER",
    "IDP_CLIENT_ID",
    "IDP_CLIENT_SECRET",
    "IDP_AUDIENCE",
    "IDP_CUSTOM_SCOPES",
    "IDP_GROUPS_CLAIM",
    "ADMIN_USERNAME",
    "AUDITOR_USERNAME",
    "URL_TOKEN_EXCHANGE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REFGW_DATABASE",
    "REFGW_IDP_TIMEOUT",
    "REFGW_STATE_TTL",
    "REFGW_MUTANT",
)


class OneLineParser(argparse.ArgumentParser):
    """Usage errors are one line on stderr with exit status 2; an option that is really a variable says so."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {printable(message)} (see --help)\n")

    def parse(self, argv: Sequence[str] | None) -> argparse.Namespace:
        """Parse ``argv``; an unknown option named like a variable (``--port``) hints at the variable."""
        args, unknown = self.parse_known_args(argv)
        if unknown:
            hints = variable_hints(unknown)
            message = f"unrecognized arguments: {' '.join(unknown)}"
            if hints:
                message += f"; the gateway is configured by environment variables: {', '.join(hints)}"
            self.error(message)
        if args.json and not args.list_mutants:
            self.error("--json goes with --list-mutants")
        return args


def printable(text: str) -> str:
    """``text`` on one line: control characters (from an argument or a variable) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def fail(error: Exception) -> None:
    """Print ``error`` as the one line of a failed start."""
    print(f"{PROG}: {printable(str(error))}", file=sys.stderr)


def variable_hints(arguments: Sequence[str]) -> list[str]:
    """``--port 8010`` → ``PORT=8010``: the variables that option-like arguments mean."""
    hints = []
    for index, argument in enumerate(arguments):
        if not argument.startswith("--"):
            continue
        name, equals, value = argument[2:].partition("=")
        wanted = name.upper().replace("-", "_")
        variable = next((v for v in VARIABLES if wanted and (v == wanted or v.endswith("_" + wanted))), None)
        if variable is None:
            continue
        following = arguments[index + 1] if index + 1 < len(arguments) else "--"
        if not equals:
            value = "..." if following.startswith("--") else following
        hints.append(f"{variable}={value}")
    return hints


def check_database(database: str) -> None:
    """Open (and set up) the SQLite database ``REFGW_DATABASE`` names; ``ConfigError`` if it cannot be used."""
    if database == ":memory:":
        return
    path = Path(database)
    try:
        database.encode("utf-8")
        if path.is_dir():
            raise ConfigError(f"REFGW_DATABASE {database} is a directory, not an SQLite file")
        if not path.parent.is_dir():
            raise ConfigError(f"REFGW_DATABASE {database}: the directory {path.parent} does not exist")
        Store(database).close()
    except sqlite3.DatabaseError as error:
        raise ConfigError(f"REFGW_DATABASE {database} is not a usable SQLite database: {error}") from None
    except (OSError, ValueError) as error:  # a name too long, with a NUL, or not text
        reason = error.strerror if isinstance(error, OSError) and error.strerror else "not a valid file name"
        raise ConfigError(f"REFGW_DATABASE {database!r}: {reason}") from None


def _parser() -> OneLineParser:
    parser = OneLineParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
        description="A strict reference implementation of the Hoop gateway's OIDC contract. "
        "Configured by Hoop's environment variables (API_URL, PORT, IDP_ISSUER, IDP_CLIENT_ID, ...).",
    )
    parser.add_argument("--list-mutants", action="store_true", help="list every mutant and the checks it must fail")
    parser.add_argument("--json", action="store_true", help="with --list-mutants: print JSON")
    return parser


def check_idp(settings: Settings) -> None:
    """Fetch the discovery document once; raise ``IdpError`` if the IdP is unusable."""
    url = discovery_url(settings.issuer)
    try:
        response = httpx.get(url, timeout=settings.idp_timeout, trust_env=False, verify=idp_verify(settings))
    except httpx.HTTPError as error:
        raise IdpError(f"cannot reach the identity provider at {url}: {failure_reason(error)}") from None
    if response.status_code != 200:
        raise IdpError(f"the identity provider answered {response.status_code} for {url}")
    try:
        document = response.json()
    except ValueError:
        raise IdpError(f"the identity provider's discovery document at {url} is not JSON") from None
    if not isinstance(document, dict):
        raise IdpError(f"the identity provider's discovery document at {url} is not a JSON object")
    parse_discovery(document, settings=replace(settings, mutants=frozenset()))  # mutants act only while serving


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as error:
        sock.close()
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {error.strerror}") from None
    return sock


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gateway until it is stopped; return the exit status."""
    args = _parser().parse(argv)
    if args.list_mutants:
        if args.json:
            print(
                json.dumps(
                    {
                        m.name: {"checks": list(m.checks), "passes": list(m.passes), "description": m.description}
                        for m in MUTANTS.values()
                    },
                    indent=2,
                )
            )
        else:
            print(listing())
        return 0
    try:
        settings = load_settings(os.environ)
        check_database(settings.database)
        sock = _listen(settings.port)
    except ConfigError as error:
        fail(error)
        return 2
    try:
        check_idp(settings)
    except IdpError as error:
        sock.close()
        fail(error)
        return 1
    from reference_gateway.app import create_app  # after the checks: a config error needs no app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    if settings.mutants:
        logging.getLogger("reference_gateway").warning("MUTANTS ON: %s", ", ".join(sorted(settings.mutants)))
    config = uvicorn.Config(
        create_app(settings), log_config=None, access_log=False, timeout_graceful_shutdown=2, lifespan="on"
    )
    logging.getLogger("reference_gateway").info(
        "listening on http://127.0.0.1:%d (API_URL %s, issuer %s)", settings.port, settings.api_url, settings.issuer
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0
