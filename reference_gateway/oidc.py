"""The IdP client: discovery, JWKS, code exchange and userinfo, each call bounded in time."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote_plus

import httpx
import jwt

from reference_gateway.errors import IdpError
from reference_gateway.settings import Settings

T = TypeVar("T")

JWKS_REFETCH_INTERVAL = 10.0
"""Least seconds between two JWKS refetches caused by an unknown ``kid`` on the API path."""
DISCOVERY_MAX_AGE = 60.0
"""Seconds the API path keeps using a discovery document before re-reading it (logins always re-read)."""

# JumpCloud's paths, used only by the ``hardcoded_endpoints`` mutant.
_DEFAULT_PATHS = {
    "authorization_endpoint": "/oauth2/auth",
    "token_endpoint": "/oauth2/token",
    "userinfo_endpoint": "/userinfo",
    "jwks_uri": "/.well-known/jwks.json",
}


@dataclass(frozen=True, kw_only=True)
class Discovery:
    """The parts of the IdP's discovery document the gateway uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    signing_algs: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class UserinfoAnswer:
    """What the userinfo endpoint answered: its status and, if it was a JSON object, the claims."""

    status: int
    claims: dict[str, Any] | None


def discovery_url(issuer: str) -> str:
    """Where the discovery document of ``issuer`` lives."""
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def default_endpoint(issuer: str, name: str) -> str:
    """Where JumpCloud serves endpoint ``name`` (a discovery field name); only mutants use it."""
    return issuer.rstrip("/") + _DEFAULT_PATHS[name]


def _json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IdpError(f"{what} answered {response.status_code} with a body that is not JSON") from None
    if not isinstance(body, dict):
        raise IdpError(f"{what} answered JSON that is not an object")
    return body


def parse_discovery(document: dict[str, Any], *, settings: Settings) -> Discovery:
    """Validate a discovery document against the configured issuer."""
    expected = settings.issuer.rstrip("/") if settings.mutant("strip_issuer_slash") else settings.issuer
    if document.get("issuer") != expected and not settings.mutant("skip_issuer_match"):
        raise IdpError(f"discovery issuer {document.get('issuer')!r} differs from the configured {expected!r}")
    fields: dict[str, str] = {}
    for name in _DEFAULT_PATHS:
        value = document.get(name)
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise IdpError(f"discovery document has no usable {name}")
        fields[name] = value
    if settings.mutant("hardcoded_endpoints"):
        fields = {name: default_endpoint(settings.issuer, name) for name in _DEFAULT_PATHS}
    algs = document.get("id_token_signing_alg_values_supported", ["RS256"])
    if not isinstance(algs, list) or not all(isinstance(alg, str) for alg in algs):
        raise IdpError("discovery id_token_signing_alg_values_supported is not a list of names")
    return Discovery(issuer=settings.issuer, signing_algs=tuple(algs), **fields)


def _parse_jwks(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    keys: dict[str, jwt.PyJWK] = {}
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise IdpError("JWKS has no keys list")
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
    return keys


def key_for(keys: dict[str, jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    """The key ``kid``; for no ``kid``, the only key when there is exactly one (OIDC Core 10.1)."""
    if kid is None:
        return next(iter(keys.values())) if len(keys) == 1 else None
    return keys.get(kid)


def _token_response(response: httpx.Response) -> dict[str, Any]:
    """The token endpoint's answer as a JSON object holding an access token; ``IdpError`` for anything else."""
    if response.status_code != 200:
        error = "unknown"
        try:
            body = response.json()
            error = str(body.get("error", "unknown"))[:64] if isinstance(body, dict) else error
        except (json.JSONDecodeError, UnicodeDecodeError):
            pass
        raise IdpError(f"token endpoint answered {response.status_code} ({error})")
    body = _json_object(response, "token endpoint")
    if not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise IdpError("token response has no access_token")
    return body


@functools.cache
def _tls_context(*, check_hostname: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()  # reads SSL_CERT_FILE / SSL_CERT_DIR when set, else the system's CAs
    context.check_hostname = check_hostname
    return context


def idp_verify(settings: Settings) -> ssl.SSLContext | bool:
    """How the gateway verifies the IdP's certificate: against ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set, else
    the system's CAs (OpenSSL's convention, and Go's), the host name checked; one context per process."""
    if settings.mutant("tls_no_verify"):
        return False
    if settings.mutant("tls_ignore_ca_file"):
        return True  # httpx's own default, certifi's bundle: SSL_CERT_FILE is never read (trust_env=False)
    return _tls_context(check_hostname=not settings.mutant("tls_no_hostname_check"))


def failure_reason(error: httpx.HTTPError) -> str:
    """Why a call to the IdP failed: the error's type, or the certificate problem when a TLS handshake failed."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"its TLS certificate was refused ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError):
            return f"TLS failed ({cause.reason or type(cause).__name__})"
        cause = cause.__cause__ or cause.__context__
    return type(error).__name__


def basic_auth_header(client_id: str, client_secret: str) -> str:
    """``client_secret_basic`` credentials, form-encoded first (RFC 6749 2.3.1)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


class IdpClient:
    """Talks to the IdP over HTTP. Every call is bounded by ``settings.idp_timeout``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.idp_timeout),
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=100),
            follow_redirects=False,
            trust_env=False,
            verify=idp_verify(settings),
        )
        self._discovery: Discovery | None = None
        self._discovered_at = 0.0
        self._discovery_failure: IdpError | None = None
        self._jwks: dict[str, jwt.PyJWK] | None = None
        self._jwks_failure: IdpError | None = None
        self._jwks_fetched_at = float("-inf")

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    def _timeout(self, bounded: bool) -> httpx.Timeout | None:
        """A request's HTTP timeout: ``idp_timeout``, or none at all for a no-timeout mutant."""
        return httpx.Timeout(self._settings.idp_timeout) if bounded else None

    async def _bounded(self, call: Callable[[], Awaitable[T]], what: str, *, bounded: bool = True) -> T:
        try:
            if not bounded:
                return await call()
            async with asyncio.timeout(self._settings.idp_timeout):
                return await call()
        except (TimeoutError, httpx.TimeoutException):
            raise IdpError(f"{what} did not answer within {self._settings.idp_timeout:g} s") from None
        except httpx.HTTPError as error:
            raise IdpError(f"{what} unreachable: {failure_reason(error)}") from None

    async def discover(self) -> Discovery:
        """Fetch and validate the discovery document now; remember it as the current one."""
        if self._discovery_failure is not None and self._settings.mutant("discovery_failure_sticky"):
            raise self._discovery_failure
        bounded = not self._settings.mutant("no_discovery_timeout")
        try:
            response = await self._bounded(
                lambda: self._http.get(discovery_url(self._settings.issuer), timeout=self._timeout(bounded)),
                "discovery",
                bounded=bounded,
            )
            if response.status_code != 200:
                raise IdpError(f"discovery answered {response.status_code}")
            self._discovery = parse_discovery(_json_object(response, "discovery"), settings=self._settings)
            self._discovered_at = time.monotonic()
        except IdpError as error:
            self._discovery_failure = error
            raise
        return self._discovery

    async def current(self) -> Discovery:
        """The last good discovery document, re-read when older than ``DISCOVERY_MAX_AGE`` (kept if that fails)."""
        if self._discovery is not None and time.monotonic() - self._discovered_at < DISCOVERY_MAX_AGE:
            return self._discovery
        try:
            return await self.discover()
        except IdpError:
            if self._discovery is None:
                raise
            return self._discovery

    async def _fetch_jwks(self, discovery: Discovery) -> dict[str, jwt.PyJWK]:
        if self._jwks_failure is not None and self._settings.mutant("jwks_failure_sticky"):
            raise self._jwks_failure
        try:
            response = await self._bounded(lambda: self._http.get(discovery.jwks_uri), "JWKS")
            if response.status_code != 200:
                raise IdpError(f"JWKS answered {response.status_code}")
            self._jwks = _parse_jwks(_json_object(response, "JWKS"))
            self._jwks_fetched_at = time.monotonic()
        except IdpError as error:
            self._jwks_failure = error
            raise
        return self._jwks

    async def fetch_provider(self) -> Discovery:
        """Discovery and JWKS, both fetched now (what Hoop does before every callback's state lookup)."""
        discovery = await self.discover()
        await self._fetch_jwks(discovery)
        return discovery

    async def signing_key(self, discovery: Discovery, kid: str | None, *, fresh: bool) -> jwt.PyJWK | None:
        """The JWKS key ``kid`` (for no ``kid``, the only key if the JWKS holds one): from a fresh JWKS when
        ``fresh``, else cached with one refetch if not found.

        Such refetches are at most one per ``JWKS_REFETCH_INTERVAL`` (forged tokens cannot hammer the IdP).
        """
        if self._jwks is not None and self._settings.mutant("jwks_cached_forever"):
            return key_for(self._jwks, kid)
        stale = time.monotonic() - self._jwks_fetched_at >= JWKS_REFETCH_INTERVAL
        if fresh or self._jwks is None or (key_for(self._jwks, kid) is None and stale):
            await self._fetch_jwks(discovery)
        assert self._jwks is not None
        return key_for(self._jwks, kid)

    async def exchange_code(self, discovery: Discovery, *, code: str, code_verifier: str | None) -> dict[str, Any]:
        """Exchange an authorization code at the token endpoint (client_secret_basic), once: a failure is final."""
        settings = self._settings
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": settings.redirect_uri}
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        in_body = settings.mutant("client_secret_post")
        response = await self._post_token(discovery, form, secret_in_body=in_body)
        try:
            return _token_response(response)
        except IdpError:
            if in_body or not settings.mutant("retry_token_with_post"):
                raise
        return _token_response(await self._post_token(discovery, form, secret_in_body=True))

    async def _post_token(self, discovery: Discovery, form: dict[str, str], *, secret_in_body: bool) -> httpx.Response:
        """POST ``form`` to the token endpoint, the client authenticated in the body or (normally) with Basic."""
        settings = self._settings
        headers = {"Accept": "application/json"}
        if secret_in_body:
            form = form | {"client_id": settings.client_id, "client_secret": settings.client_secret}
        else:
            headers["Authorization"] = basic_auth_header(settings.client_id, settings.client_secret)
        bounded = not settings.mutant("no_token_timeout")
        return await self._bounded(
            lambda: self._http.post(
                discovery.token_endpoint, data=form, headers=headers, timeout=self._timeout(bounded)
            ),
            "token endpoint",
            bounded=bounded,
        )

    async def userinfo(self, discovery: Discovery, access_token: str) -> UserinfoAnswer:
        """Ask the userinfo endpoint about ``access_token`` (sent in the Authorization header)."""
        bounded = not self._settings.mutant("no_userinfo_timeout")
        response = await self._bounded(
            lambda: self._http.get(
                discovery.userinfo_endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=self._timeout(bounded),
            ),
            "userinfo",
            bounded=bounded,
        )
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        return UserinfoAnswer(status=response.status_code, claims=body if isinstance(body, dict) else None)
