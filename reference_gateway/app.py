"""The ASGI application: Hoop's routes, the small page flow, JSON errors everywhere."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reference_gateway.auth import Authenticator
from reference_gateway.context import Gateway
from reference_gateway.errors import IdpError, TokenRejected
from reference_gateway.groups import may_pass, role_of
from reference_gateway.login import SESSION_COOKIE, api_callback, api_login, start_login
from reference_gateway.oidc import IdpClient
from reference_gateway.pages import CONTENT_SECURITY_POLICY, callback_page, login_page
from reference_gateway.settings import Settings
from reference_gateway.store import Store, User

log = logging.getLogger("reference_gateway")

ACCESS_DENIED = {"message": "access denied"}
ADMIN = frozenset({"admin"})
ADMIN_OR_AUDITOR = frozenset({"admin", "auditor"})
ANY_ROLE = frozenset({"admin", "auditor", "standard"})


def user_json(user: User, settings: Settings) -> dict[str, object]:
    """A user in Hoop's ``/api/userinfo`` shape.

    Under the ``hoop_email_linking`` mutant the ``id`` is, as in Hoop, the IdP subject the user last logged in with:
    on ``/api/userinfo`` that is the session's ``sub`` (authentication requires userinfo to answer the stored one).
    """
    role = role_of(user.groups, settings)
    return {
        "id": user.subject if settings.mutant("hoop_email_linking") else user.id,
        "name": user.name,
        "email": user.email,
        "status": user.status,
        "role": role,
        "groups": list(user.groups),
        "is_admin": role == "admin",
        "verified": user.email_verified,
        "tenancy_type": "selfhosted",
    }


UNREGISTERED = {
    "id": "",
    "name": "",
    "email": "",
    "status": "active",
    "role": "unregistered",
    "groups": [],
    "is_admin": False,
    "verified": False,
    "tenancy_type": "selfhosted",
}


class Denied(Exception):
    """The caller may not use a route: 401 (not authenticated) or 403 (role too low)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


async def _caller(request: Request, allowed: frozenset[str]) -> User | None:
    gateway: Gateway = request.app.state.gateway
    try:
        user = await gateway.auth.authenticate(
            request.headers.get("authorization"), request.query_params.get("access_token")
        )
    except TokenRejected as error:
        log.info("%s %s refused: %s", request.method, request.url.path, error)
        raise Denied(401) from None
    role = "unregistered" if user is None else role_of(user.groups, gateway.settings)
    if not may_pass(role, allowed, gateway.settings):
        raise Denied(403)
    return user


async def healthz(request: Request) -> Response:
    """Liveness, no authentication."""
    return JSONResponse({"liveness": "UP"})


async def userinfo(request: Request) -> Response:
    """The caller's own user (any role)."""
    user = await _caller(request, ANY_ROLE | {"unregistered"})
    settings = request.app.state.gateway.settings
    return JSONResponse(UNREGISTERED if user is None else user_json(user, settings))


async def list_users(request: Request) -> Response:
    """Every user (admin only)."""
    await _caller(request, ADMIN)
    gateway: Gateway = request.app.state.gateway
    return JSONResponse([user_json(user, gateway.settings) for user in gateway.store.users()])


def _find_user(gateway: Gateway, key: str) -> User:
    store = gateway.store
    user = store.user_by_id(key) or store.user_by_email(key.lower())
    if user is None and gateway.settings.mutant("hoop_email_linking"):  # its ids are subjects
        user = store.user_by_subject(key)
    if user is None:
        raise HTTPException(404, "user not found")
    return user


async def get_user(request: Request) -> Response:
    """One user, by id or e-mail (admin only)."""
    await _caller(request, ADMIN)
    gateway: Gateway = request.app.state.gateway
    return JSONResponse(user_json(_find_user(gateway, request.path_params["key"]), gateway.settings))


async def update_user(request: Request) -> Response:
    """Change a user's ``status`` (``active``/``inactive``), ``name`` or ``groups`` (admin only)."""
    await _caller(request, ADMIN)
    gateway: Gateway = request.app.state.gateway
    user = _find_user(gateway, request.path_params["key"])
    try:
        body = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(422, "the body must be a JSON object")
    status, name, groups = body.get("status", user.status), body.get("name", user.name), body.get("groups", user.groups)
    if status not in ("active", "inactive"):
        raise HTTPException(422, "status must be 'active' or 'inactive'")
    if not isinstance(name, str) or not name:
        raise HTTPException(422, "name must be a non-empty string")
    if not isinstance(groups, list | tuple) or not all(isinstance(g, str) and g for g in groups):
        raise HTTPException(422, "groups must be a list of non-empty strings")
    user = gateway.store.save_user(replace(user, status=status, name=name, groups=tuple(dict.fromkeys(groups))))
    return JSONResponse(user_json(user, gateway.settings))


async def api_keys(request: Request) -> Response:
    """Admin-only probe: a read-only, empty list of API keys."""
    await _caller(request, ADMIN)
    return JSONResponse([])


async def serverconfig_auth(request: Request) -> Response:
    """Admin-or-auditor probe: the authentication settings, read only, secret withheld."""
    await _caller(request, ADMIN_OR_AUDITOR)
    settings: Settings = request.app.state.gateway.settings
    return JSONResponse(
        {
            "auth_method": "oidc",
            "oidc_config": {
                "issuer_url": settings.issuer,
                "client_id": settings.client_id,
                "client_secret": "",
                "groups_claim": settings.groups_claim,
                "custom_scopes": list(settings.custom_scopes),
                "audience": settings.audience or "",
            },
            "admin_role_name": settings.admin_group,
            "auditor_role_name": settings.auditor_group,
        }
    )


def _html(body: str, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(
        body,
        status_code=status_code,
        headers={
            "content-security-policy": CONTENT_SECURITY_POLICY,
            "x-frame-options": "DENY",
            "referrer-policy": "no-referrer",
            "cache-control": "no-store",
        },
    )


async def login_html(request: Request) -> Response:
    """``/login``: a page with a sign-in button."""
    return _html(login_page())


async def login_start(request: Request) -> Response:
    """``/login/start``: start a browser login that comes back to ``/callback``."""
    gateway: Gateway = request.app.state.gateway
    try:
        started = await start_login(gateway, f"{gateway.settings.api_url}/callback", request)
    except IdpError as error:
        log.warning("login not started: %s", error)
        return _html(callback_page(user=None, role="", error="The identity provider is unavailable."), 503)
    response = RedirectResponse(started.login_url, status_code=303)
    response.headers.append("set-cookie", started.binding_cookie)
    return response


async def callback_html(request: Request) -> Response:
    """``/callback``: who is signed in (from the session cookie) and their groups."""
    gateway: Gateway = request.app.state.gateway
    if "error" in request.query_params:
        return _html(callback_page(user=None, role="", error=request.query_params["error"]), 401)
    token = request.cookies.get(SESSION_COOKIE)
    try:
        user = await gateway.auth.authenticate(f"Bearer {token}") if token else None
    except TokenRejected:
        user = None
    if user is None:
        return _html(callback_page(user=None, role="", error=None), 401)
    return _html(callback_page(user=user, role=role_of(user.groups, gateway.settings), error=None))


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    return JSONResponse({"message": error.detail}, status_code=error.status_code)


async def _unexpected(request: Request, error: Exception) -> Response:
    return JSONResponse({"message": "internal error"}, status_code=500)


async def _denied(request: Request, error: Exception) -> Response:
    assert isinstance(error, Denied)
    return JSONResponse(ACCESS_DENIED, status_code=error.status)


class AccessLog:
    """Logs method, path and status of each request; never the query string (it carries codes and tokens)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on and log its status."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 0

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            log.info("%s %s %s", scope["method"], scope["path"], status or 500)


def create_app(settings: Settings) -> ASGIApp:
    """The gateway as an ASGI app, with its store and IdP client opened for the app's lifetime."""
    store = Store(settings.database)
    idp = IdpClient(settings)
    gateway = Gateway(settings=settings, store=store, idp=idp, auth=Authenticator(settings, store, idp))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await idp.aclose()
            store.close()

    routes = [
        Route("/api/healthz", healthz),
        Route("/api/login", api_login),
        Route("/api/callback", api_callback),
        Route("/api/userinfo", userinfo),
        Route("/api/users", list_users),
        Route("/api/users/{key}", get_user, methods=["GET"]),
        Route("/api/users/{key}", update_user, methods=["PUT"]),
        Route("/api/api-keys", api_keys),
        Route("/api/serverconfig/auth", serverconfig_auth),
        Route("/login/start", login_start),
        Route("/callback", callback_html),
    ]
    if not settings.mutant("no_login_page"):
        routes.append(Route("/login", login_html))
    app = Starlette(
        routes=routes,
        exception_handlers={HTTPException: _http_error, Denied: _denied, Exception: _unexpected},
        lifespan=lifespan,
    )
    app.state.gateway = gateway
    return AccessLog(app)
