"""Shared steps for the mock's HTTP tests: log in over HTTP, exchange the code, verify tokens."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import jwt

from hoop_conformance.drivers.http_login import http_login
from hoop_conformance.users import IdpUser
from tests.mock_idp.conftest import RelyingParty

OPAQUE_ACCESS_TOKEN = r"ory_at_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}"
REDACTED = r"<redacted:[0-9a-f]{8}>"


def query(url: str) -> dict[str, str]:
    """The single-valued query parameters of ``url``."""
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def login(rp: RelyingParty, user: IdpUser, browser: httpx.Client | None = None, **params: str) -> dict[str, str]:
    """Log ``user`` in for ``rp`` over HTTP; the query the IdP sends the browser back to the app with."""
    if browser is None:
        with httpx.Client() as fresh:
            return login(rp, user, fresh, **params)
    url = http_login(
        browser,
        rp.authorize_url(**params),
        user.email,
        user.password,
        idp_base=rp.idp.issuer,
        totp_secret=user.totp_secret,
    )
    assert url.startswith(rp.redirect_uri), url
    return query(url)


def code_for(rp: RelyingParty, user: IdpUser, browser: httpx.Client | None = None, **params: str) -> str:
    """A fresh authorization code for ``user``."""
    back = login(rp, user, browser, **params)
    assert "code" in back, back
    return back["code"]


def exchange(rp: RelyingParty, code: str, **form: str) -> httpx.Response:
    """Redeem ``code`` at the token endpoint with client_secret_basic."""
    return rp.token(grant_type="authorization_code", code=code, redirect_uri=rp.redirect_uri, **form)


def tokens_for(rp: RelyingParty, user: IdpUser, **params: str) -> dict[str, Any]:
    """Log in and redeem the code: the token response."""
    response = exchange(rp, code_for(rp, user, **params))
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def userinfo(rp: RelyingParty, access_token: str) -> httpx.Response:
    """GET userinfo with a bearer token."""
    return httpx.get(f"{rp.idp.issuer}userinfo", headers={"Authorization": f"Bearer {access_token}"})


def jwks(issuer: str) -> jwt.PyJWKSet:
    """The IdP's published keys."""
    return jwt.PyJWKSet.from_dict(httpx.get(f"{issuer}.well-known/jwks.json").json())


def verify_id_token(rp: RelyingParty, id_token: str, **options: Any) -> dict[str, Any]:
    """The ID token's claims, its RS256 signature, issuer and audience checked against the JWKS."""
    kid = jwt.get_unverified_header(id_token)["kid"]
    key = jwks(rp.idp.issuer)[kid].key
    return jwt.decode(  # type: ignore[no-any-return]
        id_token, key=key, algorithms=["RS256"], audience=rp.app["client_id"], issuer=rp.idp.issuer, **options
    )


def b64decode(segment: str) -> bytes:
    """Decode a base64url segment without padding."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def pkce_pair(method: str = "S256") -> tuple[str, str]:
    """A (verifier, challenge) pair for ``method``."""
    verifier = secrets.token_urlsafe(48)
    if method == "plain":
        return verifier, verifier
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def assert_endpoints_under(found: dict[str, Any], base: str, moved: str = "") -> None:
    """Discovery advertises JumpCloud's paths under ``base`` (+ ``moved``); end-session never moves."""
    assert found["authorization_endpoint"] == f"{base}{moved}/oauth2/auth"
    assert found["token_endpoint"] == f"{base}{moved}/oauth2/token"
    assert found["userinfo_endpoint"] == f"{base}{moved}/userinfo"
    assert found["jwks_uri"] == f"{base}{moved}/.well-known/jwks.json"
    assert found["revocation_endpoint"] == f"{base}{moved}/oauth2/revoke"
    assert found["end_session_endpoint"] == f"{base}/oauth2/sessions/logout"
