"""Verification of ID tokens (OIDC Core 3.1.3.7) and of JWT access tokens (RFC 9068)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt

from reference_gateway.errors import TokenRejected
from reference_gateway.settings import Settings

ASYMMETRIC_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
LEEWAY = 60.0
"""Seconds of clock skew allowed on ``exp`` and ``iat``."""
EXP_LEEWAY_MUTANT = 1800.0
"""The clock skew the ``exp_leeway_30min`` mutant allows on ``exp``."""
IAT_LEEWAY_MUTANT = 3600.0
"""How far ahead the ``iat_future_leeway_hour`` mutant lets ``iat`` be."""

KeyLookup = Callable[[str | None], Awaitable[jwt.PyJWK | None]]
"""Find the JWKS key with a given ``kid`` (refetching the JWKS once if it is unknown); for no ``kid``, the JWKS's
only key, or ``None`` when it holds several (OIDC Core 10.1)."""

ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
"""The JWS ``typ`` of an RFC 9068 access token."""
ID_TOKEN_ONLY_CLAIMS = ("nonce", "at_hash", "c_hash", "auth_time")
"""Claims an ID token carries and a Hydra-style JWT access token does not."""

_SIGNATURE_ONLY: jwt.types.Options = {
    "verify_signature": True,
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": False,
    "verify_iss": False,
    "verify_jti": False,
    "verify_sub": False,
}


@dataclass(frozen=True, kw_only=True)
class Expected:
    """What an ID token must carry to be accepted."""

    issuer: str
    client_id: str
    nonce: str | None


def _unverified(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _never(name: str) -> bool:
    return False


async def _header_key(header: dict[str, Any], keys: KeyLookup, mutant: Callable[[str], bool]) -> jwt.PyJWK | None:
    """The JWKS key the header's ``kid`` names; with no ``kid``, the JWKS's only key (OIDC Core 10.1).

    ``None`` for a ``kid`` the JWKS does not hold (PyJWT has refused a ``kid`` that is not a string);
    ``TokenRejected`` for no ``kid`` while the JWKS holds several keys (or, under the ``require_kid`` mutant, any
    token without one).
    """
    kid: str | None = header.get("kid")
    if kid is None and mutant("require_kid"):
        raise TokenRejected("token header has no kid")
    key = await keys(kid)
    if key is None and kid is None:
        raise TokenRejected("token header has no kid and the JWKS does not hold exactly one key")
    return key


async def verify_signature(
    token: str, *, algorithms: frozenset[str], keys: KeyLookup, settings: Settings, id_token: bool
) -> dict[str, Any]:
    """Check the JWS header and signature; return the (not yet validated) claims.

    The ID token mutants apply only when ``id_token`` is true.
    """
    mutant = settings.mutant if id_token else _never
    try:
        header = jwt.get_unverified_header(token)
        alg = header.get("alg")
        if alg == "none" and mutant("accept_alg_none"):
            return _unverified(token)
        if isinstance(alg, str) and alg.startswith("HS") and mutant("accept_hs256"):
            return jwt.decode(token, settings.client_secret, algorithms=[alg], options=_SIGNATURE_ONLY)
        if alg not in algorithms or alg not in ASYMMETRIC_ALGS:
            raise TokenRejected(f"signing algorithm {alg!r} is not allowed")
        key = await _header_key(header, keys, mutant)
        if key is None and mutant("skip_signature_on_unknown_kid"):
            return _unverified(token)
        if key is None:
            raise TokenRejected("token signed by a key that is not in the JWKS")
        if mutant("accept_any_signature"):
            return _unverified(token)
        return jwt.decode(token, key.key, algorithms=[alg], options=_SIGNATURE_ONLY)
    except (jwt.PyJWTError, ValueError, TypeError) as error:
        raise TokenRejected(f"invalid token: {type(error).__name__}") from None


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRejected(f"{name} is not a number")
    return float(value)


def _check_issuer(claims: dict[str, Any], issuer: str, settings: Settings) -> None:
    """``iss`` must be the issuer, exactly (a trailing slash included)."""
    iss = claims.get("iss")
    if iss is None and settings.mutant("allow_missing_iss"):
        return
    if isinstance(iss, str) and iss.rstrip("/") == issuer.rstrip("/") and settings.mutant("iss_ignores_trailing_slash"):
        return
    if iss != issuer and not settings.mutant("skip_iss_check"):
        raise TokenRejected("iss is not the issuer")


def _check_audience(claims: dict[str, Any], client_id: str, settings: Settings) -> None:
    """``aud`` must hold the client id and nothing else."""
    if settings.mutant("skip_aud_check") or ("aud" not in claims and settings.mutant("allow_missing_aud")):
        return
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if client_id not in audiences:
        raise TokenRejected("aud does not hold the client id")
    if any(aud != client_id for aud in audiences) and not settings.mutant("allow_extra_aud"):
        raise TokenRejected("aud holds an audience other than the client id")


def _check_times(claims: dict[str, Any], now: float, settings: Settings) -> None:
    """``exp`` must be present and not past, ``iat`` present and not ahead (each with ``LEEWAY``)."""
    exp = _number(claims, "exp")
    if exp is None and not settings.mutant("allow_missing_exp"):
        raise TokenRejected("exp is missing")
    exp_leeway = EXP_LEEWAY_MUTANT if settings.mutant("exp_leeway_30min") else LEEWAY
    if exp is not None and exp + exp_leeway < now and not settings.mutant("skip_exp_check"):
        raise TokenRejected("the token has expired")
    iat = _number(claims, "iat")
    iat_leeway = IAT_LEEWAY_MUTANT if settings.mutant("iat_future_leeway_hour") else LEEWAY
    if (iat is None or iat > now + iat_leeway) and not settings.mutant("skip_iat_check"):
        raise TokenRejected("iat is missing or in the future")


def check_id_token_claims(
    claims: dict[str, Any], expected: Expected, *, settings: Settings, now: float | None = None
) -> None:
    """Validate the claims of a signature-checked ID token; raise ``TokenRejected`` on the first fault."""
    now = time.time() if now is None else now
    _check_issuer(claims, expected.issuer, settings)
    _check_audience(claims, expected.client_id, settings)
    if "azp" in claims and claims["azp"] != expected.client_id and not settings.mutant("skip_azp_check"):
        raise TokenRejected("azp is not the client id")
    _check_times(claims, now, settings)
    if expected.nonce is not None and claims.get("nonce") != expected.nonce and not settings.mutant("skip_nonce_check"):
        raise TokenRejected("nonce does not match the login")
    sub = claims.get("sub")
    if sub is not None and (not isinstance(sub, str) or not sub):
        raise TokenRejected("sub is not a non-empty string")


@dataclass(frozen=True, kw_only=True)
class AccessTokenAudience:
    """Whom a JWT access token must be for: this gateway's client, and its ``IDP_AUDIENCE`` when one is set."""

    issuer: str
    client_id: str
    audience: str | None = None


def check_unexpired(claims: dict[str, Any], *, now: float | None = None) -> None:
    """Refuse a token without ``exp`` or past it (with ``LEEWAY``)."""
    now = time.time() if now is None else now
    exp = _number(claims, "exp")
    if exp is None or exp + LEEWAY < now:
        raise TokenRejected("the token has expired or has no exp")


def is_access_token(typ: object, claims: dict[str, Any]) -> bool:
    """Whether a JWT is shaped as an access token: ``typ: at+jwt`` (RFC 9068), or Hydra's ``JWT`` with ``scp``.

    An ID token (``typ: JWT``, no ``scp``, ``nonce``/``at_hash``/``auth_time``) is not one.
    """
    if isinstance(typ, str) and typ.lower() in ACCESS_TOKEN_TYPES:
        return True
    hydra = typ in (None, "JWT") and isinstance(claims.get("scp"), list)
    return hydra and not any(name in claims for name in ID_TOKEN_ONLY_CLAIMS)


def check_access_token_claims(
    claims: dict[str, Any], *, typ: object, expected: AccessTokenAudience, now: float | None = None
) -> None:
    """Validate a signature-checked JWT access token (RFC 9068 4): type, ``iss``, ``exp``, ``client_id``, ``aud``."""
    if not is_access_token(typ, claims):
        raise TokenRejected(f"not an access token (typ {typ!r})")
    if claims.get("iss") != expected.issuer:
        raise TokenRejected("iss is not the issuer")
    check_unexpired(claims, now=now)
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise TokenRejected("sub is missing")
    if claims.get("client_id") != expected.client_id:
        raise TokenRejected("client_id is not this gateway's client")
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if expected.audience is not None and expected.audience not in audiences:
        raise TokenRejected("aud does not hold the configured audience")
