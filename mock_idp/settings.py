"""The mock's settings: one frozen, keyword-only dataclass used by the app, the CLI and the fixtures."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import tomllib
import uuid
from dataclasses import MISSING, Field, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from mock_idp.errors import SettingsError
from mock_idp.fieldtypes import check_fields, describe

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]
TokenFormat = Literal["opaque", "jwt"]
TlsMode = Literal["good", "untrusted-ca", "wrong-host"]

AUTH_METHODS: tuple[str, ...] = ("client_secret_basic", "client_secret_post", "none")
TOKEN_FORMATS: tuple[str, ...] = ("opaque", "jwt")
GRANT_TYPES: tuple[str, ...] = ("authorization_code", "refresh_token")
TLS_MODES: tuple[str, ...] = ("good", "untrusted-ca", "wrong-host")
DEFAULT_GROUPS_CLAIM = "https://app.hoop.dev/groups"
DEFAULT_SCOPES: tuple[str, ...] = ("openid", "email", "profile", "offline_access")
DEFAULT_REDIRECT_URIS: tuple[str, ...] = (
    "http://localhost:8009/api/callback",
    "http://127.0.0.1:8009/api/callback",
)
MAX_TTL = 10 * 365 * 24 * 3600
"""The longest token lifetime (ten years): longer ones overflow date arithmetic somewhere."""
MAX_KEYS = 20
"""The most signing keys: each is an RSA key generated at start."""
SETTINGS_SUFFIXES = (".toml", ".json")


def new_object_id() -> str:
    """A JumpCloud-style 24-hex object id."""
    return secrets.token_hex(12)


def check_url(name: str, value: str, *, http_only: bool = False) -> None:
    """Raise ``SettingsError`` unless ``value`` is an absolute URL (``http(s)`` with a host, if ``http_only``)."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise SettingsError(f"{name}: {value!r} is not a valid URL") from None
    web = parts.scheme in ("http", "https")
    if not parts.scheme or (web and not parts.hostname) or (http_only and not web) or any(c.isspace() for c in value):
        kind = "an http(s) URL" if http_only else "an absolute URL (scheme://host/path)"
        raise SettingsError(f"{name}: {value!r} is not {kind}")


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
        check_fields(self)
        if not self.client_id.strip():
            raise SettingsError("client_id must not be empty")
        unknown = set(self.grant_types) - set(GRANT_TYPES)
        if unknown or "authorization_code" not in self.grant_types:
            raise SettingsError(f"grant_types must include authorization_code and only {', '.join(GRANT_TYPES)}")
        if self.auth_method == "none":
            object.__setattr__(self, "client_secret", None)
        elif not self.client_secret:
            raise SettingsError(f"client_secret is required with auth_method {self.auth_method}")
        if not self.redirect_uris:
            raise SettingsError("an app needs at least one redirect URI")
        for uri in self.redirect_uris:
            check_url("redirect_uris", uri)
        for uri in self.post_logout_redirect_uris:
            check_url("post_logout_redirect_uris", uri)
        if self.login_url is not None:
            check_url("login_url", self.login_url, http_only=True)
        for name in ("access_token_ttl", "id_token_ttl"):
            ttl = getattr(self, name)
            if not 0 < ttl <= MAX_TTL:
                raise SettingsError(f"{name} must be between 1 and {MAX_TTL} seconds, not {ttl}")


@dataclass(frozen=True, kw_only=True)
class SeedUser:
    """A user created at start, with the groups (bound to every seeded app) it belongs to."""

    email: str
    password: str
    firstname: str = ""
    lastname: str = ""
    groups: tuple[str, ...] = ()
    totp_secret: str | None = None

    def __post_init__(self) -> None:
        check_fields(self)
        local, at, domain = self.email.partition("@")
        if not (local and at and domain) or any(c.isspace() for c in self.email):
            raise SettingsError(f"email: {self.email!r} is not an e-mail address")
        if not self.password:
            raise SettingsError("password must not be empty")
        if not all(group.strip() for group in self.groups):
            raise SettingsError("a group name must not be empty")
        if self.totp_secret is not None and not _is_base32(self.totp_secret):
            raise SettingsError(f"totp_secret must be a base32 string, not {self.totp_secret!r}")

    @property
    def username(self) -> str:
        """The JumpCloud username the mock gives the user: the e-mail's local part."""
        return self.email.partition("@")[0]


def _is_base32(secret: str) -> bool:
    try:
        return bool(secret) and bool(base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True))
    except (binascii.Error, ValueError):
        return False


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
    require_org_id: bool = False
    """Admin API calls must carry ``x-org-id: <org_id>`` (a multi-organization administrator's key); a wrong one is
    refused either way."""
    require_mfa: bool = False
    """The organization requires MFA: a user without TOTP logs in only inside an MFA exclusion window."""
    lockout_after: int = 0
    """Wrong passwords in a row that lock a user's account until an admin unlocks it (0: never)."""
    tls: bool = False
    """Serve HTTPS (see ``mock_idp.tls``): with a CA made for this run unless ``tls_cert`` and ``tls_key`` are given."""
    tls_mode: TlsMode = "good"
    """What is served over HTTPS: ``good``; ``wrong-host``, a certificate from the reported CA for another name;
    ``untrusted-ca``, one for the right names from a CA that is not reported."""
    tls_cert: str | None = None
    """A server certificate (PEM, with its chain) to serve instead of a generated one; needs ``tls_key``."""
    tls_key: str | None = None
    """The private key of ``tls_cert`` (PEM)."""
    tls_ca: str | None = None
    """The CA file to report with a given ``tls_cert`` (what a client must trust)."""

    def __post_init__(self) -> None:
        check_fields(self)
        self._check_tls()
        if not self.host or any(c.isspace() or not c.isprintable() for c in self.host):
            raise SettingsError(f"host must be a host name or address, not {self.host!r}")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"port must be between 0 and 65535, not {self.port}")
        if not 1 <= self.key_count <= MAX_KEYS:
            raise SettingsError(f"key_count must be between 1 and {MAX_KEYS}, not {self.key_count}")
        if self.issuer is not None:
            check_url("issuer", self.issuer.replace("{port}", "1"), http_only=True)
        if not self.admin_key:
            raise SettingsError("admin_key must not be empty")
        if self.lockout_after < 0:
            raise SettingsError(f"lockout_after must be 0 (never) or a positive number, not {self.lockout_after}")
        _refuse_twice([(app.client_id, app.client_id) for app in self.apps], "two apps share the client_id {0}")
        _refuse_twice([(app.app_id, app.app_id) for app in self.apps], "two apps share the app_id {0}")
        _refuse_twice(
            [(user.email.lower(), user.email) for user in self.users],
            "user {1} is seeded twice, also as {0} (e-mails are compared without case)",
        )
        _refuse_twice(
            [(user.username, user.email) for user in self.users],
            "users {0} and {1} share the username {2} (the e-mail's local part), which must be unique",
        )

    def _check_tls(self) -> None:
        given = {name: getattr(self, name) for name in ("tls_cert", "tls_key", "tls_ca")}
        for name, value in given.items():
            if value is not None and (not value.strip() or "\0" in value):
                raise SettingsError(f"{name} must name a file, not {value!r}")
        if not self.tls:
            named = [name for name, value in given.items() if value is not None]
            if self.tls_mode != "good":
                named.insert(0, f"tls_mode {self.tls_mode}")
            if named:
                raise SettingsError(f"{', '.join(named)} given without tls: set tls = true (--tls) or drop them")
            return
        if (self.tls_cert is None) != (self.tls_key is None):
            raise SettingsError("tls_cert and tls_key go together: give both, or neither for a generated certificate")
        if self.tls_cert is None and self.tls_ca is not None:
            raise SettingsError("tls_ca names the CA of a given tls_cert: without one the mock makes its own CA")
        if self.tls_cert is not None and self.tls_mode != "good":
            raise SettingsError(f"tls_mode {self.tls_mode} makes its own certificate: drop tls_cert and tls_key")
        if self.issuer is not None and not self.issuer.startswith("https://"):
            raise SettingsError(f"issuer {self.issuer!r} is not https:// but tls is on")

    def with_port(self, port: int) -> MockIdpSettings:
        """The same settings bound to ``port``."""
        return replace(self, port=port)

    def issuer_for(self, port: int) -> str:
        """The issuer: the configured one (``{port}`` in it becomes the port), or ``http(s)://host:port/``."""
        if self.issuer:
            return self.issuer.replace("{port}", str(port))
        return f"{self.scheme}://{self.host}:{port}/"

    @property
    def scheme(self) -> str:
        """``https`` with ``tls``, else ``http``."""
        return "https" if self.tls else "http"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that ``from_dict`` reads back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MockIdpSettings:
        """Build settings from a dict (a parsed TOML or JSON file); errors name the field and its table."""
        data = dict(data)
        _reject_unknown(cls, data, "")
        apps = tuple(_build(AppSettings, app, f"app {i}") for i, app in enumerate(_tables(data, "apps", [{}]), 1))
        users = tuple(
            _build(SeedUser, user, _user_where(i, user)) for i, user in enumerate(_tables(data, "users", []), 1)
        )
        settings: MockIdpSettings = _construct(cls, {**data, "apps": apps, "users": users}, "")
        return settings

    @classmethod
    def from_file(cls, path: Path) -> MockIdpSettings:
        """Read settings from a ``.toml`` or ``.json`` file; errors start with the file's name."""
        data = read_settings_file(path)
        try:
            return cls.from_dict(data)
        except SettingsError as error:
            raise SettingsError(f"{path}: {error}") from None


def read_settings_file(path: Path) -> dict[str, Any]:
    """The table a ``.toml`` or ``.json`` settings file holds; ``SettingsError`` names the file and the fault."""
    if path.suffix not in SETTINGS_SUFFIXES:
        suffix = f", not {path.suffix}" if path.suffix else ""
        raise SettingsError(f"{path}: a settings file's name must end in .toml or .json{suffix}")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SettingsError(f"cannot read {path}: {error.strerror or error}") from None
    except ValueError:  # a NUL in the name
        raise SettingsError(f"cannot read {str(path)!r}: not a valid file name") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SettingsError(
            f"{path} is not UTF-8 text (byte {raw[error.start]:#04x} at offset {error.start})"
        ) from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise SettingsError(f"{path} is not valid {path.suffix.lstrip('.')}: {error}") from None
    except RecursionError:
        raise SettingsError(f"{path} is nested too deeply") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a table of settings, not {describe(data)}")
    return data


def _refuse_twice(items: list[tuple[str, str]], message: str) -> None:
    """``items`` are (key, name) pairs; a key seen twice raises ``message`` formatted with (first name, name, key)."""
    seen: dict[str, str] = {}
    for key, name in items:
        if key in seen:
            raise SettingsError(message.format(seen[key], name, key))
        seen[key] = name


def _tables(data: dict[str, Any], name: str, default: list[Any]) -> list[Any]:
    value = data.pop(name, default)
    if not isinstance(value, list | tuple):
        raise SettingsError(f"{name} must be a list of tables, not {describe(value)}")
    return list(value)


def _reject_unknown(cls: type, data: dict[str, Any], where: str) -> None:
    known = {f.name for f in fields(cls)}
    unknown = sorted(str(key) for key in set(data) - known)
    if unknown:
        raise SettingsError(f"{_at(where)}unknown field(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise SettingsError(f"{where} must be a table, not {describe(data)}")
    _reject_unknown(cls, data, where)
    if cls is AppSettings and data.get("auth_method") == "none" and data.get("client_secret") is not None:
        raise SettingsError(f"{where}: client_secret is given but auth_method is none (a public client has no secret)")
    converted = {key: tuple(value) if isinstance(value, list) else value for key, value in data.items()}
    return _construct(cls, converted, where)


def _construct(cls: type, values: dict[str, Any], where: str) -> Any:
    missing = [f.name for f in fields(cls) if f.name not in values and _required(f)]
    if missing:
        raise SettingsError(f"{_at(where)}{', '.join(missing)} is required")
    try:
        return cls(**values)
    except SettingsError as error:
        raise SettingsError(f"{_at(where)}{error}") from None


def _required(spec: Field[Any]) -> bool:
    return spec.default is MISSING and spec.default_factory is MISSING


def _user_where(number: int, data: Any) -> str:
    email = data.get("email") if isinstance(data, dict) else None
    return f"user {number} ({email})" if isinstance(email, str) else f"user {number}"


def _at(where: str) -> str:
    return f"{where}: " if where else ""
