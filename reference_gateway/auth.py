"""API authentication: the bearer token must be one this gateway obtained, and the IdP must still accept it."""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace
from typing import Any

import jwt

from reference_gateway.errors import IdpError, TokenRejected
from reference_gateway.idtoken import (
    ASYMMETRIC_ALGS,
    AccessTokenAudience,
    check_access_token_claims,
    check_unexpired,
    verify_signature,
)
from reference_gateway.oidc import Discovery, IdpClient, default_endpoint
from reference_gateway.settings import Settings
from reference_gateway.store import Store, User

_BEARER = re.compile(r"Bearer ([A-Za-z0-9\-._~+/]+=*)")
_LENIENT_BEARER = re.compile(r"(?i)\s*bearer\s+(\S+)\s*")


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a secret is remembered: access tokens, browser bindings; never the value."""
    return hashlib.sha256(token.encode()).hexdigest()


class Authenticator:
    """Turns an ``Authorization`` header into a user, asking the IdP's userinfo on every call (no cache)."""

    def __init__(self, settings: Settings, store: Store, idp: IdpClient) -> None:
        self._settings = settings
        self._store = store
        self._idp = idp
        self._userinfo_cache: dict[str, dict[str, Any]] = {}

    def bearer_token(self, authorization: str | None, query_token: str | None) -> str:
        """The token of an ``Authorization: Bearer <token>`` header (exactly that form)."""
        pattern = _LENIENT_BEARER if self._settings.mutant("lenient_authorization_header") else _BEARER
        match = pattern.fullmatch(authorization or "")
        if match:
            return match.group(1)
        if query_token and self._settings.mutant("accept_query_token"):
            return query_token
        raise TokenRejected("no valid Authorization: Bearer header")

    async def authenticate(self, authorization: str | None, query_token: str | None = None) -> User | None:
        """The user behind the request's token; ``None`` stands for an unregistered caller.

        Raises ``TokenRejected`` when the token must not be accepted.
        """
        token = self.bearer_token(authorization, query_token)
        if token.count(".") == 2:
            if self._settings.mutant("trust_jwt_access_tokens"):
                return self._user_by_subject(jwt.decode(token, options={"verify_signature": False}).get("sub"))
            if self._settings.mutant("accept_any_signed_jwt"):
                return await self._user_of_signed_jwt(token)
            await self._verify_jwt(token)
        owner_id = self._store.token_owner(token_hash(token))
        if owner_id is None and self._settings.mutant("unknown_tokens_unregistered"):
            return None
        if owner_id is None and not self._settings.mutant("accept_foreign_tokens"):
            raise TokenRejected("token not obtained through this gateway's login")
        owner = None if owner_id is None else self._store.user_by_id(owner_id)
        claims = await self._userinfo(token)
        if claims is None and owner is not None:  # a fail-open mutant
            return self._active(owner)
        if claims is None or not isinstance(claims.get("sub"), str):
            raise TokenRejected("userinfo did not name a subject")
        user = owner if owner is not None else self._user_by_subject(claims["sub"])
        if user.subject != claims["sub"]:
            raise TokenRejected("userinfo subject is not the token's user")
        return self._active(user)

    def _user_by_subject(self, subject: object) -> User:
        user = self._store.user_by_subject(subject) if isinstance(subject, str) else None
        if user is None:
            raise TokenRejected("no user with that subject")
        return user

    @staticmethod
    def _active(user: User) -> User:
        if user.status != "active":
            raise TokenRejected("user is inactive")
        return user

    async def _signed_claims(self, token: str) -> dict[str, Any]:
        """The claims of a JWT whose signature verifies against the IdP's JWKS (nothing else checked yet)."""
        try:
            discovery = await self._idp.current()
            return await verify_signature(
                token,
                algorithms=frozenset(discovery.signing_algs) & ASYMMETRIC_ALGS,
                keys=lambda kid: self._idp.signing_key(discovery, kid, fresh=False),
                settings=self._settings,
                id_token=False,
            )
        except IdpError as error:
            raise TokenRejected(f"cannot verify the JWT access token: {error}") from None

    async def _verify_jwt(self, token: str) -> None:
        """Refuse a JWT that is not an unexpired access token the IdP signed for this gateway's client."""
        if self._settings.mutant("crash_on_malformed_jwt"):
            jwt.get_unverified_header(token)  # raises on garbage, which escapes as a 500
        claims = await self._signed_claims(token)
        settings = self._settings
        expected = AccessTokenAudience(issuer=settings.issuer, client_id=settings.client_id, audience=settings.audience)
        check_access_token_claims(claims, typ=jwt.get_unverified_header(token).get("typ"), expected=expected)

    async def _user_of_signed_jwt(self, token: str) -> User | None:
        """The ``accept_any_signed_jwt`` mutant: any unexpired JWT the IdP signed is a session of its ``sub``.

        As in Hoop, a ``sub`` that is no user's makes an unregistered caller.
        """
        claims = await self._signed_claims(token)
        check_unexpired(claims)
        subject = claims.get("sub")
        user = self._store.user_by_subject(subject) if isinstance(subject, str) else None
        return None if user is None else self._active(user)

    def _api_discovery(self, discovery: Discovery) -> Discovery:
        """The endpoints the API path uses: the discovered ones."""
        if self._settings.mutant("default_userinfo_path_on_api"):
            return replace(discovery, userinfo_endpoint=default_endpoint(self._settings.issuer, "userinfo_endpoint"))
        return discovery

    async def _userinfo(self, token: str) -> dict[str, Any] | None:
        """The userinfo claims for ``token``; ``None`` only when a fail-open mutant let a failure through."""
        settings = self._settings
        if settings.mutant("skip_userinfo_validation"):
            return None
        key = token_hash(token)
        if key in self._userinfo_cache:
            return self._userinfo_cache[key]
        try:
            answer = await self._idp.userinfo(self._api_discovery(await self._idp.current()), token)
        except IdpError as error:
            raise TokenRejected(f"userinfo failed: {error}") from None
        if answer.status == 200 and answer.claims is not None:
            if settings.mutant("cache_userinfo_forever"):
                self._userinfo_cache[key] = answer.claims
            return answer.claims
        if answer.status == 200 and settings.mutant("trust_unparseable_userinfo"):
            return None
        if (answer.status >= 500 or answer.status == 429) and settings.mutant("accept_userinfo_errors"):
            return None
        raise TokenRejected(f"userinfo answered {answer.status}")
