"""SESS: how the session reaches the browser (a cookie, or the CLI's ``?token=`` hand-over), and how it comes back.

The browser checks judge the landing by its URL and the browser's cookies, never by the page's content: a
gateway without a web UI answers 404 on its landing page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Page, Response

from hoop_conformance.assertions import assert_status, describe, redact_text
from hoop_conformance.catalogue import CONTRACT, MUST, SHOULD, check
from hoop_conformance.contract import CALLBACK, CLI_REDIRECT, SESSION_COOKIE, USERINFO
from hoop_conformance.deployment import Deployment
from hoop_conformance.drivers.browser_flow import browser_login, signed_in_browser
from hoop_conformance.gateway_api import set_cookie_attributes
from hoop_conformance.gateways import gateway
from hoop_conformance.values import url_parameters

SECRET_PARAMETERS = frozenset({"token", "access_token", "id_token", "refresh_token", "code", "state"})
"""URL parameters that must never be left in the browser's final URL."""


@check(
    "SESS-01",
    level=MUST,
    ref="RFC 9700 §4.3.2",
    requirement="After a browser login no token, code or state is left in the final URL; the token is in a cookie.",
    staging=True,
)
def test_browser_login_leaves_no_secret_in_the_url(page: Page, deployment: Deployment) -> None:
    user = deployment.make_user()
    final_url, cookie = signed_in_browser(page, deployment, user)
    left = sorted(SECRET_PARAMETERS & url_parameters(final_url).keys())
    assert not left, f"the browser's final URL still carries {left}: {redact_text(final_url)}"
    assert cookie["value"] not in final_url, f"the session token appears in the final URL {redact_text(final_url)}"


@check(
    "SESS-02",
    level=CONTRACT,
    ref="contract",
    requirement="A CLI login hands the token over as ?token=, and only to the CLI's loopback listener.",
    staging=True,
)
def test_cli_login_hands_the_token_to_the_loopback_listener_only(deployment: Deployment) -> None:
    user = deployment.make_user()
    cli = deployment.login(user, redirect=CLI_REDIRECT)
    assert cli.answer.is_redirect, f"the CLI login's callback must redirect to the listener; got {describe(cli.answer)}"
    target = urlsplit(cli.location)
    assert target._replace(query="", fragment="").geturl() == CLI_REDIRECT, (
        f"the CLI login must be sent to {CLI_REDIRECT}; got {describe(cli.answer)}"
    )
    token = dict(parse_qsl(target.query)).get("token")
    assert token, f"the CLI listener must get the token as ?token=; got {describe(cli.answer)}"
    assert deployment.me(token)["email"] == user.email, "the ?token= handed to the CLI is not the user's session"
    browser = deployment.login(user)
    assert browser.succeeded, f"a login to the gateway's own page failed: {describe(browser.answer)}"
    assert "token" not in url_parameters(browser.location), (
        f"only the CLI listener may get the token in its URL; a login to {deployment.gateway.landing_url} "
        f"was sent to {redact_text(browser.location)}"
    )


@check(
    "SESS-03",
    level=MUST,
    ref="OAuth BBA §6.1.3.2",
    requirement="The session cookie is SameSite Lax or Strict, with Path=/.",
    staging=True,
)
def test_session_cookie_is_samesite_and_site_wide(page: Page, deployment: Deployment) -> None:
    callbacks: list[Response] = []
    page.on("response", lambda r: callbacks.append(r) if r.url.startswith(deployment.gateway.callback_url) else None)
    _, cookie = signed_in_browser(page, deployment, deployment.make_user())
    assert cookie.get("path") == "/", f"the session cookie must have Path=/; it has Path={cookie.get('path')}"
    headers = [h["value"] for r in callbacks for h in r.headers_array() if h["name"].lower() == "set-cookie"]
    declared = set_cookie_attributes(headers).get("samesite", "").lower()
    assert declared in {"lax", "strict"} and cookie.get("sameSite") in {"Lax", "Strict"}, (
        f"the session cookie must be SameSite=Lax or Strict; its Set-Cookie says SameSite={declared or '(absent)'}, "
        f"the browser holds it as {cookie.get('sameSite')}"
    )


@check(
    "SESS-03",
    level=SHOULD,
    ref="OAuth BBA §6.1.3.2",
    requirement="The session cookie is HttpOnly, out of reach of the page's scripts.",
    staging=True,
)
def test_session_cookie_is_httponly(page: Page, deployment: Deployment) -> None:
    _, cookie = signed_in_browser(page, deployment, deployment.make_user())
    assert cookie.get("httpOnly") is True, "the session cookie must be HttpOnly (scripts can read it)"
    assert SESSION_COOKIE not in str(page.evaluate("document.cookie")), "the page's scripts can read the session cookie"


@check(
    "SESS-04",
    level=MUST,
    ref="OAuth BBA §6.1.3.2",
    requirement="A login that reaches the gateway as HTTPS (X-Forwarded-Proto: https) gets a Secure session cookie.",
    staging=True,
)
def test_session_cookie_is_secure_behind_https(deployment: Deployment) -> None:
    login = deployment.login(deployment.make_user(), headers={"X-Forwarded-Proto": "https"})
    assert login.answer.is_redirect and "error=" not in login.location, (
        f"the login behind HTTPS failed: {describe(login.answer)}"
    )
    attributes = set_cookie_attributes(login.answer.headers.get_list("set-cookie"))
    assert "secure" in attributes, (
        f"behind HTTPS the session cookie must be Secure; its attributes: {sorted(attributes)}"
    )


@check(
    "SESS-05",
    level=SHOULD,
    ref="RFC 9700 §4.2.4",
    requirement="The callback is answered with an immediate redirect, so no page (and no third-party content) "
    "is shown while the code is in the URL.",
    staging=True,
)
@gateway(own_idp=False, warm_up=False)
def test_callback_answers_with_an_immediate_redirect(page: Page, deployment: Deployment) -> None:
    # A gateway of its own, not warmed up: the shared gateway's warm-up is an HTTP login that needs the very
    # redirect this check is about, so a gateway that answers with a page would make the check an error.
    answers: list[Response] = []
    page.on("response", lambda r: answers.append(r) if r.url.startswith(deployment.gateway.callback_url) else None)
    browser_login(page, deployment, deployment.make_user())
    assert answers, f"the browser never reached {CALLBACK}"
    callback = answers[0]
    shown = f"{callback.status} {callback.headers.get('content-type', '')}".strip()
    assert 300 <= callback.status < 400 and callback.headers.get("location"), (
        f"the callback must answer with a redirect; it answered {shown}, a page the browser renders "
        "with the code and state in its URL"
    )
    followed = callback.request.redirected_to
    assert followed is not None and followed.is_navigation_request(), (
        "the browser did not follow the callback's redirect straight away"
    )


@check(
    "SESS-06",
    level=SHOULD,
    ref="RFC 6750 §2.3, RFC 9700 §4.3.2",
    requirement="A token sent as ?access_token= in the URL instead of the Authorization header is refused.",
    staging=True,
)
def test_token_in_the_query_is_refused(deployment: Deployment) -> None:
    token = deployment.positive_control(what="the user's session in the Authorization header").token
    answer = deployment.gateway.get(USERINFO, params={"access_token": token})
    assert_status(answer, (400, 401, 403), "a token sent as ?access_token= must be refused")
