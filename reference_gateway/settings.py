"""The gateway's settings: one frozen dataclass built from the environment.

The variables are Hoop's (gateway-contract.md); ``REFGW_*`` variables are the
reference gateway's own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from reference_gateway.errors import ConfigError
from reference_gateway.mutants import MUTANTS, UnknownMutant, parse_mutants

DEFAULT_PORT = 8009
DEFAULT_GROUPS_CLAIM = "https://app.hoop.dev/groups"
DEFAULT_IDP_TIMEOUT = 5.0
DEFAULT_STATE_TTL = 600.0
BASE_SCOPES = ("openid", "profile", "email")
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+$")  # RFC 6749 3.3 scope-token


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the gateway is configured with."""

    api_url: str
    """Public base URL, without a trailing slash."""
    port: int
    issuer: str
    """The issuer exactly as configured (JumpCloud's ends with a slash)."""
    client_id: str
    client_secret: str
    audience: str | None = None
    custom_scopes: tuple[str, ...] = ()
    groups_claim: str = DEFAULT_GROUPS_CLAIM
    admin_group: str = "admin"
    auditor_group: str = "auditor"
    force_url_token: bool = False
    """``URL_TOKEN_EXCHANGE=force``: always hand the token over as ``?token=``."""
    database: str = ":memory:"
    idp_timeout: float = DEFAULT_IDP_TIMEOUT
    """Seconds allowed for each call to the IdP (connect + answer)."""
    state_ttl: float = DEFAULT_STATE_TTL
    """Seconds a login state stays usable."""
    mutants: frozenset[str] = frozenset()

    @property
    def redirect_uri(self) -> str:
        """The callback URL registered at the IdP."""
        return f"{self.api_url}/api/callback"

    @property
    def secure_origin(self) -> bool:
        """Whether the public URL is HTTPS."""
        return self.api_url.startswith("https://")

    def mutant(self, name: str) -> bool:
        """Whether mutant ``name`` is switched on (the name must be registered)."""
        if name not in MUTANTS:
            raise KeyError(f"mutant {name!r} is not registered")
        return name in self.mutants


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _http_url(name: str, value: str) -> str:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL, got {value!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{name} has an invalid port: {value!r}") from None
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"{name} must not carry credentials, a query or a fragment: {value!r}")
    return value


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value >= minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}, got {raw!r}")
    return value


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"PORT must be a TCP port number (1-65535), got {raw!r}")
    return int(raw)


def _scopes(raw: str) -> tuple[str, ...]:
    scopes: list[str] = []
    for scope in (part.strip() for part in raw.split(",")):
        if not scope:
            continue
        if not _SCOPE_TOKEN.match(scope):
            raise ConfigError(f"IDP_CUSTOM_SCOPES holds an invalid scope: {scope!r}")
        if scope not in scopes and scope not in BASE_SCOPES:
            scopes.append(scope)
    return tuple(scopes)


def load_settings(env: Mapping[str, str]) -> Settings:
    """Build and validate the settings from environment variables.

    Raises ``ConfigError`` with a message naming the variable at fault.
    """
    if env.get("IDP_URI", "").strip():
        raise ConfigError("IDP_URI is not supported by the reference gateway; set IDP_ISSUER, IDP_CLIENT_ID, ...")
    exchange = env.get("URL_TOKEN_EXCHANGE", "").strip()
    if exchange not in ("", "force"):
        raise ConfigError(f"URL_TOKEN_EXCHANGE must be 'force' or unset, got {exchange!r}")
    try:
        mutants = parse_mutants(env.get("REFGW_MUTANT", ""))
    except UnknownMutant as error:
        raise ConfigError(f"REFGW_MUTANT: {error}") from None
    return Settings(
        api_url=_http_url("API_URL", _required(env, "API_URL")).rstrip("/"),
        port=_port(env),
        issuer=_http_url("IDP_ISSUER", _required(env, "IDP_ISSUER")),
        client_id=_required(env, "IDP_CLIENT_ID"),
        client_secret=_required(env, "IDP_CLIENT_SECRET"),
        audience=env.get("IDP_AUDIENCE", "").strip() or None,
        custom_scopes=_scopes(env.get("IDP_CUSTOM_SCOPES", "")),
        groups_claim=env.get("IDP_GROUPS_CLAIM", "").strip() or DEFAULT_GROUPS_CLAIM,
        admin_group=env.get("ADMIN_USERNAME", "").strip() or "admin",
        auditor_group=env.get("AUDITOR_USERNAME", "").strip() or "auditor",
        force_url_token=exchange == "force",
        database=env.get("REFGW_DATABASE", "").strip() or ":memory:",
        idp_timeout=_number(env, "REFGW_IDP_TIMEOUT", DEFAULT_IDP_TIMEOUT, minimum=0.1),
        state_ttl=_number(env, "REFGW_STATE_TTL", DEFAULT_STATE_TTL, minimum=0.0),
        mutants=mutants,
    )
