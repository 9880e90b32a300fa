"""The mock's settings: one frozen, keyword-only dataclass used by the app, the CLI and the fixtures."""

from __future__ import annotations

import json
import secrets
import tomllib
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from mock_idp.errors import SettingsError

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
TokenFormat = Literal["opaque", "jwt"]

AUTH_METHODS: tuple[str, ...] = ("client_secret_basic", "client_secret_post", "none")
TOKEN_FORMATS: tuple[str, ...] = ("opaque", "jwt")
GRANT_TYPES: tuple[str, ...] = ("authorization_code", "refresh_token")
DEFAULT_GROUPS_CLAIM = "https://app.hoop.dev/groups"
DEFAULT_SCOPES: tuple[str, ...] = ("openid", "email", "profile", "offline_access")
DEFAULT_REDIRECT_URIS: tuple[str, ...] = (
    "http://localhost:8009/api/callback",
    "http://127.0.0.1:8009/api/callback",
)


def new_object_id() -> str:
    """A JumpCloud-style 24-hex object id."""
    return secrets.token_hex(12)


@dataclass(frozen=True, kw_only=True)
class AppSettings:
    """A JumpCloud "Custom OIDC App": one OAuth client and its attribute mapping."""

    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_secret: str | None = field(default_factory=lambda: secrets.token_urlsafe(48))
    app_id: str = field(default_factory=new_object_id)
    name: str = "Hoop"
    redirect_uris: tuple[str, ...] = DEFAULT_REDIRECT_URIS
    auth_method: AuthMethod = "client_secret_basic"
    grant_types: tuple[str, ...] = ("authorization_code",)
    access_token_format: TokenFormat = "opaque"
    groups_claim: str | None = DEFAULT_GROUPS_CLAIM
    login_url: str | None = "http://localhost:8009/login"
    post_logout_redirect_uris: tuple[str, ...] = ()
    allowed_scopes: tuple[str, ...] = DEFAULT_SCOPES
    access_token_ttl: int = 3600
    id_token_ttl: int = 3600

    def __post_init__(self) -> None:
        if self.auth_method not in AUTH_METHODS:
            raise SettingsError(f"auth_method must be one of {', '.join(AUTH_METHODS)}, not {self.auth_method!r}")
        if self.access_token_format not in TOKEN_FORMATS:
            raise SettingsError(
                f"access_token_format must be one of {', '.join(TOKEN_FORMATS)}, not {self.access_token_format!r}"
            )
        unknown = set(self.grant_types) - set(GRANT_TYPES)
        if unknown or "authorization_code" not in self.grant_types:
            raise SettingsError(f"grant_types must include authorization_code and only {', '.join(GRANT_TYPES)}")
        if self.auth_method == "none":
            object.__setattr__(self, "client_secret", None)
        elif not self.client_secret:
            raise SettingsError(f"client_secret is required with auth_method {self.auth_method}")
        if not self.redirect_uris:
            raise SettingsError("an app needs at least one redirect URI")
        for ttl in (self.access_token_ttl, self.id_token_ttl):
            if ttl <= 0:
                raise SettingsError("token lifetimes must be positive")


@dataclass(frozen=True, kw_only=True)
class SeedUser:
    """A user created at start, with the groups (bound to every seeded app) it belongs to."""

    email: str
    password: str
    firstname: str = ""
    lastname: str = ""
    groups: tuple[str, ...] = ()
    totp_secret: str | None = None


@dataclass(frozen=True, kw_only=True)
class MockIdpSettings:
    """Everything the mock needs to start."""

    host: str = "127.0.0.1"
    port: int = 8090
    issuer: str | None = None
    admin_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    org_id: str = field(default_factory=new_object_id)
    key_count: int = 3
    apps: tuple[AppSettings, ...] = field(default_factory=lambda: (AppSettings(),))
    users: tuple[SeedUser, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be between 0 and 65535, not {self.port}")
        if self.key_count < 1:
            raise SettingsError("key_count must be at least 1")
        if self.issuer is not None and not self.issuer.startswith(("http://", "https://")):
            raise SettingsError(f"issuer must be an http(s) URL, not {self.issuer!r}")
        if not self.admin_key:
            raise SettingsError("admin_key must not be empty")
        client_ids = [app.client_id for app in self.apps]
        if len(set(client_ids)) != len(client_ids):
            raise SettingsError("two apps share a client_id")

    def with_port(self, port: int) -> MockIdpSettings:
        """The same settings bound to ``port``."""
        return replace(self, port=port)

    def issuer_for(self, port: int) -> str:
        """The issuer: the configured one (``{port}`` in it becomes the port), or ``http://host:port/``."""
        if self.issuer:
            return self.issuer.replace("{port}", str(port))
        return f"http://{self.host}:{port}/"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that ``from_dict`` reads back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MockIdpSettings:
        """Build settings from a dict (a parsed TOML or JSON file)."""
        data = dict(data)
        _reject_unknown(cls, data, "settings")
        apps = tuple(_build(AppSettings, app, "app") for app in data.pop("apps", [{}]))
        users = tuple(_build(SeedUser, user, "user") for user in data.pop("users", []))
        try:
            return cls(**data, apps=apps, users=users)
        except TypeError as error:
            raise SettingsError(f"bad settings: {error}") from None

    @classmethod
    def from_file(cls, path: Path) -> MockIdpSettings:
        """Read settings from a ``.toml`` or ``.json`` file."""
        try:
            text = path.read_text()
        except OSError as error:
            raise SettingsError(f"cannot read {path}: {error.strerror}") from None
        try:
            data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
            raise SettingsError(f"{path} is not valid {path.suffix.lstrip('.') or 'JSON'}: {error}") from None
        if not isinstance(data, dict):
            raise SettingsError(f"{path} must hold a table of settings")
        return cls.from_dict(data)


def _reject_unknown(cls: type, data: dict[str, Any], what: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(f"unknown {what} field(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _build(cls: type, data: Any, what: str) -> Any:
    if not isinstance(data, dict):
        raise SettingsError(f"each {what} must be a table, not {type(data).__name__}")
    _reject_unknown(cls, data, what)
    converted = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
    try:
        return cls(**converted)
    except TypeError as error:
        raise SettingsError(f"bad {what}: {error}") from None
