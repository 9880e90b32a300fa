"""TOKEN: validating the IdP's access token on the API (opaque, checked at userinfo on every call; or a JWT).

Every refusal is judged by the gateway's raw answer; what the gateway asked the IdP is read from the mock's journal.
Faults are scoped to the check's user, except the clock (TOKEN-03) and the JWT setup (TOKEN-11), which get a
gateway and a mock of their own.
"""

from __future__ import annotations

import secrets
import statistics
import time

import httpx

from hoop_conformance.assertions import assert_status, describe, redact
from hoop_conformance.catalogue import INFO, MUST, SHOULD, check
from hoop_conformance.check_fixtures import Figures
from hoop_conformance.contract import USERINFO
from hoop_conformance.deployment import Deployment
from hoop_conformance.forgery import forgeries
from hoop_conformance.gateways import gateway
from hoop_conformance.idp.control import MockControl
from hoop_conformance.idp.oauth_client import userinfo_status
from hoop_conformance.waiting import timed

FAIL_CLOSED = (401, 503)
"""What a gateway may answer when it cannot validate a token: never 200, never 500."""
REFUSED = (401, 403)
"""A token the gateway must not accept as a session."""
"""Another client's redirect URI: the IdP sends the code there, and nothing ever listens."""


@check(
    "TOKEN-01",
    level=MUST,
    ref="RFC 6750 §2.1",
    requirement="An API call with a valid token answers 200, and the gateway sent the token to userinfo "
    "in the Authorization header.",
    staging=True,
)
def test_valid_token_is_checked_at_userinfo_in_the_header(deployment: Deployment) -> None:
    user = deployment.make_user()
    token = deployment.sign_in(user)
    since = deployment.journal.cursor() if deployment.idp.control is not None else None
    assert deployment.me(token)["email"] == user.email
    if since is None:  # a real tenant keeps no journal: the 200 is all that can be seen
        return
    calls = deployment.journal.entries("userinfo", since=since, user=user.email)
    sent = [str(call["headers"].get("authorization", "")) for call in calls]
    expected = f"bearer {redact(token)}"
    assert any(value.lower() == expected.lower() for value in sent), (
        f"the API call was answered 200 but the token never reached userinfo as 'Authorization: Bearer <token>' "
        f"({len(calls)} userinfo request(s) since the call, Authorization {sent})"
    )


@check(
    "TOKEN-02",
    level=MUST,
    ref="RFC 9700 §4.14",
    requirement="A token revoked at the IdP is refused (401) on the next API call.",
    staging=True,
)
def test_token_revoked_at_the_idp_is_refused(deployment: Deployment) -> None:
    token = deployment.positive_control(what="the user's session before the revocation").token
    revoked = httpx.post(
        deployment.idp.discovery()["revocation_endpoint"],
        auth=(deployment.app["client_id"], deployment.app["client_secret"]),
        data={"token": token, "token_type_hint": "access_token"},
        trust_env=False,
        timeout=10.0,
        verify=deployment.idp.tls,
    )
    assert revoked.status_code == 200, f"the IdP did not revoke the token: {revoked.status_code} {revoked.text[:200]}"
    assert userinfo_status(deployment.idp, token) == 401, "the IdP still accepts the token it revoked"
    assert_status(deployment.gateway.api(USERINFO, token), 401, "an API call with a token revoked at the IdP")


@check(
    "TOKEN-03",
    level=MUST,
    ref="RFC 6750 §3.1",
    requirement="A token that has expired at the IdP is refused (401).",
)
@gateway()
def test_token_expired_at_the_idp_is_refused(deployment: Deployment) -> None:
    token = deployment.positive_control(what="the user's session before it expires").token
    deployment.control.advance_clock(int(deployment.app.get("access_token_ttl", 3600)) + 60)
    assert userinfo_status(deployment.idp, token) == 401, "the IdP still accepts the token after its lifetime"
    assert_status(deployment.gateway.api(USERINFO, token), 401, "an API call with a token expired at the IdP")


@check(
    "TOKEN-04",
    level=MUST,
    ref="robustness",
    requirement="When userinfo answers 500 or 429 the API call fails closed (401 or 503), never 200 or 500.",
)
def test_userinfo_errors_fail_closed(deployment: Deployment, control: MockControl) -> None:
    signed = deployment.positive_control(what="the user's session before the failures")
    user, token = signed.user, signed.token
    for status, body in ((500, "internal error"), (429, "rate limited")):
        with deployment.fault("respond", endpoint="userinfo", user=user.email, status=status, body=body):
            answer = deployment.gateway.api(USERINFO, token)
        assert_status(answer, FAIL_CLOSED, f"an API call while userinfo answers {status}")


@check(
    "TOKEN-05",
    level=MUST,
    ref="robustness",
    requirement="When userinfo answers HTML or malformed JSON the API call fails closed (401 or 503).",
)
def test_unparseable_userinfo_fails_closed(deployment: Deployment, control: MockControl) -> None:
    signed = deployment.positive_control(what="the user's session before the failures")
    user, token = signed.user, signed.token
    bodies = {
        "an HTML page": ("text/html", "<html><body><h1>Service unavailable</h1></body></html>"),
        "malformed JSON": ("application/json", '{"sub": "'),
    }
    for what, (content_type, body) in bodies.items():
        with deployment.fault(
            "respond", endpoint="userinfo", user=user.email, status=200, body=body, content_type=content_type
        ):
            answer = deployment.gateway.api(USERINFO, token)
        assert_status(answer, FAIL_CLOSED, f"an API call while userinfo answers 200 with {what}")


@check(
    "TOKEN-06",
    level=SHOULD,
    ref="robustness",
    requirement="When userinfo hangs the API call fails closed (401 or 503) within the time budget.",
)
def test_hanging_userinfo_fails_closed_in_time(
    deployment: Deployment, control: MockControl, time_budget: float
) -> None:
    signed = deployment.positive_control(what="the user's session before the hang")
    user, token = signed.user, signed.token
    with deployment.fault("delay", endpoint="userinfo", user=user.email, seconds=None):
        began = time.monotonic()
        try:
            answer = deployment.gateway.api(USERINFO, token, timeout=time_budget + 1.0)
        except httpx.TimeoutException:
            answer = None
        elapsed = time.monotonic() - began
    assert answer is not None, f"the API call was still unanswered after {elapsed:.1f} s while userinfo hangs"
    assert elapsed <= time_budget, f"the API call took {elapsed:.1f} s (budget {time_budget:g} s): {describe(answer)}"
    assert_status(answer, FAIL_CLOSED, "an API call while userinfo hangs")


@check(
    "TOKEN-07",
    level=MUST,
    ref="RFC 6750 §3.1",
    requirement="A token the IdP never issued is refused (401).",
    staging=True,
)
def test_token_the_idp_never_issued_is_refused(deployment: Deployment) -> None:
    deployment.positive_control(what="a token the IdP issued opens the API")
    never_issued = f"ory_at_{secrets.token_urlsafe(32)}.{secrets.token_urlsafe(32)}"
    assert_status(deployment.gateway.api(USERINFO, never_issued), 401, "an API call with a token nobody issued")


@check(
    "TOKEN-08",
    level=SHOULD,
    ref="RFC 9700 §4.10",
    requirement="A valid access token that the same IdP issued to another client is refused.",
)
def test_token_issued_to_another_client_is_refused(deployment: Deployment, control: MockControl) -> None:
    user = deployment.positive_control(what="the user's own login").user
    token = str(deployment.foreign_tokens(user)["access_token"])
    assert userinfo_status(deployment.idp, token) == 200, "the other client's token is not valid at the IdP"
    assert_status(deployment.gateway.api(USERINFO, token), REFUSED, "an API call with another client's token")


@check(
    "TOKEN-09",
    level=MUST,
    ref="RFC 6750 §2.1",
    requirement="Malformed Authorization headers (lower-case scheme, two spaces, Basic, empty, three dotted "
    "garbage parts) are answered 401, never 5xx.",
    staging=True,
)
def test_malformed_authorization_headers_are_401(deployment: Deployment) -> None:
    token = deployment.positive_control(what="the user's session with a well-formed header").token
    headers = {
        "lower-case scheme": f"bearer {token}",
        "two spaces": f"Bearer  {token}",
        "Basic": f"Basic {token}",
        "empty": "",
        "three garbage parts": "Bearer a.b.c",
        "three empty parts": "Bearer ..",
        "three base64 parts that are not JSON": "Bearer Zm9v.YmFy.YmF6",
    }
    for what, value in headers.items():
        answer = deployment.gateway.get(USERINFO, headers={"Authorization": value})
        assert_status(answer, 401, f"an Authorization header with {what}")


@check(
    "TOKEN-10",
    level=MUST,
    ref="contract",
    requirement="After the user is suspended at the IdP, the next API call with their token is refused (401).",
    staging=True,
)
def test_user_suspended_at_the_idp_is_refused(deployment: Deployment) -> None:
    signed = deployment.positive_control(what="the user's session before the suspension")
    user, token = signed.user, signed.token
    deployment.idp.admin.suspend_user(user.id)
    assert_status(deployment.gateway.api(USERINFO, token), 401, "an API call after the user was suspended at the IdP")


@check(
    "TOKEN-11",
    level=MUST,
    ref="RFC 9068 §4",
    requirement="With JWT access tokens, forged JWTs (bad signature, alg none, other issuer, expired) and genuinely "
    "signed JWTs that are not access tokens for this gateway (an ID token, another client's token) are refused.",
)
@gateway(app={"access_token_format": "jwt"})
def test_jwts_that_are_not_this_gateways_access_tokens_are_refused(deployment: Deployment) -> None:
    user = deployment.positive_control(what="the user's own login").user
    own = deployment.own_tokens(user)
    assert str(own["access_token"]).count(".") == 2, "the IdP was asked for JWT access tokens but issued another kind"
    other = deployment.foreign_tokens(user, access_token_format="jwt")
    refused = {
        **{f"forged ({how})": forged for how, forged in forgeries(str(own["access_token"])).items()},
        "this client's ID token": str(own["id_token"]),
        "another client's JWT access token": str(other["access_token"]),
        "another client's ID token": str(other["id_token"]),
    }
    accepted: dict[str, int] = {}
    for what, token in refused.items():
        answer = deployment.gateway.api(USERINFO, token)
        if answer.status_code != 401:
            accepted[what] = answer.status_code
    assert not accepted, f"JWTs that are not access tokens for this gateway must be refused (401); accepted: {accepted}"


@check(
    "TOKEN-12",
    level=INFO,
    ref="—",
    requirement="Userinfo calls per API call, and the latency the token check adds to an API call.",
    staging=True,
)
def test_token_check_cost(deployment: Deployment, figures: Figures) -> None:
    user = deployment.make_user()
    token = deployment.sign_in(user)
    rounds = 10
    since = deployment.journal.cursor() if deployment.idp.control is not None else None

    def api_call() -> None:
        assert_status(deployment.gateway.api(USERINFO, token), 200, "an API call")

    api_times = [timed(api_call) for _ in range(rounds)]
    if since is not None:
        calls = deployment.journal.entries("userinfo", since=since, user=user.email)
        figures.record("userinfo calls per API call", len(calls) / rounds)
    url, bearer = deployment.idp.discovery()["userinfo_endpoint"], {"Authorization": f"Bearer {token}"}
    with httpx.Client(trust_env=False, timeout=10.0, verify=deployment.idp.tls) as idp:
        idp_times = [timed(lambda: idp.get(url, headers=bearer).raise_for_status()) for _ in range(rounds)]
    api, direct = statistics.median(api_times), statistics.median(idp_times)
    figures.record("API call latency (median)", api * 1000, " ms")
    figures.record("IdP userinfo latency (median)", direct * 1000, " ms")
    figures.record("latency added by the gateway (median)", (api - direct) * 1000, " ms")
