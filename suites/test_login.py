"""LOGIN: starting a login — ``GET /api/login``, the authorize request it builds, and the ``redirect`` it accepts.

The authorize request is read from the ``login_url`` the gateway hands out (what the browser is sent to); the checks
on ``redirect`` judge ``/api/login``'s raw answer. LOGIN-10 starts from the IdP's user portal in Chromium and judges
the end by the browser's cookies. Checks that would fail the shared gateway's first login on a broken gateway
(LOGIN-01, LOGIN-02) take a fresh gateway of their own so that the failure is theirs.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from playwright.sync_api import Page

from hoop_conformance.assertions import describe, redact_text
from hoop_conformance.catalogue import CONTRACT, MUST, SHOULD, check
from hoop_conformance.contract import SESSION_COOKIE, USERINFO
from hoop_conformance.deployment import Deployment
from hoop_conformance.drivers.browser_login import log_in
from hoop_conformance.gateways import gateway
from hoop_conformance.logins import (
    assert_good_redirect_accepted,
    assert_redirect_refused,
    authorize_request,
    login_url_of,
)
from hoop_conformance.values import origin_parts, random_bits
from hoop_conformance.waiting import wait_for

REQUIRED_SCOPES = frozenset({"openid", "email", "profile"})
STATE_BITS = 120
"""The least randomness a state must carry (a v4 UUID's 122 random bits qualify)."""
CUSTOM_SCOPES = ("hoop.read", "hoop.audit")
"""Scopes LOGIN-09 configures the gateway (and allows the IdP app) to ask for."""
SIGN_IN = re.compile(r"^\s*(sign|log)[ -]?in\b", re.IGNORECASE)
"""A landing page's control that starts a login, when the page does not start one by itself."""


@check(
    "LOGIN-01",
    level=MUST,
    ref="contract",
    requirement="GET /api/login answers 200 {login_url}, a URL at the IdP's discovered authorization endpoint.",
    staging=True,
)
@gateway(own_idp=False, warm_up=False)
def test_api_login_answers_the_authorization_url(deployment: Deployment) -> None:
    # A fresh gateway: one that does not answer {login_url} fails the shared gateway's first login before this check.
    endpoint = deployment.idp.discovery()["authorization_endpoint"]
    login_url = login_url_of(deployment.start_login(deployment.client(), deployment.gateway.landing_url))
    at = urlsplit(login_url)._replace(query="", fragment="").geturl()
    assert at == endpoint, f"the login URL must be at the discovered authorization endpoint {endpoint}; it is at {at}"


@check(
    "LOGIN-02",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.2.1",
    requirement="The authorize request carries response_type=code, the gateway's client_id, "
    "redirect_uri = API_URL/api/callback, and a scope holding openid, email and profile.",
    staging=True,
)
@gateway(own_idp=False, warm_up=False)
def test_authorize_request_is_a_code_request_for_the_gateway(deployment: Deployment) -> None:
    # A fresh gateway: a gateway that asks for too little cannot complete the shared gateway's first login.
    params = authorize_request(deployment)
    assert params.get("response_type") == "code", f"response_type must be code; it is {params.get('response_type')}"
    client_id = deployment.gateway.registration.client_id
    assert params.get("client_id") == client_id, f"client_id must be {client_id}; it is {params.get('client_id')}"
    callback = deployment.gateway.callback_url
    assert params.get("redirect_uri") == callback, (
        f"redirect_uri must be {callback}; it is {params.get('redirect_uri')}"
    )
    missing = sorted(REQUIRED_SCOPES - set(params.get("scope", "").split()))
    assert not missing, f"the scope must hold openid, email and profile; {missing} missing from {params.get('scope')!r}"


@check(
    "LOGIN-03",
    level=MUST,
    ref="RFC 6749 §10.12",
    requirement="Every login carries a state that is unguessable (at least 120 random bits) and differs each time.",
    staging=True,
)
def test_state_is_unguessable_and_fresh(deployment: Deployment) -> None:
    states = [authorize_request(deployment).get("state", "") for _ in range(2)]
    for state in states:
        assert state, "the authorize request carries no state"
        bits = random_bits(state)
        assert bits >= STATE_BITS, (
            f"the state must carry at least {STATE_BITS} random bits; a {len(state)}-character state like this one "
            f"carries at most {bits:.0f}"
        )
    assert states[0] != states[1], "two logins got the same state"


@check(
    "LOGIN-04",
    level=SHOULD,
    ref="RFC 9700 §2.1.1",
    requirement="Every login carries a fresh S256 PKCE code_challenge, and its code_verifier is sent at token time.",
    staging=True,
)
def test_pkce_challenge_is_fresh_and_verified(deployment: Deployment) -> None:
    first, second = authorize_request(deployment), authorize_request(deployment)
    for params in (first, second):
        assert params.get("code_challenge"), "the authorize request carries no PKCE code_challenge"
        assert params.get("code_challenge_method") == "S256", (
            f"code_challenge_method must be S256; it is {params.get('code_challenge_method')}"
        )
    assert first["code_challenge"] != second["code_challenge"], "two logins sent the same code_challenge"
    # The IdP checks the code_verifier against the challenge it was sent: a login that succeeds sent the right one.
    login = deployment.login(deployment.make_user())
    challenge = dict(parse_qsl(urlsplit(login_url_of(login.start)).query)).get("code_challenge")
    assert challenge, "the login's authorize request carries no PKCE code_challenge"
    assert login.succeeded, (
        f"a login with PKCE failed (the IdP refuses a missing or wrong code_verifier): {describe(login.answer)}"
    )


@check(
    "LOGIN-05",
    level=SHOULD,
    ref="RFC 9700 §2.1.1, OIDC Core 1.0 §3.1.2.1",
    requirement="Every login carries a nonce, different each time.",
    staging=True,
)
def test_nonce_is_present_and_fresh(deployment: Deployment) -> None:
    nonces = [authorize_request(deployment).get("nonce", "") for _ in range(2)]
    assert all(nonces), "the authorize request carries no nonce"
    assert nonces[0] != nonces[1], "two logins sent the same nonce"


@check(
    "LOGIN-06",
    level=MUST,
    ref="RFC 9700 §4.11",
    requirement="A redirect on a foreign host is refused with a 4xx, and no login is started for it.",
    staging=True,
)
def test_foreign_redirect_is_refused(deployment: Deployment) -> None:
    assert_good_redirect_accepted(deployment)
    scheme, _, port = origin_parts(deployment.gateway.url)
    for redirect in ("https://evil.test/callback", f"{scheme}://evil.test:{port}/callback"):
        answer = deployment.start_login(deployment.client(), redirect)
        assert 400 <= answer.status_code < 500, (
            f"/api/login with redirect={redirect} on a foreign host must answer 4xx; got {describe(answer)}"
        )
        assert "login_url" not in answer.text, f"a login was started for redirect={redirect}: {describe(answer)}"


@check(
    "LOGIN-07",
    level=MUST,
    ref="RFC 9700 §4.11",
    requirement="Redirects that only look like the API host (API_HOST.evil.test, evil.test\\@API_HOST, //evil.test, "
    "API_HOST@evil.test) are all refused.",
    staging=True,
)
def test_lookalike_redirects_are_refused(deployment: Deployment) -> None:
    assert_good_redirect_accepted(deployment)
    scheme, host, port = origin_parts(deployment.gateway.url)
    for redirect in (
        f"{scheme}://{host}.evil.test:{port}/callback",
        f"{scheme}://evil.test\\@{host}:{port}/callback",
        "//evil.test/callback",
        f"{scheme}://{host}:{port}@evil.test/callback",
    ):
        assert_redirect_refused(deployment, redirect)


@check(
    "LOGIN-08",
    level=SHOULD,
    ref="RFC 9700 §4.11",
    requirement="A redirect on the API host with another scheme (javascript:, ftp:) or another port is refused.",
    staging=True,
)
def test_redirect_with_another_scheme_or_port_is_refused(deployment: Deployment) -> None:
    assert_good_redirect_accepted(deployment)
    scheme, host, port = origin_parts(deployment.gateway.url)
    for redirect in (
        f"javascript://{host}:{port}/%0aalert(document.cookie)",
        f"ftp://{host}:{port}/callback",
        f"{scheme}://{host}:9/callback",
    ):
        assert_redirect_refused(deployment, redirect)


@check(
    "LOGIN-09",
    level=CONTRACT,
    ref="contract",
    requirement="Scopes configured with IDP_CUSTOM_SCOPES appear in the authorize request.",
)
@gateway(
    own_idp=False,
    warm_up=False,
    env={"IDP_CUSTOM_SCOPES": ",".join(CUSTOM_SCOPES)},
    app={"allowed_scopes": [*sorted(REQUIRED_SCOPES), *CUSTOM_SCOPES]},
)
def test_custom_scopes_are_requested(deployment: Deployment) -> None:
    scope = authorize_request(deployment).get("scope", "").split()
    missing = sorted(set(CUSTOM_SCOPES) - set(scope))
    assert not missing, f"the configured custom scopes {missing} are missing from the authorize request's {scope}"
    assert set(scope) >= REQUIRED_SCOPES, f"with custom scopes the base scopes went missing: {scope}"


@check(
    "LOGIN-10",
    level=MUST,
    ref="seed setup",
    requirement="A user who starts from the app's tile in the IdP's portal (the app's Login URL) gets a login "
    "started by the gateway and ends signed in.",
    staging=True,
)
def test_portal_tile_signs_the_user_in(page: Page, deployment: Deployment, time_budget: float) -> None:
    user = deployment.make_user()
    tile_url = str(deployment.app["login_url"])
    portal_url = deployment.idp.portal_url
    page.goto(portal_url)
    log_in(page, user.email, user.password, user.totp_secret)
    tile = page.locator(f'a[href="{tile_url}"]').first
    tile.wait_for(timeout=time_budget * 1000)
    with page.expect_response(lambda r: r.url == tile_url, timeout=time_budget * 1000) as opened:
        tile.click()
    landing = opened.value
    assert landing.status < 400, f"the portal tile's Login URL {tile_url} answered {landing.status}"
    sign_in = page.get_by_role("button", name=SIGN_IN).or_(page.get_by_role("link", name=SIGN_IN))

    def started() -> bool:
        """Whether the browser has left the tile's page (a login under way); clicks its sign-in control if any."""
        at = page.url.split("?")[0]
        if at == tile_url and sign_in.count():
            sign_in.first.click()
            return True
        return at not in (tile_url, portal_url)

    wait_for(started, timeout=time_budget, message=f"a login started from the tile's page {tile_url}")
    jar = deployment.gateway.url + USERINFO

    def session() -> str | None:
        return next((c.get("value") for c in page.context.cookies(jar) if c.get("name") == SESSION_COOKIE), None)

    token = wait_for(
        session,
        timeout=time_budget,
        message=f"a {SESSION_COOKIE} cookie after the portal login ({redact_text(page.url)})",
    )
    assert "error=" not in page.url, f"the portal login ended on an error: {redact_text(page.url)}"
    assert deployment.me(token)["email"] == user.email, "the portal login's session is not the user's"
