"""The OAuth 2.0 / OIDC provider's logic, free of HTTP: authorize, login, token, userinfo, revoke."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from dataclasses import replace
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit, urlunsplit

from mock_idp.clock import Clock
from mock_idp.directory import Directory, User
from mock_idp.errors import InvalidClient, InvalidGrant, InvalidRequest, InvalidToken, OAuthError
from mock_idp.faults import MOVED_PREFIX, Fault, FaultRegistry
from mock_idp.grants import CODE_TTL, AuthCode, Grant, GrantStore, IdpSession, IssuedToken, LoginChallenge
from mock_idp.journal import Entry, Journal
from mock_idp.keys import KeyRing, SigningKey
from mock_idp.settings import MockIdpSettings, SeedUser
from mock_idp.tokens import (
    id_token_claims,
    jwt_access_token_claims,
    opaque_token,
    sign_id_token,
    tamper_claims,
    user_claims,
)

REFRESH_TOKEN_TTL = 30 * 24 * 3600
PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
MIN_STATE_LENGTH = 8


class Provider:
    """The whole mock's state and the rules that act on it."""

    def __init__(self, settings: MockIdpSettings, issuer: str) -> None:
        self.settings = settings
        self.issuer = issuer
        self.prefix = urlsplit(issuer).path.rstrip("/")
        self.directory = Directory()
        self.keys = KeyRing(settings.key_count)
        self.rogue_key = SigningKey.generate()
        self.clock = Clock()
        self.faults = FaultRegistry()
        self.journal = Journal()
        self.control_calls = 0
        """Control-API calls answered (they are not journaled; ``GET /_mock/stats`` reads this and is not counted)."""
        self.grants = GrantStore()
        self._issued = 0
        for app in settings.apps:
            self.directory.add_app(app)
        for seed in settings.users:
            self.seed_user(seed)

    # set-up
    def seed_user(self, seed: SeedUser) -> User:
        """Create a seeded user, its groups, and bind those groups to every app."""
        user = self.directory.add_user(
            User(
                email=seed.email,
                password=seed.password,
                username=seed.email.split("@")[0],
                firstname=seed.firstname,
                lastname=seed.lastname,
                totp_secret=seed.totp_secret,
            )
        )
        for name in seed.groups:
            group = self.directory.group_by_name(name) or self.directory.add_group(name)
            group.members.append(user.id)
            group.apps.update(self.directory.apps)
        return user

    # discovery
    def endpoints_moved(self) -> bool:
        """Whether the global ``move_endpoints`` fault is on."""
        return self.faults.take("move_endpoints", "discovery") is not None

    def discovery(self) -> dict[str, Any]:
        """The OpenID Provider metadata, Hydra's fields at JumpCloud's paths."""
        mismatch = self.faults.take("discovery_issuer_mismatch", "discovery")
        issuer = self.issuer
        if mismatch is not None:
            issuer = mismatch.params.get("issuer") or self.issuer.rstrip("/")
        base = self.issuer.rstrip("/")
        movable = base + MOVED_PREFIX if self.endpoints_moved() else base
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{movable}/oauth2/auth",
            "token_endpoint": f"{movable}/oauth2/token",
            "userinfo_endpoint": f"{movable}/userinfo",
            "jwks_uri": f"{movable}/.well-known/jwks.json",
            "revocation_endpoint": f"{movable}/oauth2/revoke",
            "end_session_endpoint": f"{base}/oauth2/sessions/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "subject_types_supported": ["public"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "userinfo_signing_alg_values_supported": ["none", "RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "scopes_supported": ["offline_access", "offline", "openid", "email", "profile"],
            "claims_supported": ["sub", "email", "email_verified", "name", "given_name", "family_name"],
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
        }

    # scoping
    @staticmethod
    def user_refs(user: User | None) -> tuple[str, ...]:
        """How a fault or journal filter may name this user."""
        return (user.id, user.email) if user else ()

    def app_refs(self, client_id: str | None) -> tuple[str, ...]:
        """How a fault or journal filter may name this app."""
        app = self.directory.app_by_client_id(client_id) if client_id else None
        return (app.client_id, app.app_id) if app else ((client_id,) if client_id else ())

    def take_fault(
        self, kind: str, endpoint: str, user: User | None, client_id: str | None, entry: Entry
    ) -> Fault | None:
        """A fault that applies to this request, noted in the journal entry."""
        fault = self.faults.take(kind, endpoint, user_refs=self.user_refs(user), app_refs=self.app_refs(client_id))
        if fault is not None:
            entry.faults.append(f"{fault.kind}:{fault.id}")
        return fault

    @staticmethod
    def note(entry: Entry, user: User | None = None, client_id: str | None = None, app_id: str | None = None) -> None:
        """Record who a request concerned."""
        if user is not None:
            entry.user_id, entry.user_email = user.id, user.email
        if client_id is not None:
            entry.client_id = client_id
        if app_id is not None:
            entry.app_id = app_id

    # authorize
    def start_authorization(self, params: dict[str, str]) -> LoginChallenge:
        """Validate an authorize request. Raises ``AuthorizeError`` (redirectable) or ``OAuthError`` (error page)."""
        client_id = params.get("client_id", "")
        app = self.directory.app_by_client_id(client_id)
        if app is None:
            raise InvalidClient("The requested OAuth 2.0 Client does not exist.")
        redirect_uri = params.get("redirect_uri")
        if redirect_uri is None and len(app.redirect_uris) == 1:
            redirect_uri = app.redirect_uris[0]
        if redirect_uri not in app.redirect_uris:
            raise InvalidRequest(
                "The 'redirect_uri' parameter does not match any of the OAuth 2.0 Client's pre-registered "
                "redirect urls."
            )
        challenge = LoginChallenge(
            app=app, created=self.clock.now(), redirect_uri=redirect_uri, state=params.get("state")
        )

        def fail(error: OAuthError) -> AuthorizeError:
            return AuthorizeError(error, challenge)

        response_type = params.get("response_type")
        if not response_type:
            raise fail(InvalidRequest("The request is missing the 'response_type' parameter."))
        if response_type != "code":
            raise fail(
                OAuthError(
                    "unsupported_response_type",
                    "The authorization server does not support obtaining a token using this method.",
                    hint=f"The client is not allowed to request response_type '{response_type}'.",
                )
            )
        scopes = tuple(params.get("scope", "").split())
        unknown = [scope for scope in scopes if scope not in app.allowed_scopes]
        if unknown:
            raise fail(
                OAuthError(
                    "invalid_scope",
                    "The requested scope is invalid, unknown, or malformed.",
                    hint=f"The OAuth 2.0 Client is not allowed to request scope '{unknown[0]}'.",
                )
            )
        if len(challenge.state or "") < MIN_STATE_LENGTH:
            raise fail(
                OAuthError(
                    "invalid_state",
                    "The state is missing or does not have enough characters and is therefore considered too weak.",
                    hint=f"Request parameter 'state' must be at least be {MIN_STATE_LENGTH} characters long to "
                    "ensure sufficient entropy.",
                )
            )
        code_challenge = params.get("code_challenge")
        method = params.get("code_challenge_method") or ("plain" if code_challenge else None)
        if method is not None and method not in ("S256", "plain"):
            raise fail(InvalidRequest(f"The code_challenge_method '{method}' is not supported, use S256 or plain."))
        if code_challenge is not None and not PKCE_VERIFIER.match(code_challenge):
            raise fail(InvalidRequest("The PKCE code challenge must be 43 to 128 characters of [A-Za-z0-9-._~]."))
        if app.auth_method == "none" and not code_challenge:
            raise fail(
                InvalidRequest(
                    "Clients must include a code_challenge when performing the authorize code flow, but it is missing."
                )
            )
        return replace(
            challenge,
            scopes=scopes,
            nonce=params.get("nonce"),
            code_challenge=code_challenge,
            code_challenge_method=method if code_challenge else None,
            audience=tuple(params.get("audience", "").split()),
        )

    def issue_code(self, challenge: LoginChallenge, user: User, session: IdpSession) -> str:
        """The redirect URL carrying a fresh code for a logged-in user."""
        assert challenge.app is not None
        grant = Grant(
            app=challenge.app,
            user_id=user.id,
            scopes=challenge.scopes,
            nonce=challenge.nonce,
            auth_time=session.auth_time,
            requested_at=challenge.created,
            amr=session.amr,
            sid=session.sid,
            audience=challenge.audience,
        )
        code = self.grants.add_code(
            AuthCode(
                grant=grant,
                redirect_uri=challenge.redirect_uri,
                issued_at=self.clock.now(),
                code_challenge=challenge.code_challenge,
                code_challenge_method=challenge.code_challenge_method,
            )
        )
        self.grants.challenges.pop(challenge.id, None)
        params = {"code": code, "scope": " ".join(challenge.scopes)}
        if challenge.state is not None:
            params["state"] = challenge.state
        return add_query(challenge.redirect_uri, params)

    def error_redirect(self, challenge: LoginChallenge, error: OAuthError) -> str:
        """The redirect URL carrying an authorization error back to the client."""
        self.grants.challenges.pop(challenge.id, None)
        params = {"error": error.error, "error_description": error.description}
        if error.hint:
            params["error_hint"] = error.hint
        if challenge.state is not None:
            params["state"] = challenge.state
        return add_query(challenge.redirect_uri, params)

    # login
    def check_password(self, email: str, password: str) -> User | None:
        """The active user with these credentials. With ``lockout_after``, that many wrong passwords in a row lock the
        account (an admin unlocks it: ``POST /api/systemusers/{id}/unlock``), as JumpCloud does."""
        user = self.directory.user_by_email(email)
        if user is None or not user.active or not user.password or user.account_locked:
            return None
        if not hmac.compare_digest(user.password.encode(), password.encode()):
            user.failed_logins += 1
            limit = self.settings.lockout_after
            user.account_locked = bool(limit) and user.failed_logins >= limit
            return None
        user.failed_logins = 0
        return user

    def open_session(self, user: User, amr: tuple[str, ...]) -> IdpSession:
        """A new IdP session for a user who just logged in."""
        session = IdpSession(user_id=user.id, auth_time=self.clock.now(), amr=amr)
        self.grants.sessions[session.cookie] = session
        return session

    def session_user(self, session: IdpSession | None) -> User | None:
        """The still-active user of an IdP session."""
        user = self.directory.users.get(session.user_id) if session else None
        return user if user is not None and user.active else None

    # token endpoint
    def authenticate_client(self, authorization: str | None, form: dict[str, str], entry: Entry) -> Any:
        """The app that authenticated itself with its one permitted method."""
        basic = authorization is not None and authorization[:6].lower() == "basic "
        if basic and "client_secret" in form:
            raise InvalidRequest("Client authentication must use one method, not HTTP Basic and the body together.")
        if basic:
            assert authorization is not None
            try:
                decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
                raw_id, raw_secret = decoded.split(":", 1)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise InvalidClient("The client credentials in the HTTP authorization header are malformed.") from None
            client_id, secret, method = unquote_plus(raw_id), unquote_plus(raw_secret), "client_secret_basic"
            if form.get("client_id", client_id) != client_id:
                raise InvalidRequest("The client_id in the body differs from the one in the HTTP Basic header.")
        elif "client_secret" in form:
            client_id, secret, method = form.get("client_id", ""), form["client_secret"], "client_secret_post"
        else:
            client_id, secret, method = form.get("client_id", ""), None, "none"
        entry.client_auth, entry.client_id = method, client_id or None
        app = self.directory.app_by_client_id(client_id) if client_id else None
        if app is None:
            raise InvalidClient("The requested OAuth 2.0 Client does not exist.")
        entry.app_id = app.app_id
        if method != app.auth_method:
            raise InvalidClient(
                f"The OAuth 2.0 Client supports client authentication method '{app.auth_method}', but method "
                f"'{method}' was requested. You must configure the OAuth 2.0 client's "
                f"'token_endpoint_auth_method' value to accept '{method}'."
            )
        if secret is not None and not hmac.compare_digest((app.client_secret or "").encode(), secret.encode()):
            raise InvalidClient("The provided client secret did not match.")
        return app

    def redeem_code(self, app: Any, form: dict[str, str], entry: Entry) -> Grant:
        """Check and spend an authorization code."""
        value = form.get("code")
        if not value:
            raise InvalidRequest("The 'code' parameter is missing.")
        code = self.grants.codes.get(value)
        if code is None:
            raise InvalidGrant("The authorization code could not be found.")
        self.note(entry, user=self.directory.users.get(code.grant.user_id))
        if code.grant.app.client_id != app.client_id:
            raise InvalidGrant(
                "The OAuth 2.0 Client ID from this request does not match the one from the authorize request."
            )
        if code.used:
            self.grants.revoke_grant(code.grant)
            raise InvalidGrant("The authorization code has already been used; the tokens issued with it are revoked.")
        if self.clock.now() - code.issued_at > CODE_TTL:
            raise InvalidGrant("The authorization code has expired.")
        if form.get("redirect_uri") != code.redirect_uri:
            raise InvalidGrant(
                "The 'redirect_uri' from this request does not match the one from the authorize request."
            )
        verify_pkce(code, form.get("code_verifier"))
        code.used = True
        return code.grant

    def redeem_refresh_token(self, app: Any, form: dict[str, str], entry: Entry) -> Grant:
        """Check and rotate a refresh token."""
        if "refresh_token" not in app.grant_types:
            raise OAuthError(
                "unauthorized_client",
                "The client is not authorized to request a token using this method.",
                hint="The OAuth 2.0 Client is not allowed to use authorization grant 'refresh_token'.",
            )
        value = form.get("refresh_token")
        if not value:
            raise InvalidRequest("The 'refresh_token' parameter is missing.")
        token = self.grants.tokens.get(value)
        if token is None or token.kind != "refresh":
            raise InvalidGrant("The refresh token could not be found.")
        self.note(entry, user=self.directory.users.get(token.grant.user_id))
        if token.grant.app.client_id != app.client_id:
            raise InvalidGrant("The refresh token was issued to another client.")
        if token.used:
            self.grants.revoke_grant(token.grant)
            raise InvalidGrant("The refresh token has already been used; the token family is revoked.")
        if not token.valid(self.clock.now()):
            raise InvalidGrant("The refresh token has expired or was revoked.")
        token.used = True
        return token.grant

    def issue_tokens(self, grant: Grant, entry: Entry) -> dict[str, Any]:
        """The token response for a grant: access token, ID token, maybe a rotated refresh token."""
        now = self.clock.now()
        user = self.directory.users.get(grant.user_id)
        if user is None or not user.active:
            self.grants.revoke_grant(grant)
            raise InvalidGrant("The user of this grant is suspended or no longer exists.")
        self._prune(now)
        groups = self.directory.app_groups(user, grant.app)
        record = IssuedToken(grant=grant, expires_at=now + grant.app.access_token_ttl, kind="access")
        if grant.app.access_token_format == "jwt":
            claims = jwt_access_token_claims(
                issuer=self.issuer, grant=grant, user=user, now=now, jti=record.jti, groups=groups
            )
            access_token = self.keys.signing.sign(claims, {"typ": "JWT"})
        else:
            access_token = opaque_token("at")
        self.grants.add_token(access_token, record)
        response: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": grant.app.access_token_ttl,
            "scope": " ".join(grant.scopes),
            "token_type": "bearer",
        }
        if "offline_access" in grant.scopes and "refresh_token" in grant.app.grant_types:
            refresh = opaque_token("rt")
            self.grants.add_token(refresh, IssuedToken(grant=grant, expires_at=now + REFRESH_TOKEN_TTL, kind="refresh"))
            response["refresh_token"] = refresh
        if (
            "openid" in grant.scopes
            and self.take_fault("omit_id_token", "token", user, grant.app.client_id, entry) is None
        ):
            response["id_token"] = self.id_token(grant, user, groups, access_token, now, entry)
        return response

    def id_token(self, grant: Grant, user: User, groups: list[str], access_token: str, now: float, entry: Entry) -> str:
        """A signed ID token, tampered with when a fault says so."""
        extra = user_claims(user, grant.scopes, groups, grant.app.groups_claim)
        if self.take_fault("email_unverified", "token", user, grant.app.client_id, entry) and "email" in extra:
            extra["email_verified"] = False
        claims = id_token_claims(
            issuer=self.issuer,
            grant=grant,
            user=user,
            org_id=self.settings.org_id,
            now=now,
            access_token=access_token,
            extra=extra,
        )
        fault = self.take_fault("id_token", "token", user, grant.app.client_id, entry)
        tamper = fault.params.get("tamper") if fault else None
        if fault is not None:
            tamper_claims(tamper, claims, now)
            claims.update(fault.params.get("claims", {}))
            for name in fault.params.get("remove", []):
                claims.pop(name, None)
        return sign_id_token(
            claims,
            tamper=tamper,
            key=self.keys.signing,
            rogue_key=self.rogue_key,
            client_secret=grant.app.client_secret,
        )

    def _prune(self, now: float) -> None:
        self._issued += 1
        if self._issued % 1000 == 0:
            self.grants.prune(now)

    # userinfo
    def access_token(self, value: str | None) -> tuple[IssuedToken, User]:
        """The live access token and its active user, or ``InvalidToken``."""
        if not value:
            raise InvalidToken("The request is missing a bearer token.")
        token = self.grants.tokens.get(value)
        if token is None or token.kind != "access":
            raise InvalidToken("Token is inactive because it is malformed, expired or otherwise invalid.")
        if not token.valid(self.clock.now()):
            raise InvalidToken("Token is inactive because it is expired or was revoked.")
        user = self.directory.users.get(token.grant.user_id)
        if user is None or not user.active:
            raise InvalidToken("The user of this token is suspended or no longer exists.")
        return token, user

    def userinfo(self, token: IssuedToken, user: User, entry: Entry) -> dict[str, Any]:
        """The userinfo claims for a live access token, faults applied."""
        grant = token.grant
        client_id = grant.app.client_id
        claims: dict[str, Any] = {"sub": user.id}
        claims.update(
            user_claims(user, grant.scopes, self.directory.app_groups(user, grant.app), grant.app.groups_claim)
        )
        claims.update(
            aud=[client_id],
            iss=self.issuer,
            auth_time=int(grant.auth_time),
            iat=int(token.expires_at - grant.app.access_token_ttl) if token.expires_at else int(self.clock.now()),
            rat=int(grant.requested_at),
        )
        if self.take_fault("email_unverified", "userinfo", user, client_id, entry) and "email" in claims:
            claims["email_verified"] = False
        if self.take_fault("userinfo_sub_mismatch", "userinfo", user, client_id, entry):
            claims["sub"] = hashlib.sha256(user.id.encode()).hexdigest()[:24]
        fault = self.take_fault("userinfo_claims", "userinfo", user, client_id, entry)
        if fault is not None:
            claims.update(fault.params.get("claims", {}))
            for name in fault.params.get("remove", []):
                claims.pop(name, None)
        return claims

    # revocation
    def revoke(self, app: Any, value: str | None) -> None:
        """RFC 7009: revoke an access token, or a refresh token and its whole grant."""
        if not value:
            raise InvalidRequest("The 'token' parameter is missing.")
        token = self.grants.tokens.get(value)
        if token is None:
            return
        if token.grant.app.client_id != app.client_id:
            raise OAuthError(
                "unauthorized_client",
                "The client is not authorized to request a token using this method.",
                hint="The token was issued to another client.",
            )
        if token.kind == "refresh":
            self.grants.revoke_grant(token.grant)
        token.revoked = True


class AuthorizeError(Exception):
    """An authorize error that goes back to the client's redirect URI."""

    def __init__(self, error: OAuthError, challenge: LoginChallenge) -> None:
        super().__init__(error.error)
        self.error = error
        self.challenge = challenge


def verify_pkce(code: AuthCode, verifier: str | None) -> None:
    """RFC 7636 §4.6, whenever the authorize request carried a challenge."""
    if code.code_challenge is None:
        if verifier is not None:
            raise InvalidGrant("The PKCE code verifier was provided but the authorize request had no code challenge.")
        return
    if not verifier:
        raise InvalidGrant("The PKCE code verifier must be set because a code challenge was sent.")
    if not PKCE_VERIFIER.match(verifier):
        raise InvalidGrant("The PKCE code verifier must be 43 to 128 characters of [A-Za-z0-9-._~].")
    if code.code_challenge_method == "S256":
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    else:
        computed = verifier
    if not hmac.compare_digest(computed, code.code_challenge):
        raise InvalidGrant("The PKCE code challenge did not match the code verifier.")


def add_query(url: str, params: dict[str, str]) -> str:
    """``url`` with ``params`` appended to its query string."""
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit(parts._replace(query=query))
