"""CB: the callback (``/api/callback``): the login flow, the code exchange and what the gateway does with its answer.

Every check drives a real login (over HTTP, or in Chromium for CB-01) up to the IdP's redirect back, then sends the
callback raw and judges the gateway's answer: a refusal is a 4xx or a redirect carrying ``error=`` (and no session).
What the gateway sent to the IdP is read from the mock's journal; the staging checks (a real tenant, no journal)
judge the answers alone. Faults are scoped to the check's user, except CB-31's (discovery and JWKS cannot be
scoped), which gets a gateway and a mock of its own. The ID token checks (CB-09..CB-20) live in test_id_token.py.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
from playwright.sync_api import Page

from hoop_conformance.accounts import Account, shared_data, with_email
from hoop_conformance.assertions import (
    assert_no_session,
    assert_refused,
    describe,
    redact,
    redact_text,
    sets_session,
)
from hoop_conformance.catalogue import CONTRACT, MUST, SHOULD, check
from hoop_conformance.contract import USERINFO, USERS
from hoop_conformance.deployment import Deployment
from hoop_conformance.drivers.browser_flow import browser_login, browser_session_cookie
from hoop_conformance.faults import Respond
from hoop_conformance.gateway_api import answers_on_origin
from hoop_conformance.gateways import gateway
from hoop_conformance.idp.client_auth import basic_authorization
from hoop_conformance.idp.control import MockControl
from hoop_conformance.journal import secret_in_body
from hoop_conformance.judging import cannot_judge, precondition
from hoop_conformance.users import unique_group
from hoop_conformance.values import forged_like, mixed_case, page_of

SECRET_IN_BODY_GRACE = 0.5
"""Seconds to keep watching the journal for a late token request that carries the client secret in its body."""
HYDRA_INVALID_GRANT = (
    '{"error":"invalid_grant","error_description":"The provided authorization grant (e.g., authorization code, '
    "resource owner credentials) or refresh token is invalid, expired, revoked, does not match the redirection URI "
    'used in the authorization request, or was issued to another client.","status_code":400}'
)
HTML_PAGE = "<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>"


SERVER_ERROR = Respond("500", 500, '{"error":"server_error","status_code":500}')
HTML_ANSWER = Respond("HTML", 200, HTML_PAGE, "text/html; charset=utf-8")
BAD_JSON = Respond("bad JSON", 200, '{"access_token": "ory_at_', "application/json")
INVALID_GRANT = Respond("invalid_grant", 400, HYDRA_INVALID_GRANT)
INVALID_CLIENT = Respond("401", 401, '{"error":"invalid_client","status_code":401}')
HTML_ERROR = Respond("HTML error page", 502, HTML_PAGE, "text/html; charset=utf-8")


@check(
    "CB-01",
    level=MUST,
    ref="OIDC Core 1.0 §3.1",
    requirement="A full login in a real browser lands on the requested page with a working session, and "
    "/api/userinfo shows the IdP user (e-mail lower-cased, name).",
    staging=True,
)
def test_browser_login_lands_on_the_requested_page_signed_in(page: Page, deployment: Deployment) -> None:
    user = deployment.make_user(email=f"Conformance.CB01.{uuid.uuid4().hex[:10]}@Example.TEST")
    final_url = browser_login(page, deployment, user)
    landing = deployment.gateway.landing_url
    assert page_of(final_url) == page_of(landing), (
        f"the login must land on the requested page {landing}; the browser ended at {redact_text(final_url)}"
    )
    assert "error" not in dict(parse_qsl(urlsplit(final_url).query)), f"the login failed: {redact_text(final_url)}"
    me = deployment.me(browser_session_cookie(page, deployment)["value"])
    assert me.get("email") == user.email.lower(), (
        f"/api/userinfo must show the IdP user's e-mail lower-cased ({user.email.lower()}); it shows {me.get('email')}"
    )
    name = f"{user.firstname} {user.lastname}"
    assert me.get("name") == name, f"/api/userinfo must show the IdP user's name {name!r}; it shows {me.get('name')!r}"


@check(
    "CB-02",
    level=MUST,
    ref="RFC 6749 §4.1.3, OIDC Core 1.0 §9",
    requirement="The token request has grant_type=authorization_code and the authorize request's redirect_uri, and "
    "authenticates with client_secret_basic and the right secret, never the secret in the body.",
)
@gateway(own_idp=False, warm_up=False)
def test_token_request_uses_basic_auth_and_the_same_redirect_uri(deployment: Deployment) -> None:
    # A gateway of its own, not warmed up: the shared gateway's warm-up login needs the very client authentication
    # this check is about, so a gateway that gets it wrong would make the check an error instead of a failure.
    journal = deployment.journal
    since = journal.cursor()
    login = deployment.login(deployment.make_user())
    authorize_redirect_uri = dict(parse_qsl(urlsplit(login.start.json()["login_url"]).query)).get("redirect_uri")
    assert authorize_redirect_uri, "the authorize request carries no redirect_uri"
    requests = journal.entries("token", since=since)
    assert requests, "the gateway never sent a token request"
    registration = deployment.gateway.registration
    assert registration.client_secret is not None, "the gateway's client has no secret"
    credentials = basic_authorization(registration.client_id, registration.client_secret).partition(" ")[2]
    for number, entry in enumerate(requests, start=1):
        form = entry.get("form") or {}
        shown = f"token request #{number} (answered {entry.get('status')})"
        assert form.get("grant_type") == "authorization_code", f"{shown}: grant_type is {form.get('grant_type')!r}"
        assert form.get("redirect_uri") == authorize_redirect_uri, (
            f"{shown}: redirect_uri {form.get('redirect_uri')!r} differs from the authorize request's"
        )
        assert not secret_in_body(entry), f"{shown} carries the client secret in its body"
        assert entry.get("client_auth") == "client_secret_basic", (
            f"{shown}: the client must authenticate with client_secret_basic, not {entry.get('client_auth')}"
        )
        headers = {name.lower(): value for name, value in (entry.get("headers") or {}).items()}
        assert headers.get("authorization") == f"Basic {redact(credentials)}", (
            f"{shown}: the HTTP Basic credentials are not the client's id and secret"
        )
    assert login.succeeded, f"the login failed: {describe(login.answer)}"


@check(
    "CB-03",
    level=MUST,
    ref="RFC 6749 §4.1.2.1",
    requirement="When the IdP redirects back with error=access_denied, the gateway shows an error, starts no session "
    "and sends no token request.",
)
def test_idp_error_is_refused_without_a_token_request(deployment: Deployment, control: MockControl) -> None:
    deployment.positive_control()
    user = deployment.make_user()
    with deployment.fault("authorize_error", user=user.email, error="access_denied"):
        callback = deployment.login_until_callback(user)
    since = deployment.journal.cursor()
    answer = callback.client.get(callback.callback_url)
    assert_refused(answer, "a callback carrying error=access_denied")
    deployment.journal.assert_none("token", since=since, why="after the IdP answered error=access_denied")


@check(
    "CB-04",
    level=MUST,
    ref="RFC 6749 §10.12",
    requirement="A callback with a forged state is refused and no code is exchanged.",
    staging=True,
)
def test_forged_state_is_refused(deployment: Deployment) -> None:
    deployment.positive_control()
    callback = deployment.login_until_callback(deployment.make_user())
    params = callback.params
    forged = forged_like(params["state"])
    since = deployment.journal_cursor()
    answer = callback.client.get(callback.with_params({**params, "state": forged}))
    assert_refused(answer, "a callback with a forged state (same shape as the real one)")
    deployment.assert_no_token_request(since, "for a callback with a forged state")


@check(
    "CB-05",
    level=MUST,
    ref="RFC 6749 §10.12",
    requirement="A callback without state is refused: no session reaches the browser and no code is exchanged "
    "(the answer's status class is CB-30's business).",
    staging=True,
)
def test_callback_without_state_is_refused(deployment: Deployment) -> None:
    deployment.positive_control()
    callback = deployment.login_until_callback(deployment.make_user())
    params = {name: value for name, value in callback.params.items() if name != "state"}
    since = deployment.journal_cursor()
    answer = callback.client.get(callback.with_params(params))
    assert_no_session(callback.client, answer, "a callback without state")
    deployment.assert_no_token_request(since, "for a callback without state")


@check(
    "CB-06",
    level=SHOULD,
    ref="RFC 9700 §4.2.4",
    requirement="A state already used by a finished login is refused when it comes back with a fresh valid code.",
    staging=True,
)
def test_used_state_is_refused_with_a_fresh_code(deployment: Deployment) -> None:
    user = deployment.make_user()
    first = deployment.login_until_callback(user)
    done = first.client.get(first.callback_url)
    if not (done.is_redirect and sets_session(done)):
        raise cannot_judge(f"the first, untampered login failed: {describe(done)}")
    # the same authorize request again: the IdP (whose session skips the form) issues a fresh code for the same
    # state, PKCE challenge and nonce, so only the state's single use can stop it
    again = deployment.complete_at_idp(first.client, first.login_url, user)
    fresh = dict(parse_qsl(urlsplit(again).query))
    assert fresh.get("state") == first.params["state"], "the IdP did not send the same state back"
    assert fresh.get("code") and fresh["code"] != first.params["code"], "the IdP did not issue a fresh code"
    answer = first.client.get(again)
    assert_refused(answer, "a used state replayed with a fresh valid code")


@check(
    "CB-07",
    level=SHOULD,
    ref="RFC 9700 §2.1",
    requirement="A callback arriving in a browser that never started the login is refused (state bound to the user "
    "agent).",
    staging=True,
)
def test_callback_in_another_browser_is_refused(deployment: Deployment) -> None:
    deployment.positive_control()
    callback = deployment.login_until_callback(deployment.make_user())
    other_browser = deployment.client()
    answer = other_browser.get(callback.callback_url)
    assert_refused(answer, "a callback sent from a browser that never started the login")


@check(
    "CB-08",
    level=MUST,
    ref="RFC 6749 §4.1.2",
    requirement="The same callback URL replayed gives no second session.",
    staging=True,
)
def test_replayed_callback_gives_no_second_session(deployment: Deployment) -> None:
    callback = deployment.login_until_callback(deployment.make_user())
    first = callback.client.get(callback.callback_url)
    if not (first.is_redirect and sets_session(first)):
        raise cannot_judge(f"the login before the replay failed: {describe(first)}")
    replay = callback.client.get(callback.callback_url)
    assert not sets_session(replay), f"the replayed callback handed a session over again: {describe(replay)}"


@check(
    "CB-21",
    level=MUST,
    ref="RFC 6749 §5.2",
    requirement="When the token endpoint answers 500, HTML, bad JSON or invalid_grant, the callback is a clean error "
    "without a session, and the gateway keeps serving.",
)
def test_token_endpoint_failures_are_clean_errors(deployment: Deployment, control: MockControl) -> None:
    deployment.positive_control()
    for failure in (SERVER_ERROR, HTML_ANSWER, BAD_JSON, INVALID_GRANT):
        _, login = deployment.login_with_token_answer(failure)
        assert_refused(login.answer, f"a callback whose code exchange got {failure.name}")
    user = deployment.make_user()
    assert deployment.me(deployment.sign_in(user))["email"] == user.email, "a login after the failures went wrong"


@check(
    "CB-22",
    level=SHOULD,
    ref="robustness",
    requirement="When the token endpoint hangs, the callback is still answered within the time budget.",
)
def test_hanging_token_endpoint_is_cut_off(deployment: Deployment, control: MockControl, time_budget: float) -> None:
    user = deployment.make_user()
    callback = deployment.login_until_callback(user)
    with deployment.fault("delay", endpoint="token", user=user.email, seconds=None):
        began = time.monotonic()
        try:
            answer = callback.client.get(callback.callback_url, timeout=time_budget)
        except httpx.TimeoutException:
            raise AssertionError(
                f"the callback was not answered within the time budget ({time_budget:g} s) while the token endpoint "
                "hangs"
            ) from None
        elapsed = time.monotonic() - began
    assert elapsed <= time_budget, f"the callback took {elapsed:.1f} s (budget {time_budget:g} s)"
    assert not sets_session(answer), f"a session was handed over without a code exchange: {describe(answer)}"


@check(
    "CB-23",
    level=MUST,
    ref="OIDC Core 1.0 §5.3.2",
    requirement="A login whose userinfo sub differs from the ID token's sub is refused.",
)
def test_userinfo_sub_mismatch_is_refused(deployment: Deployment, control: MockControl) -> None:
    deployment.positive_control()
    user = deployment.make_user()
    with deployment.fault("userinfo_sub_mismatch", user=user.email):
        login = deployment.login(user)
    assert_refused(login.answer, "a login whose userinfo sub differs from the ID token's")


@check(
    "CB-24",
    level=SHOULD,
    ref="OIDC Core 1.0 §5.7",
    requirement="A login with email_verified false for an e-mail that already has an account is not linked to that "
    "account: the claimant's session carries none of the account's data (e-mail, name, groups) and the account is "
    "unchanged afterwards.",
)
def test_unverified_email_is_not_linked_to_an_existing_account(deployment: Deployment) -> None:
    # Accounts are compared by their data and the gateway's user list, never by /api/userinfo's id (accounts.py).
    owner = deployment.make_user(groups=(unique_group("owner"),))
    with precondition("the owner's own login"):
        account = Account.of(deployment.me(deployment.sign_in(owner)))
    claimant = deployment.another_person(owner, groups=(unique_group("claimant"),))
    claims = {"email": owner.email, "email_verified": False}
    with (
        deployment.fault("id_token", endpoint="token", user=claimant.email, claims=claims),
        deployment.fault("userinfo_claims", user=claimant.email, claims=claims, must_fire=False),
    ):
        login = deployment.login(claimant)
        session = deployment.gateway.api(USERINFO, login.token) if login.succeeded and login.token else None
    if session is not None and session.status_code == 200:
        shared = shared_data(account, Account.of(session.json()))
        assert not shared, (
            f"another IdP user claiming {owner.email} unverified (email_verified false) was signed in to that "
            f"e-mail's existing account: its session shows the account's {', '.join(shared)}"
        )
    with precondition("the owner's login after the claimant's"):
        after = Account.of(deployment.me(deployment.sign_in(owner)))
    assert after == account, f"the claimant's login changed the existing account: {account} became {after}"
    listed = with_email(deployment.accounts(), owner.email)
    assert [str(a) for a in listed] == [str(account)], (
        f"the gateway's user list must hold the existing account {account} once, unchanged; it holds "
        f"{[str(a) for a in listed]}"
    )


@check(
    "CB-25",
    level=CONTRACT,
    ref="contract",
    requirement="The same user logging in with the e-mail in mixed case keeps one account (the gateway's user list "
    "holds that e-mail once, in lower case) with the same groups.",
    staging=True,
)
def test_mixed_case_email_keeps_one_lower_case_account(deployment: Deployment) -> None:
    user = deployment.make_user(groups=(unique_group("case"),))
    with precondition("the user's first login"):
        first = Account.of(deployment.me(deployment.sign_in(user)))
    renamed = replace(user, email=mixed_case(user.email))
    deployment.idp.admin.update_user(user.id, email=renamed.email)
    second = Account.of(deployment.me(deployment.sign_in(renamed)))
    lower = user.email.lower()
    assert second.email == lower, f"the account's e-mail must be stored lower-case ({lower}); it is {second.email}"
    assert second.groups == first.groups, (
        f"after the IdP changed the e-mail's case to {renamed.email} the session's groups changed: "
        f"{sorted(first.groups)} became {sorted(second.groups)}"
    )
    listed = [a.email for a in with_email(deployment.accounts(), lower)]
    assert listed == [lower], (
        f"after logins as {user.email} and {renamed.email} the gateway's user list must hold {lower} once; "
        f"it holds {listed}"
    )


@check(
    "CB-26",
    level=MUST,
    ref="RFC 6749 §10.14",
    requirement="An error_description holding HTML or script is never reflected unescaped.",
)
def test_error_description_is_not_reflected(deployment: Deployment, control: MockControl) -> None:
    user = deployment.make_user()
    marker = secrets.token_hex(6)
    payloads = (f"<script>alert('{marker}')</script>", f"<img src=x onerror=alert('{marker}')>")
    with deployment.fault("authorize_error", user=user.email, error="access_denied", description="".join(payloads)):
        callback = deployment.login_until_callback(user)
    first = callback.client.get(callback.callback_url)
    for answer in answers_on_origin(callback.client, first, deployment.gateway.url):
        if "json" in answer.headers.get("content-type", "").lower():
            continue
        reflected = [p for p in payloads if p in answer.text]
        assert not reflected, f"the IdP's error_description is reflected unescaped: {reflected} in {describe(answer)}"


@check(
    "CB-27",
    level=CONTRACT,
    ref="contract",
    requirement="Once the user is made inactive in the gateway, its login is refused with no session cookie or token "
    "reaching the browser, and its existing session's API calls answer 401.",
    staging=True,
)
def test_inactive_user_is_refused(deployment: Deployment) -> None:
    admin_token = deployment.admin_token()
    user = deployment.make_user()
    with precondition("the user's login while active"):
        session = deployment.sign_in(user)
        me = deployment.me(session)
    body = {"email": me["email"], "name": me["name"], "status": "inactive", "groups": me.get("groups") or []}
    changed = deployment.gateway.api(f"{USERS}/{me['email']}", admin_token, method="PUT", json=body)
    if not changed.is_success:
        raise cannot_judge(f"an admin could not make the user inactive: {describe(changed)}")
    login = deployment.login(user)
    assert_no_session(login.client, login.answer, "the login of an inactive user")
    answer = deployment.gateway.api(USERINFO, session)
    assert answer.status_code == 401, f"the inactive user's existing session must get 401; got {describe(answer)}"


@check(
    "CB-28",
    level=MUST,
    ref="OIDC Core 1.0 §2",
    requirement="A login whose ID token has no sub is refused, even though userinfo answers one.",
)
def test_id_token_without_sub_is_refused(deployment: Deployment, control: MockControl) -> None:
    deployment.positive_control()
    user = deployment.make_user()
    with deployment.fault("id_token", endpoint="token", user=user.email, tamper="missing_sub"):
        login = deployment.login(user)
    assert_refused(login.answer, "a login whose ID token has no sub")


@check(
    "CB-29",
    level=SHOULD,
    ref="OIDC Core 1.0 §9, RFC 6749 §2.3.1",
    requirement="After a failed code exchange the gateway never retries with another client authentication method: "
    "the client secret never goes in a request body.",
)
def test_failed_exchange_is_not_retried_with_the_secret_in_the_body(
    deployment: Deployment, control: MockControl
) -> None:
    journal = deployment.journal
    first = journal.cursor()
    for failure in (INVALID_GRANT, INVALID_CLIENT, SERVER_ERROR, HTML_ERROR):
        since = journal.cursor()
        user, login = deployment.login_with_token_answer(failure)
        assert not login.succeeded, f"the login succeeded although its code exchange got {failure.name}"
        assert journal.entries("token", since=since, user=user.email), "the gateway never tried to exchange the code"
        deployment.journal.assert_secret_never_in_body(since, f"after the code exchange got {failure.name}", grace=0.0)
    deployment.journal.assert_secret_never_in_body(first, "after failed code exchanges", grace=SECRET_IN_BODY_GRACE)


@check(
    "CB-30",
    level=SHOULD,
    ref="robustness",
    requirement="Malformed callbacks (no state, a state not shaped like one, an empty code, 8 KB parameters) get a "
    "4xx, never a 5xx, and no token request.",
    staging=True,
)
def test_malformed_callbacks_are_4xx_without_a_token_request(deployment: Deployment) -> None:
    deployment.positive_control()
    since = deployment.journal_cursor()
    user = deployment.make_user()
    cases: dict[str, Callable[[dict[str, str]], dict[str, str]]] = {
        "no state": lambda p: {"code": p["code"]},
        "a state not shaped like one": lambda p: {"state": "'; DROP TABLE state; -- <>{}%", "code": p["code"]},
        "an empty code": lambda p: {"state": p["state"], "code": ""},
        "an 8 KB state": lambda p: {"state": "s" * 8192, "code": p["code"]},
        "an 8 KB code": lambda p: {"state": p["state"], "code": "c" * 8192},
    }
    for case, malformed in cases.items():
        callback = deployment.login_until_callback(user)
        before = deployment.journal_cursor()
        answer = callback.client.get(callback.with_params(malformed(callback.params)))
        assert 400 <= answer.status_code < 500, f"a callback with {case} must get a 4xx; got {describe(answer)}"
        assert not sets_session(answer), f"a callback with {case} handed a session over: {describe(answer)}"
        if before is not None:
            assert not deployment.journal.entries("token", since=before), f"a callback with {case} was exchanged"
    deployment.assert_no_token_request(since, "after malformed callbacks")


@check(
    "CB-31",
    level=SHOULD,
    ref="robustness",
    requirement="When the IdP's discovery or JWKS fails between /api/login and the callback, the browser is sent "
    "back to the app with an error (a redirect), never a bare 5xx.",
)
@gateway(warm_up=False)
def test_idp_failure_at_callback_sends_the_browser_back(deployment: Deployment) -> None:
    gateway_origin = urlsplit(deployment.gateway.url).netloc
    for endpoint in ("discovery", "jwks"):
        callback = deployment.login_until_callback(deployment.make_user())
        with deployment.fault("respond", endpoint=endpoint, status=500):
            answer = callback.client.get(callback.callback_url)
        location = answer.headers.get("location", "")
        assert answer.is_redirect and "error" in dict(parse_qsl(urlsplit(location).query)), (
            f"when the IdP's {endpoint} fails at the callback, the browser must be sent back with error=; "
            f"got {describe(answer)}"
        )
        target = urlsplit(urljoin(deployment.gateway.url + "/", location)).netloc
        assert target == gateway_origin, f"the error redirect leaves the app: {describe(answer)}"
        assert not sets_session(answer), f"a session was handed over: {describe(answer)}"
