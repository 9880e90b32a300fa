"""What the provider remembers between requests: login challenges, IdP sessions, codes and tokens."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field

from mock_idp.settings import AppSettings

CODE_TTL = 600
CHALLENGE_TTL = 1800
SESSION_TTL = 8 * 3600


@dataclass
class LoginChallenge:
    """An authorize request waiting for the user to log in (Hydra's login challenge).

    ``app`` is None for a login to the user portal.
    """

    app: AppSettings | None
    created: float
    redirect_uri: str = ""
    scopes: tuple[str, ...] = ()
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    audience: tuple[str, ...] = ()
    id: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    email: str | None = None
    password_ok_for: str | None = None


@dataclass
class IdpSession:
    """The IdP's own login session (the SSO cookie)."""

    user_id: str
    auth_time: float
    amr: tuple[str, ...]
    cookie: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    sid: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class Grant:
    """Everything issued from one authorization code: its tokens live and die together."""

    app: AppSettings
    user_id: str
    scopes: tuple[str, ...]
    nonce: str | None
    auth_time: float
    requested_at: float
    amr: tuple[str, ...]
    sid: str
    audience: tuple[str, ...] = ()
    revoked: bool = False


@dataclass
class AuthCode:
    """An authorization code: single use, bound to client, redirect URI and PKCE challenge."""

    grant: Grant
    redirect_uri: str
    issued_at: float
    code_challenge: str | None
    code_challenge_method: str | None
    used: bool = False


@dataclass
class IssuedToken:
    """An access or refresh token and its fate."""

    grant: Grant
    expires_at: float | None
    kind: str
    revoked: bool = False
    used: bool = False
    jti: str = field(default_factory=lambda: str(uuid.uuid4()))

    def valid(self, now: float) -> bool:
        """Neither revoked, used (refresh tokens), nor expired, and its grant still stands."""
        expired = self.expires_at is not None and now >= self.expires_at
        return not (self.revoked or self.used or expired or self.grant.revoked)


class GrantStore:
    """Challenges, sessions, codes and tokens, by their lookup keys."""

    def __init__(self) -> None:
        self.challenges: dict[str, LoginChallenge] = {}
        self.sessions: dict[str, IdpSession] = {}
        self.codes: dict[str, AuthCode] = {}
        self.tokens: dict[str, IssuedToken] = {}

    def add_challenge(self, challenge: LoginChallenge) -> LoginChallenge:
        """Remember a pending authorize request."""
        self.challenges[challenge.id] = challenge
        return challenge

    def challenge(self, challenge_id: str, now: float) -> LoginChallenge | None:
        """A live pending authorize request."""
        challenge = self.challenges.get(challenge_id)
        if challenge is None or now - challenge.created > CHALLENGE_TTL:
            return None
        return challenge

    def session(self, cookie: str | None, now: float) -> IdpSession | None:
        """The IdP session behind a cookie, if live."""
        session = self.sessions.get(cookie or "")
        if session is None or now - session.auth_time > SESSION_TTL:
            return None
        return session

    def add_code(self, code: AuthCode) -> str:
        """Store a code; returns its value."""
        value = f"ory_ac_{secrets.token_urlsafe(32)}.{secrets.token_urlsafe(32)}"
        self.codes[value] = code
        return value

    def add_token(self, value: str, token: IssuedToken) -> str:
        """Store a token under its value."""
        self.tokens[value] = token
        return value

    def revoke_grant(self, grant: Grant) -> None:
        """Revoke every token of a grant."""
        grant.revoked = True

    def revoke_user(self, user_id: str) -> None:
        """End a user's IdP sessions (on suspension or deletion); tokens fail at userinfo through the user."""
        self.sessions = {k: s for k, s in self.sessions.items() if s.user_id != user_id}

    def prune(self, now: float) -> None:
        """Forget expired codes, tokens and challenges so memory stays bounded under load."""
        self.codes = {k: c for k, c in self.codes.items() if now - c.issued_at <= CODE_TTL * 2}
        self.challenges = {k: c for k, c in self.challenges.items() if now - c.created <= CHALLENGE_TTL}
        self.tokens = {k: t for k, t in self.tokens.items() if t.expires_at is None or now < t.expires_at + 3600}
