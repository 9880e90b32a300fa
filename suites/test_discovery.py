"""DISC: discovery and keys — how the gateway finds the IdP's endpoints and keys, and lives through their failures.

Logins are driven over HTTP and judged by the gateway's raw answers; what the gateway asked the IdP is read from the
mock's journal. Discovery and JWKS faults, key rotation, moved endpoints and issuer mismatches cannot be scoped to a
user, so those checks get a gateway and a mock of their own (global faults go on only once that gateway is up, except
DISC-07's moved endpoints, which are moved before it starts). DISC-01 and DISC-06 need no global fault.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import pytest

from hoop_conformance.assertions import assert_refused, assert_status, describe, sets_session
from hoop_conformance.catalogue import INFO, MUST, SHOULD, check
from hoop_conformance.check_fixtures import Figures
from hoop_conformance.contract import LOGIN, USERINFO
from hoop_conformance.deployment import Deployment
from hoop_conformance.faults import fault
from hoop_conformance.gateway_api import assert_serving
from hoop_conformance.gateways import gateway
from hoop_conformance.idp.control import MockControl
from hoop_conformance.journal import GATEWAY_ENDPOINTS, Journal
from hoop_conformance.logins import PendingLogin, assert_signs_in, attempt_login, login_url_of
from hoop_conformance.waiting import wait_for

RECOVERY_ANSWER_LIMIT = 10.0
"""Seconds within which the gateway must answer while the IdP's discovery or JWKS fails (checks.md DISC-03/04)."""
MOVED_FIELDS = {"token": "token_endpoint", "userinfo": "userinfo_endpoint", "jwks": "jwks_uri"}
"""Journal endpoint -> the discovery field that says where the gateway must send it."""
UNKNOWN_KEY_TAMPERS = {
    "unknown_key": "signed by a key whose kid is not in the JWKS",
    "bad_signature": "signed by no JWKS key, under a kid the JWKS publishes",
}
"""DISC-06's forgeries: the mock's ``id_token`` tampers, and what each makes of the ID token."""
API_CALLS = 5
"""API calls DISC-08 averages over."""


@check(
    "DISC-01",
    level=MUST,
    ref="OIDC Discovery §4.3",
    requirement="With JumpCloud's issuer (a trailing slash), a full login works.",
    staging=True,
)
@gateway(own_idp=False, warm_up=False)
def test_issuer_with_trailing_slash_logs_in(deployment: Deployment) -> None:
    # A fresh gateway (not warmed up): a gateway that mishandles the slash cannot log anyone in, and the check
    # must report that as its own failure rather than as the shared gateway's failed start.
    issuer = deployment.gateway.registration.issuer
    assert issuer.endswith("/"), f"the check needs an issuer with JumpCloud's trailing slash; it got {issuer}"
    assert deployment.idp.discovery()["issuer"] == issuer, "the IdP's discovery issuer is not the configured one"
    for attempt in ("a first login", "a second login"):  # a gateway that works only once does not "work"
        assert_signs_in(deployment, deployment.make_user(), f"{attempt} with the issuer {issuer}")


@check(
    "DISC-02",
    level=MUST,
    ref="OIDC Discovery §4.3",
    requirement="When the discovery document's issuer differs from the configured one, the gateway sends nobody to "
    "the IdP, exchanges no code, and answers with an error.",
)
@gateway(warm_up=False)
def test_discovery_issuer_mismatch_stops_logins(deployment: Deployment) -> None:
    deployment.positive_control(what="a login before the issuer changed")
    user = deployment.make_user()
    pending = deployment.login_until_callback(user)
    with deployment.fault("discovery_issuer_mismatch"):
        cursor = deployment.journal.cursor()
        answer = deployment.start_login(deployment.client(), deployment.gateway.landing_url)
        assert answer.status_code >= 400 and "login_url" not in answer.text, (
            "with a discovery issuer that differs from the configured one, /api/login must answer an error and send "
            f"nobody to the IdP; got {describe(answer)}"
        )
        callback = pending.client.get(pending.callback_url)
        assert not sets_session(callback), (
            f"a login begun before the issuer changed was completed after it: {describe(callback)}"
        )
        deployment.journal.assert_none("token", since=cursor, why="while the discovery issuer differed")


OUTAGES = [
    pytest.param(
        "discovery",
        marks=check("DISC-03", level=MUST, ref="robustness",
                    requirement="While discovery answers 500 the gateway answers with an error within 10 s and does "
                    "not crash; once discovery recovers, logins work again without a restart."),
        id="DISC-03-discovery",
    ),
    pytest.param(
        "jwks",
        marks=check("DISC-04", level=MUST, ref="robustness",
                    requirement="While the JWKS answers 500 the gateway answers with an error within 10 s and does not "
                    "crash; once the JWKS recovers, logins work again without a restart."),
        id="DISC-04-jwks",
    ),
]  # fmt: skip
"""The IdP endpoints whose outage the gateway must survive, one check each."""


@pytest.mark.parametrize("endpoint", OUTAGES)
@gateway(warm_up=False)
def test_idp_outage_is_survived(deployment: Deployment, endpoint: str) -> None:
    with deployment.fault("respond", endpoint=endpoint, status=500, body='{"error":"server_error"}'):
        attempt = attempt_login(deployment, deployment.make_user(), limit=RECOVERY_ANSWER_LIMIT)
    assert attempt.slowest <= RECOVERY_ANSWER_LIMIT, (
        f"while the IdP's {endpoint} failed the gateway took {attempt.slowest:.1f} s to answer "
        f"(limit {RECOVERY_ANSWER_LIMIT:g} s): {attempt.shown()}"
    )
    assert_serving(deployment.gateway, limit=RECOVERY_ANSWER_LIMIT)
    for which in ("a login", "another login"):  # "logins work again", not one
        assert_signs_in(deployment, deployment.make_user(), f"{which} once the IdP's {endpoint} recovered (no restart)")


@check(
    "DISC-05",
    level=MUST,
    ref="OIDC Core 1.0 §10.1.1",
    requirement="After the IdP rotates its signing key (a new kid, the old key gone), new logins succeed without "
    "a restart.",
)
@gateway(warm_up=False)
def test_new_logins_succeed_after_key_rotation(deployment: Deployment) -> None:
    control = deployment.control
    assert_signs_in(deployment, deployment.make_user(), "before the key rotation")
    old = control.signing_keys()["signing"]
    new = control.rotate_keys(keep_old=False)
    assert old not in control.signing_keys()["kids"], "the mock kept the old key"
    assert_signs_in(deployment, deployment.make_user(), f"after the IdP rotated its signing key ({old} -> {new})")


@check(
    "DISC-06",
    level=MUST,
    ref="OIDC Core 1.0 §3.1.3.7-6",
    requirement="An ID token signed by a key that is not in the IdP's JWKS is rejected.",
)
def test_id_token_signed_by_an_unknown_key_is_rejected(deployment: Deployment, control: MockControl) -> None:
    # The tampers are scoped to the check's users, so the worker's shared gateway serves (a refetch of the JWKS on
    # an unknown kid disturbs nobody). Two forgeries: a key whose kid the JWKS lacks, and a signature that no JWKS
    # key made under a kid the JWKS publishes (the mock's closest to a foreign key claiming a published kid).
    deployment.positive_control(what="a login without a forged ID token")
    for tamper, what in UNKNOWN_KEY_TAMPERS.items():
        user = deployment.make_user()
        with deployment.fault("id_token", endpoint="token", user=user.email, tamper=tamper):
            login = deployment.login(user)
        assert_refused(login.answer, f"a login whose ID token is {what}")


@check(
    "DISC-07",
    level=MUST,
    ref="OIDC Discovery §3",
    requirement="When the IdP's endpoints live at non-default paths, the gateway uses the discovered ones, at login "
    "and on the API.",
)
@gateway(warm_up=False, idp_faults=(fault("move_endpoints"),))
def test_discovered_endpoints_are_used(deployment: Deployment) -> None:
    document = deployment.idp.discovery()
    journal, user, client = deployment.journal, deployment.make_user(), deployment.client()
    cursor = journal.cursor()
    start = deployment.start_login(client, deployment.gateway.landing_url)
    login_url = login_url_of(start)
    assert login_url.startswith(document["authorization_endpoint"] + "?"), (
        f"the login URL must be at the discovered authorization endpoint {document['authorization_endpoint']}; "
        f"it is at {urlsplit(login_url)._replace(query='').geturl()}"
    )
    callback_url = deployment.complete_at_idp(client, login_url, user)
    login = PendingLogin(client, start, callback_url).finish()
    assert login.succeeded, f"with the endpoints moved, the login failed: {describe(login.answer)}"
    api_cursor = journal.cursor()
    assert_status(deployment.gateway.api(USERINFO, login.token), 200, "an API call with the endpoints moved")
    assert journal.entries("userinfo", since=api_cursor), "the API call never reached the discovered userinfo"
    for endpoint, field in MOVED_FIELDS.items():
        expected = urlsplit(document[field]).path
        wrong = [e for e in journal.entries(endpoint, since=cursor, app_only=False) if e["path"] != expected]
        assert not wrong, (
            f"the gateway sent {endpoint} requests to {sorted({e['path'] for e in wrong})}, not to the discovered "
            f"{document[field]}"
        )


@check(
    "DISC-08",
    level=INFO,
    ref="—",
    requirement="The IdP requests the gateway makes per login and per API call.",
    staging=True,
)
def test_idp_requests_per_login_and_api_call(deployment: Deployment, journal: Journal, figures: Figures) -> None:
    user = deployment.make_user()
    cursor = journal.cursor()
    token = deployment.sign_in(user)
    per_login = journal.requests_by_endpoint(cursor)
    cursor = journal.cursor()
    for _ in range(API_CALLS):
        assert deployment.me(token)["email"] == user.email
    per_call = journal.requests_by_endpoint(cursor)
    figures.record("IdP requests per login", per_login.total())
    figures.record("IdP requests per API call", per_call.total() / API_CALLS)
    for endpoint in GATEWAY_ENDPOINTS:
        figures.record(f"{endpoint} requests per login", per_login[endpoint])
        figures.record(f"{endpoint} requests per API call", per_call[endpoint] / API_CALLS)
    assert per_login["token"] >= 1, "the journal shows no token request for a login that succeeded"


@check(
    "DISC-09",
    level=SHOULD,
    ref="robustness",
    requirement="When discovery hangs as a login starts, /api/login still answers (an error) within the time budget "
    "and the gateway keeps serving other requests.",
)
@gateway(warm_up=False)
def test_hanging_discovery_does_not_hang_the_gateway(deployment: Deployment, time_budget: float) -> None:
    journal = deployment.journal
    token = deployment.positive_control(what="a login before the hang").token
    starter = deployment.client()
    cursor = journal.cursor()

    def start_login() -> httpx.Response:
        return starter.get(
            deployment.gateway.url + LOGIN, params={"redirect": deployment.gateway.landing_url}, timeout=time_budget
        )

    # the hang is removed (releasing the IdP's held request) before the pool waits for the login's thread
    with ThreadPoolExecutor(max_workers=1) as pool, deployment.fault("delay", endpoint="discovery", seconds=None):
        began = time.monotonic()
        pending: Future[httpx.Response] = pool.submit(start_login)
        wait_for(
            lambda: pending.done() or journal.entries("discovery", since=cursor, app_only=False),
            timeout=time_budget,
            message="the login's discovery request reaching the IdP",
        )
        assert_serving(deployment.gateway, limit=time_budget)
        api = deployment.gateway.api(USERINFO, token, timeout=time_budget)
        assert api.status_code < 500, f"while discovery hangs an API call failed: {describe(api)}"
        try:
            answer = pending.result()
        except httpx.TimeoutException:
            raise AssertionError(
                f"/api/login was not answered within the time budget ({time_budget:g} s) while discovery hangs"
            ) from None
    elapsed = time.monotonic() - began
    assert elapsed <= time_budget, f"/api/login took {elapsed:.1f} s (budget {time_budget:g} s): {describe(answer)}"
