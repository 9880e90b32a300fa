"""The login flow: ``/api/login`` starts it, ``/api/callback`` finishes it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from reference_gateway.auth import token_hash
from reference_gateway.context import Gateway
from reference_gateway.errors import IdpError, LoginRefused, TokenRejected, UserInactive
from reference_gateway.groups import claimed_groups, synced_groups
from reference_gateway.idtoken import Expected, check_id_token_claims, verify_signature
from reference_gateway.oidc import Discovery
from reference_gateway.pages import third_party_redirect_page
from reference_gateway.redirects import CLI_LISTENER, redirect_allowed, token_in_url
from reference_gateway.settings import BASE_SCOPES, Settings
from reference_gateway.store import LoginState, User

log = logging.getLogger("reference_gateway")

SESSION_COOKIE = "hoop_access_token"
BINDING_COOKIE = "refgw_login"
STATE_ERROR = {"message": "failed to retrieve login state internally"}
REDIRECT_ERROR = {"message": "redirect attribute does not match with api url"}
CODE_ERROR = {"message": "the callback carries no usable code"}
_BINDING_FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")
_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_STATE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,128}")
"""What a state may look like (the gateway makes 43 URL-safe characters); anything else is not looked up."""
_CODE_SHAPE = re.compile(r"[\x20-\x7e]{1,2048}")
"""What an authorization code may look like (RFC 6749 A.11: VSCHARs; JumpCloud's are under 100)."""
DEFAULT_TOKEN_LIFETIME = 3600.0
"""Seconds an access token is remembered when the token response has no usable ``expires_in``."""
MAX_TOKEN_LIFETIME = 86400.0
"""The longest an access token is remembered, whatever the IdP says."""
LEAK_PER_LOGIN = 32 * 1024
"""Bytes the ``leak_per_login`` mutant keeps per completed login."""
_RETAINED: list[bytes] = []
"""What the ``leak_per_login`` mutant keeps (empty otherwise)."""


def with_query(url: str, **params: str) -> str:
    """``url`` with ``params`` added to its query."""
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params, quote_via=quote)]))
    return urlunsplit(parts._replace(query=query))


def _https(request: Request, settings: Settings) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return (settings.secure_origin or forwarded == "https") and not settings.mutant("cookie_never_secure")


def _cookie(
    name: str,
    value: str,
    *,
    secure: bool,
    max_age: int | None = None,
    path: str = "/",
    httponly: bool = True,
    samesite: bool = True,
) -> str:
    attributes = [f"{name}={value}", f"Path={path}"]
    if max_age is not None:
        attributes.append(f"Max-Age={max_age}")
    if samesite:
        attributes.append("SameSite=Lax")
    if httponly:
        attributes.append("HttpOnly")
    if secure:
        attributes.append("Secure")
    return "; ".join(attributes)


@dataclass(frozen=True, kw_only=True)
class StartedLogin:
    """A login stored server side: where to send the browser, and its binding cookie."""

    login_url: str
    binding_cookie: str


async def start_login(gateway: Gateway, redirect: str, request: Request) -> StartedLogin:
    """Store a new login state and build the authorize URL. Raises ``IdpError`` if discovery fails."""
    settings, store = gateway.settings, gateway.store
    discovery = await gateway.idp.discover()
    binding = request.cookies.get(BINDING_COOKIE, "")
    if not _BINDING_FORMAT.fullmatch(binding):
        binding = secrets.token_urlsafe(32)
    login = LoginState(
        state=secrets.token_hex(4) if settings.mutant("short_state") else secrets.token_urlsafe(32),
        redirect=redirect,
        code_verifier=None if settings.mutant("no_pkce") else secrets.token_urlsafe(64),
        nonce=None if settings.mutant("no_nonce") else secrets.token_urlsafe(32),
        binding_hash=token_hash(binding),
        created_at=time.time(),
    )
    if settings.mutant("single_pending_login"):
        store.clear_login_states()
    store.forget_expired_states(login.created_at - max(settings.state_ttl, 60.0))
    store.add_login_state(login)
    scopes = ["openid"] if settings.mutant("scope_openid_only") else list(BASE_SCOPES)
    scopes += [] if settings.mutant("ignore_custom_scopes") else list(settings.custom_scopes)
    params = {
        "client_id": settings.client_id,
        "redirect_uri": settings.redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "state": login.state,
    }
    if login.nonce is not None:
        params["nonce"] = login.nonce
    if login.code_verifier is not None:
        digest = hashlib.sha256(login.code_verifier.encode("ascii")).digest()
        params["code_challenge"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        params["code_challenge_method"] = "S256"
    if settings.audience:
        params["audience"] = settings.audience
    if "offline_access" in scopes:
        params["access_type"] = "offline"
    cookie = _cookie(
        BINDING_COOKIE, binding, secure=_https(request, settings), max_age=int(max(settings.state_ttl, 60.0))
    )
    return StartedLogin(login_url=with_query(discovery.authorization_endpoint, **params), binding_cookie=cookie)


async def api_login(request: Request) -> Response:
    """``GET /api/login?redirect=URL``: 200 ``{"login_url"}``, or 422 for a redirect off API_URL's origin."""
    gateway: Gateway = request.app.state.gateway
    redirect = request.query_params.get("redirect") or CLI_LISTENER
    if not redirect_allowed(redirect, gateway.settings):
        return JSONResponse(REDIRECT_ERROR, status_code=422)
    try:
        started = await start_login(gateway, redirect, request)
    except IdpError as error:
        log.warning("login not started: %s", error)
        return JSONResponse({"message": f"identity provider unavailable: {error}"}, status_code=503)
    response: Response
    if gateway.settings.mutant("login_redirects"):
        response = RedirectResponse(started.login_url, status_code=307)
    else:
        response = JSONResponse({"login_url": started.login_url})
    response.headers.append("set-cookie", started.binding_cookie)
    response.headers["cache-control"] = "no-store"
    return response


def _usable(gateway: Gateway, login: LoginState | None, binding: str) -> bool:
    """Whether a looked-up state may finish a login; consumes it when it may."""
    settings = gateway.settings
    if login is None or time.time() - login.created_at >= settings.state_ttl:
        return False
    bound = hmac.compare_digest(login.binding_hash, token_hash(binding))
    if not bound and not settings.mutant("state_not_browser_bound"):
        return False
    if settings.mutant("state_reusable"):
        return True
    return gateway.store.consume_login_state(login.state, keep=settings.mutant("second_session_on_replay"))


def _state_shaped(state: str, settings: Settings) -> bool:
    """Whether ``state`` is worth looking up: a short run of URL-safe characters, as the gateway makes them."""
    if _STATE_SHAPE.fullmatch(state):
        return True
    if settings.mutant("malformed_state_500"):
        raise RuntimeError("malformed state (malformed_state_500 mutant)")
    return False


async def _provider_first(gateway: Gateway) -> Response | None:
    """The ``callback_idp_failure_500`` mutant: fetch discovery and JWKS up front; a bare 500 when that fails."""
    try:
        await gateway.idp.fetch_provider()
    except IdpError as error:
        return JSONResponse({"message": f"identity provider unavailable: {error}"}, status_code=500)
    return None


async def api_callback(request: Request) -> Response:
    """``GET /api/callback``: check the state and the code, exchange the code, verify, sign the user in."""
    gateway: Gateway = request.app.state.gateway
    settings, store = gateway.settings, gateway.store
    query = request.query_params
    state = query.get("state", "")
    if "error" in query and not settings.mutant("ignore_idp_error"):
        if state:
            store.consume_login_state(state)
        return _idp_error(query.get("error", ""), query.get("error_description", ""), settings)
    if settings.mutant("callback_idp_failure_500") and (failure := await _provider_first(gateway)) is not None:
        return failure
    login = store.login_state(state) if _state_shaped(state, settings) else None
    if login is not None and login.used and login.replay_token and settings.mutant("second_session_on_replay"):
        return _session(request, gateway, login, login.replay_token)
    if not _usable(gateway, login, request.cookies.get(BINDING_COOKIE, "")):
        if login is not None or not settings.mutant("skip_state_check"):
            return JSONResponse(STATE_ERROR, status_code=400)
        login = LoginState(
            state=state, redirect=CLI_LISTENER, code_verifier=None, nonce=None, binding_hash="", created_at=time.time()
        )
    assert login is not None
    code = query.get("code", "")
    # a callback without error= must carry a code; the ignore_idp_error mutant exchanges the absent one anyway
    if not _CODE_SHAPE.fullmatch(code) and not settings.mutant("ignore_idp_error"):
        return JSONResponse(CODE_ERROR, status_code=400)
    try:
        access_token = await _complete(gateway, login, code)
    except (IdpError, TokenRejected, LoginRefused) as error:
        log.warning("login refused: %s", error)
        return _refused(request, gateway, login, error)
    if settings.mutant("second_session_on_replay"):
        store.remember_replay_token(login.state, access_token)
    return _session(request, gateway, login, access_token)


def _idp_error(error: str, description: str, settings: Settings) -> Response:
    if settings.mutant("reflect_error_description"):
        return HTMLResponse(f"<p>Sign-in failed: {description}</p>", status_code=401)
    code = error if _ERROR_CODE.fullmatch(error) else "unknown_error"
    return JSONResponse({"message": f"the identity provider refused the login: {code}"}, status_code=401)


def _refused(request: Request, gateway: Gateway, login: LoginState, error: Exception) -> Response:
    """A login refused after the state lookup: back to the stored redirect with ``error=``, and no session."""
    response = RedirectResponse(with_query(login.redirect, error="unexpected_error"), status_code=307)
    if isinstance(error, UserInactive) and error.session_token is not None:  # session_before_inactive_check
        response.headers.append("set-cookie", _session_cookie(request, gateway.settings, error.session_token))
    return response


def _session_cookie(request: Request, settings: Settings, access_token: str) -> str:
    """The ``Set-Cookie`` value that hands ``access_token`` to the browser."""
    return _cookie(
        SESSION_COOKIE,
        access_token,
        secure=_https(request, settings),
        path="/api" if settings.mutant("cookie_path_api") else "/",
        httponly=not settings.mutant("cookie_not_httponly"),
        samesite=not settings.mutant("cookie_no_samesite"),
    )


def _session(request: Request, gateway: Gateway, login: LoginState, access_token: str) -> Response:
    """The answer to a successful callback: a redirect that carries the session."""
    settings = gateway.settings
    target = f"{settings.api_url}/" if settings.mutant("ignore_stored_redirect") else login.redirect
    if token_in_url(target, settings):
        return RedirectResponse(with_query(target, token=access_token), status_code=307)
    response: Response
    if settings.mutant("redirect_via_html_page"):
        response = HTMLResponse(third_party_redirect_page(target))
    else:
        response = RedirectResponse(target, status_code=307)
    response.headers.append("set-cookie", _session_cookie(request, settings, access_token))
    response.headers["cache-control"] = "no-store"
    return response


async def _exchange(gateway: Gateway, discovery: Discovery, login: LoginState, code: str) -> dict[str, Any]:
    """The token response for ``code``."""
    try:
        return await gateway.idp.exchange_code(discovery, code=code, code_verifier=login.code_verifier)
    except IdpError:
        if gateway.settings.mutant("token_error_unhandled"):
            raise RuntimeError("token endpoint failure (token_error_unhandled mutant)") from None
        raise


async def _id_token_claims(
    gateway: Gateway, discovery: Discovery, login: LoginState, id_token: object
) -> dict[str, Any] | None:
    """The validated claims of the token response's ID token (``None`` only when a mutant lets it be absent)."""
    settings, idp = gateway.settings, gateway.idp
    if not isinstance(id_token, str) or not id_token:
        if settings.mutant("no_id_token_required"):
            return None
        raise TokenRejected("the token response has no id_token")
    claims = await verify_signature(
        id_token,
        algorithms=frozenset(discovery.signing_algs),
        keys=lambda kid: idp.signing_key(discovery, kid, fresh=True),
        settings=settings,
        id_token=True,
    )
    check_id_token_claims(
        claims, Expected(issuer=settings.issuer, client_id=settings.client_id, nonce=login.nonce), settings=settings
    )
    return claims


async def _login_userinfo(gateway: Gateway, discovery: Discovery, access_token: str) -> dict[str, Any]:
    """Userinfo for the new access token; it must answer 200 with a ``sub``."""
    answer = await gateway.idp.userinfo(discovery, access_token)
    if answer.status != 200 or answer.claims is None or not isinstance(answer.claims.get("sub"), str):
        raise IdpError(f"userinfo answered {answer.status} for the new access token")
    return answer.claims


def _subject(claims: dict[str, Any], userinfo: dict[str, Any], settings: Settings) -> str:
    """The login's subject: the ID token's ``sub``, which userinfo must repeat."""
    subject = claims.get("sub")
    if subject is None and settings.mutant("allow_missing_sub"):
        subject = userinfo["sub"]
    if not isinstance(subject, str):
        raise TokenRejected("the ID token has no sub")
    if subject != userinfo["sub"]:
        if not settings.mutant("trust_userinfo_sub"):
            raise TokenRejected("userinfo sub differs from the ID token sub")
        subject = userinfo["sub"]
    return subject


def _expires_at(tokens: dict[str, Any]) -> float:
    """When the gateway forgets the new access token: after the IdP's ``expires_in``, within bounds."""
    lifetime = tokens.get("expires_in")
    if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
        lifetime = DEFAULT_TOKEN_LIFETIME
    return time.time() + min(float(lifetime), MAX_TOKEN_LIFETIME)


async def _complete(gateway: Gateway, login: LoginState, code: str) -> str:
    """Exchange the code, verify the ID token and userinfo, update the user; return the access token."""
    settings, store = gateway.settings, gateway.store
    discovery = await gateway.idp.discover()
    tokens = await _exchange(gateway, discovery, login, code)
    access_token: str = tokens["access_token"]
    claims = await _id_token_claims(gateway, discovery, login, tokens.get("id_token"))
    userinfo = await _login_userinfo(gateway, discovery, access_token)
    claims = dict(userinfo) if claims is None else claims
    subject = _subject(claims, userinfo, settings)
    expires_at = _expires_at(tokens)
    try:
        user = _sign_in(gateway, subject, claims, userinfo)
    except UserInactive as refused:
        if settings.mutant("session_before_inactive_check"):
            store.register_token(token_hash(access_token), refused.user_id, expires_at=expires_at)
            refused.session_token = access_token
        raise
    store.register_token(token_hash(access_token), user.id, expires_at=expires_at)
    if settings.mutant("leak_per_login"):
        _RETAINED.append(secrets.token_bytes(LEAK_PER_LOGIN))
    log.info("signed in user %s", user.id)
    return access_token


def _email_verified(value: object) -> bool:
    """Only an explicit ``false`` counts as unverified (JumpCloud always sends the claim)."""
    return not (value is False or (isinstance(value, str) and value.lower() == "false"))


def _links_unverified(existing: User | None, subject: str, verified: bool) -> bool:
    """Whether a login with an unverified e-mail would reach an existing account: another subject's, or one whose
    e-mail was verified."""
    return existing is not None and not verified and (existing.subject != subject or existing.email_verified)


def _sign_in(gateway: Gateway, subject: str, claims: dict[str, Any], userinfo: dict[str, Any]) -> User:
    """Create or update the user of a verified login."""
    settings, store = gateway.settings, gateway.store
    email = claims.get("email") or userinfo.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise LoginRefused("the IdP sent no e-mail address")
    email = email if settings.mutant("no_lowercase_email") else email.lower()
    name = claims.get("name") or userinfo.get("name") or email
    name = name if isinstance(name, str) else email
    verified = _email_verified(claims.get("email_verified", userinfo.get("email_verified")))
    existing = store.user_by_email(email)
    linking = _links_unverified(existing, subject, verified)
    hoop_linking = linking and settings.mutant("hoop_email_linking")
    if linking and not hoop_linking and not settings.mutant("link_unverified_email"):
        raise LoginRefused("an unverified e-mail matches an existing account")
    if existing is not None and existing.status != "active" and not settings.mutant("ignore_inactive_at_login"):
        raise UserInactive(existing.id)
    claimed = claimed_groups(claims, settings)
    if existing is None:
        try:
            return store.create_user(
                email=email,
                name=name,
                subject=subject,
                groups=claimed or [],
                email_verified=verified,
                first_group=None if settings.mutant("no_first_admin") else settings.admin_group,
            )
        except sqlite3.IntegrityError:
            raise LoginRefused("the same user is being created by a concurrent login") from None
    groups = (
        existing.groups
        if settings.mutant("groups_sync_on_create_only")
        else synced_groups(existing.groups, claimed, settings)
    )
    name = existing.name if hoop_linking else name  # Hoop: the claimant sees the owner's name
    return store.save_user(replace(existing, name=name, subject=subject, groups=tuple(groups), email_verified=verified))
