"""The login page (e-mail, password, TOTP steps), the IdP session cookie and the user portal."""

from __future__ import annotations

import pyotp
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from mock_idp import pages
from mock_idp.directory import User
from mock_idp.grants import LoginChallenge
from mock_idp.journal import Entry
from mock_idp.oidc_routes import SESSION_COOKIE, finish_login
from mock_idp.provider import Provider
from mock_idp.web import endpoint, read_form

AUTH_FAILED = "Authentication failed."
TOTP_INVALID = "Verification code was invalid"
MFA_REQUIRED = "Multi-factor authentication is required: enrol in the user portal."


def _challenge(provider: Provider, challenge_id: str) -> LoginChallenge:
    """The pending login, or a new portal login when there is none."""
    challenge = provider.grants.challenge(challenge_id, provider.clock.now()) if challenge_id else None
    return challenge or provider.grants.add_challenge(LoginChallenge(app=None, created=provider.clock.now()))


@endpoint("login")
async def login_page(request: Request, provider: Provider, entry: Entry) -> Response:
    """Show the e-mail step (GET) or take one step's answer (POST)."""
    action = f"{provider.prefix}/login"
    if request.method == "GET":
        challenge = _challenge(provider, request.query_params.get("login_challenge", ""))
        return HTMLResponse(pages.email_page(action, challenge.id))
    form = await read_form(request, entry)
    challenge = _challenge(provider, form.get("login_challenge", ""))
    if challenge.app is not None:
        provider.note(entry, client_id=challenge.app.client_id, app_id=challenge.app.app_id)
    step = form.get("step")
    if step == "email":
        email = form.get("email", "").strip()
        if not email:
            return HTMLResponse(pages.email_page(action, challenge.id, AUTH_FAILED), status_code=401)
        challenge.email = email
        provider.note(entry, user=provider.directory.user_by_email(email))
        return HTMLResponse(pages.password_page(action, challenge.id, email))
    if step == "password":
        email = form.get("email") or challenge.email or ""
        user = provider.check_password(email, form.get("password", ""))
        if user is None:
            known = provider.directory.user_by_email(email)
            provider.note(entry, user=known)
            return HTMLResponse(pages.password_page(action, challenge.id, email, AUTH_FAILED), status_code=401)
        provider.note(entry, user=user)
        excluded = user.mfa_excluded(provider.clock.now())
        if user.totp_secret and not excluded:
            challenge.password_ok_for = user.id
            return HTMLResponse(pages.mfa_page(action, challenge.id))
        if provider.settings.require_mfa and not excluded:
            # the organization requires MFA and the user has none enrolled nor an exclusion window
            return HTMLResponse(pages.password_page(action, challenge.id, email, MFA_REQUIRED), status_code=401)
        return _logged_in(provider, challenge, user, ("pwd",), entry)
    if step == "totp":
        user = provider.directory.users.get(challenge.password_ok_for or "")
        if user is None or not user.active or not user.totp_secret:
            return HTMLResponse(pages.email_page(action, challenge.id, AUTH_FAILED), status_code=401)
        provider.note(entry, user=user)
        code = form.get("totp", "")
        if not (code.isdigit() and len(code) == 6 and pyotp.TOTP(user.totp_secret).verify(code, valid_window=1)):
            return HTMLResponse(pages.mfa_page(action, challenge.id, TOTP_INVALID), status_code=401)
        return _logged_in(provider, challenge, user, ("pwd", "mfa"), entry)
    return HTMLResponse(pages.email_page(action, challenge.id, AUTH_FAILED), status_code=400)


def _logged_in(
    provider: Provider, challenge: LoginChallenge, user: User, amr: tuple[str, ...], entry: Entry
) -> Response:
    """Open the IdP session, set its cookie, and go on to the app (or the portal)."""
    session = provider.open_session(user, amr)
    if challenge.app is None:
        provider.grants.challenges.pop(challenge.id, None)
        target = f"{provider.prefix}/userconsole"
    else:
        target = finish_login(provider, challenge, user, session, entry)
    response = RedirectResponse(target, 303)
    response.set_cookie(
        SESSION_COOKIE,
        session.cookie,
        path=provider.prefix or "/",
        httponly=True,
        samesite="lax",
        secure=provider.issuer.startswith("https://"),
    )
    return response


@endpoint("portal")
async def portal(request: Request, provider: Provider, entry: Entry) -> Response:
    """The user portal: tiles for the apps the signed-in user may use."""
    session = provider.grants.session(request.cookies.get(SESSION_COOKIE), provider.clock.now())
    user = provider.session_user(session)
    if user is None:
        return RedirectResponse(f"{provider.prefix}/login", 303)
    provider.note(entry, user=user)
    return HTMLResponse(pages.portal_page(user.email, provider.directory.apps_for(user)))


def routes() -> list[Route]:
    """The login and portal routes, relative to the issuer's path."""
    return [
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/userconsole", portal, methods=["GET"]),
    ]
