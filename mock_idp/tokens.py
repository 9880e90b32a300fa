"""Minting JumpCloud/Hydra-shaped tokens and claims, and tampering with ID tokens on request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from typing import Any

from mock_idp.directory import User
from mock_idp.grants import Grant
from mock_idp.keys import SigningKey

FOREIGN_ISSUER = "https://evil.example.test/"
FOREIGN_AUDIENCE = "https://untrusted.example.test"
OTHER_CLIENT = "00000000-0000-4000-8000-000000000000"
MISSING_CLAIM_TAMPERS = frozenset({"missing_exp", "missing_sub", "missing_iat", "missing_aud", "missing_iss"})
"""Tampers that drop one claim: the one named after ``missing_``."""


def b64url(data: bytes) -> str:
    """Base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def opaque_token(prefix: str) -> str:
    """A Hydra-format opaque token: ``ory_at_<43 chars>.<43 chars>`` (one dot)."""
    key = secrets.token_urlsafe(32)
    signature = b64url(hmac.new(secrets.token_bytes(32), key.encode(), hashlib.sha256).digest())
    return f"ory_{prefix}_{key}.{signature}"


def token_hash(token: str) -> str:
    """``at_hash``: the left half of the access token's SHA-256, base64url."""
    return b64url(hashlib.sha256(token.encode()).digest()[:16])


def user_claims(user: User, scopes: tuple[str, ...], groups: list[str], groups_claim: str | None) -> dict[str, Any]:
    """The claims granted by ``email``/``profile`` scopes, and the groups claim (string for one group)."""
    claims: dict[str, Any] = {}
    if "email" in scopes:
        claims["email"] = user.email
        claims["email_verified"] = True
    if "profile" in scopes:
        claims.update(
            name=user.display_name,
            given_name=user.firstname,
            family_name=user.lastname,
            middle_name=user.middlename,
            preferred_username=user.username,
        )
    if groups_claim and groups:
        claims[groups_claim] = groups[0] if len(groups) == 1 else list(groups)
    return claims


def id_token_claims(
    *, issuer: str, grant: Grant, user: User, org_id: str, now: float, access_token: str, extra: dict[str, Any]
) -> dict[str, Any]:
    """The ID token's claims, JumpCloud's set (no ``azp``)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": [grant.app.client_id],
        "sub": user.id,
        "exp": int(now) + grant.app.id_token_ttl,
        "iat": int(now),
        "auth_time": int(grant.auth_time),
        "rat": int(grant.requested_at),
        "at_hash": token_hash(access_token),
        "jti": str(uuid.uuid4()),
        "sid": grant.sid,
        "amr": list(grant.amr),
        "jc_org": org_id,
    }
    if grant.nonce is not None:
        claims["nonce"] = grant.nonce
    claims.update(extra)
    return claims


def jwt_access_token_claims(
    *, issuer: str, grant: Grant, user: User, now: float, jti: str, groups: list[str]
) -> dict[str, Any]:
    """A Hydra-style JWT access token's claims."""
    ext: dict[str, Any] = {"email": user.email}
    if groups:
        ext["memberOf"] = groups
    return {
        "aud": list(grant.audience),
        "client_id": grant.app.client_id,
        "exp": int(now) + grant.app.access_token_ttl,
        "ext": ext,
        "iat": int(now),
        "iss": issuer,
        "jti": jti,
        "nbf": int(now),
        "scp": list(grant.scopes),
        "sub": user.id,
    }


def compact_jws(header: dict[str, Any], claims: dict[str, Any], sign: Any) -> str:
    """A compact JWS built by hand, so that deliberately bad ones can be made."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(sign(signing_input.encode()))}"


def hs256(key: bytes) -> Any:
    """An HMAC-SHA256 signer with ``key``."""
    return lambda data: hmac.new(key, data, hashlib.sha256).digest()


def tamper_claims(tamper: str | None, claims: dict[str, Any], now: float) -> None:
    """Apply the claim-level tampers in place."""
    if tamper == "wrong_iss":
        claims["iss"] = FOREIGN_ISSUER
    elif tamper == "wrong_aud":
        claims["aud"] = [OTHER_CLIENT]
    elif tamper == "extra_aud":
        claims["aud"] = [*claims["aud"], FOREIGN_AUDIENCE]
    elif tamper == "wrong_azp":
        claims["azp"] = OTHER_CLIENT
    elif tamper == "expired":
        claims.update(iat=int(now) - 7200, exp=int(now) - 3600)
    elif tamper == "iat_future":
        claims.update(iat=int(now) + 86400, exp=int(now) + 86400 + 3600)
    elif tamper == "wrong_nonce":
        claims["nonce"] = secrets.token_urlsafe(16)
    elif tamper in MISSING_CLAIM_TAMPERS:
        claims.pop(tamper.removeprefix("missing_"), None)


def sign_id_token(
    claims: dict[str, Any],
    *,
    tamper: str | None,
    key: SigningKey,
    rogue_key: SigningKey,
    client_secret: str | None,
) -> str:
    """Sign the ID token, or break its signature the way ``tamper`` says."""
    if tamper == "alg_none":
        return compact_jws({"alg": "none", "typ": "JWT"}, claims, lambda _: b"")
    if tamper == "hs256_client_secret":
        return compact_jws(
            {"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims, hs256((client_secret or "").encode())
        )
    if tamper == "hs256_public_key":
        return compact_jws({"alg": "HS256", "typ": "JWT", "kid": key.kid}, claims, hs256(key.public_pem()))
    if tamper == "unknown_key":
        return rogue_key.sign(claims)
    if tamper == "no_kid":
        return key.sign(claims, with_kid=False)
    token = key.sign(claims)
    if tamper == "bad_signature":
        head, _, signature = token.rpartition(".")
        flipped = "A" if signature[10] != "A" else "B"
        token = f"{head}.{signature[:10]}{flipped}{signature[11:]}"
    return token
