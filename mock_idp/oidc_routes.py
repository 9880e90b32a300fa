"""OIDC endpoints at JumpCloud's paths: discovery, JWKS, authorize, token, userinfo, revoke, end-session."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from mock_idp import pages
from mock_idp.directory import User
from mock_idp.errors import InvalidRequest, InvalidToken, OAuthError
from mock_idp.faults import MOVED_PREFIX
from mock_idp.grants import IdpSession, LoginChallenge
from mock_idp.journal import Entry
from mock_idp.provider import AuthorizeError, Provider, add_query
from mock_idp.web import NO_STORE, Handler, endpoint, intercept, oauth_error_response, read_form, single_values

SESSION_COOKIE = "jc_sso"


@endpoint("discovery")
async def discovery(request: Request, provider: Provider, entry: Entry) -> Response:
    """OpenID Provider metadata."""
    return await intercept(provider, "discovery", entry) or JSONResponse(provider.discovery())


async def jwks(request: Request, provider: Provider, entry: Entry) -> Response:
    """The published signing keys."""
    return await intercept(provider, "jwks", entry) or JSONResponse(provider.keys.jwks())


async def authorize(request: Request, provider: Provider, entry: Entry) -> Response:
    """Start a login; SSO through the IdP session, else send the browser to the login page."""
    try:
        params = single_values(request.query_params.multi_items())
        provider.note(entry, client_id=params.get("client_id"))
        challenge = provider.start_authorization(params)
    except AuthorizeError as error:
        return RedirectResponse(provider.error_redirect(error.challenge, error.error), 303)
    except OAuthError as error:
        return HTMLResponse(pages.error_page(error), status_code=error.status)
    assert challenge.app is not None
    client_id = challenge.app.client_id
    provider.note(entry, app_id=challenge.app.app_id)
    faulted = await intercept(provider, "authorize", entry, client_id=client_id)
    if faulted is not None:
        return faulted
    session = provider.grants.session(request.cookies.get(SESSION_COOKIE), provider.clock.now())
    prompts = set(params.get("prompt", "").split())
    max_age = params.get("max_age", "")
    if session is not None and max_age.isdigit() and provider.clock.now() - session.auth_time > int(max_age):
        session = None
    user = None if "login" in prompts else provider.session_user(session)
    provider.grants.add_challenge(challenge)
    if user is not None and session is not None:
        provider.note(entry, user=user)
        return RedirectResponse(finish_login(provider, challenge, user, session, entry), 303)
    if "none" in prompts:
        login_required = OAuthError(
            "login_required",
            "The Authorization Server requires End-User authentication.",
            hint="Prompt 'none' was requested, but no existing login session was found.",
        )
        return RedirectResponse(provider.error_redirect(challenge, login_required), 303)
    return RedirectResponse(f"{provider.prefix}/login?login_challenge={challenge.id}", 303)


def finish_login(provider: Provider, challenge: LoginChallenge, user: User, session: IdpSession, entry: Entry) -> str:
    """Where the browser goes once the user is known: the code, or an authorization error."""
    app = challenge.app
    assert app is not None
    fault = provider.take_fault("authorize_error", "authorize", user, app.client_id, entry)
    if fault is not None:
        error = OAuthError(
            fault.params.get("error", "access_denied"),
            fault.params.get("description", "The resource owner or authorization server denied the request."),
        )
        return provider.error_redirect(challenge, error)
    if not provider.directory.may_use(user, app):
        error = OAuthError(
            "access_denied",
            "The resource owner or authorization server denied the request.",
            hint="The user is not a member of a user group bound to this application.",
        )
        return provider.error_redirect(challenge, error)
    return provider.issue_code(challenge, user, session)


def peek_user(provider: Provider, form: dict[str, str]) -> User | None:
    """Whose code or refresh token this is, without checking or spending it (to scope faults)."""
    grant = None
    if form.get("grant_type") == "authorization_code" and form.get("code") in provider.grants.codes:
        grant = provider.grants.codes[form["code"]].grant
    elif form.get("refresh_token") in provider.grants.tokens:
        grant = provider.grants.tokens[form["refresh_token"]].grant
    return provider.directory.users.get(grant.user_id) if grant else None


async def token(request: Request, provider: Provider, entry: Entry) -> Response:
    """The token endpoint: ``authorization_code`` and ``refresh_token`` grants."""
    form = await read_form(request, entry)
    if request.method != "POST":
        raise InvalidRequest("The token endpoint only accepts POST.")
    app = provider.authenticate_client(request.headers.get("authorization"), form, entry)
    user = peek_user(provider, form)
    provider.note(entry, user=user)
    faulted = await intercept(provider, "token", entry, user, app.client_id)
    if faulted is not None:
        return faulted
    grant_type = form.get("grant_type")
    if not grant_type:
        raise InvalidRequest("The 'grant_type' parameter is missing.")
    if grant_type == "authorization_code":
        grant = provider.redeem_code(app, form, entry)
    elif grant_type == "refresh_token":
        grant = provider.redeem_refresh_token(app, form, entry)
    else:
        raise OAuthError(
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
            hint=f"The grant type '{grant_type}' is not supported.",
        )
    return JSONResponse(provider.issue_tokens(grant, entry), headers=NO_STORE)


def bearer_token(request: Request, form: dict[str, str]) -> str | None:
    """The access token from ``Authorization: Bearer`` or a POSTed ``access_token``."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return form.get("access_token")


async def userinfo(request: Request, provider: Provider, entry: Entry) -> Response:
    """Claims about the user the bearer token was issued for (GET or POST)."""
    try:
        form = await read_form(request, entry) if request.headers.get("content-type") else {}
        issued, user = provider.access_token(bearer_token(request, form))
    except OAuthError as error:
        faulted = await intercept(provider, "userinfo", entry)
        if faulted is not None:
            return faulted
        if not isinstance(error, InvalidToken):
            error = InvalidToken(error.description)
        challenge = f'Bearer error="invalid_token",error_description="{error.description}"'
        return oauth_error_response(error, {"WWW-Authenticate": challenge})
    provider.note(entry, user=user, client_id=issued.grant.app.client_id, app_id=issued.grant.app.app_id)
    faulted = await intercept(provider, "userinfo", entry, user, issued.grant.app.client_id)
    return faulted or JSONResponse(provider.userinfo(issued, user, entry), headers=NO_STORE)


async def revoke(request: Request, provider: Provider, entry: Entry) -> Response:
    """RFC 7009 token revocation."""
    form = await read_form(request, entry)
    if request.method != "POST":
        raise InvalidRequest("The revocation endpoint only accepts POST.")
    app = provider.authenticate_client(request.headers.get("authorization"), form, entry)
    faulted = await intercept(
        provider, "revoke", entry, peek_user(provider, {"refresh_token": form.get("token", "")}), app.client_id
    )
    if faulted is not None:
        return faulted
    provider.revoke(app, form.get("token"))
    return Response(status_code=200, headers=NO_STORE)


@endpoint("end_session")
async def end_session(request: Request, provider: Provider, entry: Entry) -> Response:
    """RP-initiated logout: end the IdP session, then go back to a registered post-logout URI."""
    faulted = await intercept(provider, "end_session", entry)
    if faulted is not None:
        return faulted
    params = single_values(request.query_params.multi_items())
    params.update(await read_form(request, entry) if request.method == "POST" else {})
    provider.grants.sessions.pop(request.cookies.get(SESSION_COOKIE, ""), None)
    target = params.get("post_logout_redirect_uri")
    allowed = any(target in app.post_logout_redirect_uris for app in provider.directory.apps.values())
    if target and allowed:
        response: Response = RedirectResponse(
            add_query(target, {"state": params["state"]}) if "state" in params else target, 303
        )
    elif target:
        error = InvalidRequest("The 'post_logout_redirect_uri' is not registered for any client.")
        return HTMLResponse(pages.error_page(error), status_code=400)
    else:
        response = HTMLResponse(pages.logged_out_page())
    response.delete_cookie(SESSION_COOKIE, path=provider.prefix or "/")
    return response


def movable_routes(path: str, name: str, handler: Handler, methods: list[str]) -> list[Route]:
    """The route at its default path and at the path a ``move_endpoints`` fault advertises."""
    return [
        Route(path, endpoint(name, movable=True, moved=False)(handler), methods=methods),
        Route(MOVED_PREFIX + path, endpoint(name, movable=True, moved=True)(handler), methods=methods),
    ]


def routes() -> list[Route]:
    """Every OIDC route, relative to the issuer's path."""
    return [
        Route("/.well-known/openid-configuration", discovery, methods=["GET"]),
        *movable_routes("/.well-known/jwks.json", "jwks", jwks, ["GET"]),
        *movable_routes("/oauth2/auth", "authorize", authorize, ["GET"]),
        *movable_routes("/oauth2/token", "token", token, ["POST", "GET"]),
        *movable_routes("/userinfo", "userinfo", userinfo, ["GET", "POST"]),
        *movable_routes("/oauth2/revoke", "revoke", revoke, ["POST", "GET"]),
        Route("/oauth2/sessions/logout", end_session, methods=["GET", "POST"]),
    ]
