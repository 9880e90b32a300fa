"""``/api/login`` and ``/api/callback``: the authorize request, redirect checks, state rules, ID token checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from hoop_conformance.contract import SESSION_COOKIE
from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from mock_idp.faults import ID_TOKEN_TAMPERS
from mock_idp.settings import MockIdpSettings
from tests.reference_gateway.harness import Harness, harness

STATE_ERROR = {"message": "failed to retrieve login state internally"}


def query_of(url: str) -> dict[str, str]:
    """The query of ``url`` as single values."""
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def token_requests(gw: Harness) -> int:
    """How many token requests the gateway's app has made so far."""
    return len(gw.idp.control.journal(app=gw.app["client_id"], endpoint="token"))


def assert_refused_after_state(gw: Harness, response: httpx.Response, redirect: str) -> None:
    """A login refused after the state lookup: 307 to the redirect with ``error=unexpected_error``, no session."""
    assert response.status_code == 307, response.text
    assert response.headers["location"] == f"{redirect}?error=unexpected_error"
    assert SESSION_COOKIE not in response.cookies


# /api/login


def test_login_url_carries_state_nonce_and_pkce(gw: Harness) -> None:
    client = gw.client()
    first, second = gw.start_login(client, f"{gw.url}/callback"), gw.start_login(client, f"{gw.url}/callback")
    assert first.status_code == 200 and set(first.json()) == {"login_url"}
    url = first.json()["login_url"]
    assert url.startswith(f"{gw.idp.issuer}oauth2/auth?")
    params = query_of(url)
    assert params["client_id"] == gw.app["client_id"]
    assert params["redirect_uri"] == f"{gw.url}/api/callback"
    assert params["response_type"] == "code"
    assert params["scope"].split() == ["openid", "profile", "email"]
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43
    again = query_of(second.json()["login_url"])
    for name in ("state", "nonce", "code_challenge"):
        assert again[name] != params[name]
    binding = first.headers["set-cookie"]
    assert binding.startswith("refgw_login=") and "HttpOnly" in binding and "SameSite=Lax" in binding


@pytest.mark.parametrize(
    "redirect",
    [
        "http://evil.test/callback",
        "http://127.0.0.1.evil.test/callback",
        "http://evil.test\\@127.0.0.1:{port}/callback",
        "//evil.test/callback",
        "http://127.0.0.1:{port}@evil.test/callback",
        "http://user@127.0.0.1:{port}/callback",
        "https://127.0.0.1:{port}/callback",
        "ftp://127.0.0.1:{port}/callback",
        "javascript://127.0.0.1:{port}/%0aalert(1)",
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1/callback",
        "http://localhost:{port}/callback",
        "/callback",
        "http://127.0.0.1:3587/other",
    ],
)
def test_redirect_off_the_api_origin_is_refused(gw: Harness, redirect: str) -> None:
    response = gw.start_login(gw.client(), redirect.format(port=gw.gateway.port))
    assert response.status_code == 422
    assert response.json() == {"message": "redirect attribute does not match with api url"}
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", ["/callback", "/", "/some/page?tab=2", ""])
def test_redirect_on_the_api_origin_is_accepted(gw: Harness, path: str) -> None:
    assert gw.start_login(gw.client(), f"{gw.url}{path}").status_code == 200


def test_default_redirect_is_the_cli_listener(gw: Harness) -> None:
    user = gw.user()
    client = gw.client()
    start = client.get(f"{gw.url}/api/login")
    callback = gw.complete_at_idp(client, start.json()["login_url"], user)
    response = client.get(callback)
    assert response.headers["location"].startswith("http://127.0.0.1:3587/callback?token=")


# /api/callback


def test_full_login_signs_the_user_in(gw: Harness) -> None:
    user = gw.user(email=f"Mixed.Case.{time.time_ns()}@Example.TEST")
    login = gw.login(user, redirect=f"{gw.url}/some/page?tab=2")
    assert login.answer.status_code == 307
    assert login.answer.headers["location"] == f"{gw.url}/some/page?tab=2"
    me = gw.me(login.token or "")
    assert me["email"] == user.email.lower()
    assert me["name"] == f"{user.firstname} {user.lastname}" and me["status"] == "active" and me["role"] == "standard"


def test_token_request_uses_basic_auth_pkce_and_the_same_redirect_uri(gw: Harness) -> None:
    user = gw.user()
    login = gw.login(user)
    verifier_challenge = query_of(login.start.json()["login_url"])["code_challenge"]
    entry = gw.idp.control.journal(user=user.email, endpoint="token")[-1]
    assert entry["client_auth"] == "client_secret_basic"
    assert entry["form"]["grant_type"] == "authorization_code"
    assert entry["form"]["redirect_uri"] == f"{gw.url}/api/callback"
    assert "client_secret" not in entry["form"] and "code_verifier" in entry["form"]
    assert verifier_challenge  # the mock verified the verifier against it, or the login would have failed
    assert login.token


def test_idp_error_is_answered_without_a_token_request(gw: Harness) -> None:
    client = gw.client()
    state = query_of(gw.start_login(client, f"{gw.url}/callback").json()["login_url"])["state"]
    before = token_requests(gw)
    script = "<script>alert(1)</script>"
    response = client.get(
        f"{gw.url}/api/callback", params={"error": "access_denied", "error_description": script, "state": state}
    )
    assert response.status_code == 401
    assert response.json() == {"message": "the identity provider refused the login: access_denied"}
    assert "<script" not in response.text and SESSION_COOKIE not in response.cookies
    assert client.get(f"{gw.url}/api/callback", params={"state": state, "code": "x"}).json() == STATE_ERROR
    assert token_requests(gw) == before


def test_idp_error_from_the_authorize_endpoint(gw: Harness) -> None:
    user = gw.user()
    gw.idp.control.add_fault("authorize_error", user=user.email, error="access_denied", description="<b>no</b>")
    login = gw.login(user)
    assert login.answer.status_code == 401 and "<b>" not in login.answer.text
    assert not login.token


@pytest.mark.parametrize("params", [{"state": "forged-state-value", "code": "x"}, {"code": "x"}, {}])
def test_unknown_or_missing_state_is_refused_without_calling_the_idp(gw: Harness, params: dict[str, str]) -> None:
    before = token_requests(gw)
    response = gw.client().get(f"{gw.url}/api/callback", params=params)
    assert response.status_code == 400 and response.json() == STATE_ERROR
    assert token_requests(gw) == before


def test_state_is_single_use(gw: Harness) -> None:
    user = gw.user()
    login = gw.login(user)
    assert login.token
    replay = login.client.get(login.callback_url)
    assert replay.status_code == 400 and replay.json() == STATE_ERROR
    # the same state with a fresh code (the IdP session answers at once)
    fresh = gw.complete_at_idp(login.client, login.start.json()["login_url"], user)
    assert query_of(fresh)["code"] != query_of(login.callback_url)["code"]
    assert login.client.get(fresh).json() == STATE_ERROR


def test_state_is_bound_to_the_browser_that_started_the_login(gw: Harness) -> None:
    user = gw.user()
    client = gw.client()
    start = gw.start_login(client, f"{gw.url}/callback")
    callback = gw.complete_at_idp(client, start.json()["login_url"], user)
    before = token_requests(gw)
    stranger = gw.client().get(callback)
    assert stranger.status_code == 400 and stranger.json() == STATE_ERROR
    assert token_requests(gw) == before
    assert client.get(callback).status_code == 307  # the starting browser still can


def test_expired_state_is_refused(mock_idp) -> None:  # type: ignore[no-untyped-def]
    with harness(mock_idp, extra_env={"REFGW_STATE_TTL": "0"}, warm_up=False) as gw:
        client = gw.client()
        callback = gw.complete_at_idp(
            client, gw.start_login(client, f"{gw.url}/callback").json()["login_url"], gw.user()
        )
        assert client.get(callback).json() == STATE_ERROR


@pytest.mark.parametrize("tamper", ID_TOKEN_TAMPERS)
def test_bad_id_token_is_refused(gw: Harness, tamper: str) -> None:
    user = gw.user()
    gw.idp.control.add_fault("id_token", user=user.email, tamper=tamper)
    assert_refused_after_state(gw, gw.login(user).answer, f"{gw.url}/callback")


def test_id_token_without_kid_is_refused_while_the_jwks_holds_several_keys(gw: Harness) -> None:
    assert len(gw.idp.control.signing_keys()["kids"]) > 1
    user = gw.user()
    gw.idp.control.add_fault("id_token", user=user.email, tamper="no_kid")
    assert_refused_after_state(gw, gw.login(user).answer, f"{gw.url}/callback")


@pytest.fixture(scope="module")
def one_key_idp(pytestconfig: pytest.Config) -> Iterator[RunningMockIdp]:
    """A mock of this module's own whose JWKS holds exactly one key."""
    settings = MockIdpSettings(users=(), key_count=1)
    with start_mock_idp(settings, log_dir=pytestconfig.getoption("server_logs")) as running:
        yield running


def test_id_token_without_kid_is_verified_against_a_one_key_jwks(one_key_idp: RunningMockIdp) -> None:
    with harness(one_key_idp) as gw:
        user = gw.user()
        gw.idp.control.add_fault("id_token", user=user.email, tamper="no_kid")
        assert gw.me(gw.sign_in(user))["email"] == user.email
        gw.idp.control.add_fault("id_token", user=user.email, tamper="bad_signature")
        assert_refused_after_state(gw, gw.login(user).answer, f"{gw.url}/callback")


def test_require_kid_mutant_refuses_an_id_token_without_kid_from_a_one_key_jwks(one_key_idp: RunningMockIdp) -> None:
    with harness(one_key_idp, mutant="require_kid") as gw:  # its warm-up login, with a kid, succeeds
        user = gw.user()
        gw.idp.control.add_fault("id_token", user=user.email, tamper="no_kid")
        assert_refused_after_state(gw, gw.login(user).answer, f"{gw.url}/callback")


@pytest.mark.parametrize(
    ("kind", "params"),
    [("omit_id_token", {}), ("userinfo_sub_mismatch", {})],
)
def test_missing_id_token_or_other_userinfo_subject_is_refused(gw: Harness, kind: str, params: dict[str, str]) -> None:
    user = gw.user()
    gw.idp.control.add_fault(kind, user=user.email, **params)
    assert_refused_after_state(gw, gw.login(user).answer, f"{gw.url}/callback")


@pytest.mark.parametrize(
    "params",
    [
        {"status": 500, "body": "oops"},
        {"status": 200, "body": "<html>hello</html>", "content_type": "text/html"},
        {"status": 200, "body": "{not json", "content_type": "application/json"},
        {"status": 400, "body": '{"error": "invalid_grant"}', "content_type": "application/json"},
    ],
)
def test_token_endpoint_failure_is_a_clean_error(gw: Harness, params: dict[str, object]) -> None:
    user = gw.user()
    gw.idp.control.add_fault("respond", endpoint="token", user=user.email, **params)
    assert_refused_after_state(gw, gw.login(user).answer, f"{gw.url}/callback")
    assert httpx.get(f"{gw.url}/api/healthz", trust_env=False).status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"status": 400, "body": '{"error": "invalid_grant"}', "content_type": "application/json"},
        {"status": 401, "body": '{"error": "invalid_client"}', "content_type": "application/json"},
        {"status": 500, "body": "oops"},
        {"status": 200, "body": "<html>hello</html>", "content_type": "text/html"},
    ],
)
def test_failed_code_exchange_is_not_retried_with_the_secret_in_the_body(
    gw: Harness, params: dict[str, object]
) -> None:
    user = gw.user()
    since = gw.idp.control.journal_cursor()
    gw.idp.control.add_fault("respond", endpoint="token", user=user.email, **params)
    assert_refused_after_state(gw, gw.login(user).answer, f"{gw.url}/callback")
    (request,) = gw.idp.control.journal(app=gw.app["client_id"], endpoint="token", since=since)
    assert request["client_auth"] == "client_secret_basic"
    assert "client_secret" not in request["form"] and "client_id" not in request["form"]


def _started_state(gw: Harness, client: httpx.Client) -> str:
    """The state of a login started in ``client`` (whose binding cookie the callback then carries)."""
    return query_of(gw.start_login(client, f"{gw.url}/callback").json()["login_url"])["state"]


@pytest.mark.parametrize(
    "case",
    ["no state", "state not shaped like one", "empty code", "no code", "8 KB state", "8 KB code"],
)
def test_malformed_callback_is_a_4xx_without_a_token_request(gw: Harness, case: str) -> None:
    client = gw.client()
    state = _started_state(gw, client)
    params = {
        "no state": {"code": "c-1"},
        "state not shaped like one": {"state": "'; DROP TABLE login_states; --", "code": "c-1"},
        "empty code": {"state": state, "code": ""},
        "no code": {"state": state},
        "8 KB state": {"state": "s" * 8192, "code": "c-1"},
        "8 KB code": {"state": state, "code": "c" * 8192},
    }[case]
    since = gw.idp.control.journal_cursor()
    response = client.get(f"{gw.url}/api/callback", params=params)
    assert 400 <= response.status_code < 500 and "message" in response.json(), response.text
    assert SESSION_COOKIE not in response.cookies
    assert gw.idp.control.journal(app=gw.app["client_id"], endpoint="token", since=since) == []


def test_malformed_state_500_mutant_answers_a_bare_500_without_a_token_request(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, mutant="malformed_state_500", warm_up=False) as gw:
        client = gw.client()
        since = gw.idp.control.journal_cursor()
        for params in ({"code": "c-1"}, {"state": "'; DROP TABLE login_states; --", "code": "c-1"}):
            response = client.get(f"{gw.url}/api/callback", params=params)
            assert response.status_code == 500 and "set-cookie" not in response.headers, params
        assert SESSION_COOKIE not in client.cookies
        assert gw.idp.control.journal(app=gw.app["client_id"], endpoint="token", since=since) == []
        forged = client.get(f"{gw.url}/api/callback", params={"state": "forged-state-value", "code": "c-1"})
        assert forged.status_code == 400 and forged.json() == STATE_ERROR, "a state-shaped unknown state is still a 400"


def test_hanging_token_endpoint_is_cut_off(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, extra_env={"REFGW_IDP_TIMEOUT": "1"}) as gw:
        user = gw.user()
        mock_idp.control.add_fault("delay", endpoint="token", user=user.email, seconds=None)
        try:
            began = time.monotonic()
            response = gw.login(user).answer
            assert time.monotonic() - began < 10
            assert_refused_after_state(gw, response, f"{gw.url}/callback")
        finally:
            mock_idp.control.clear_faults()


def test_unverified_email_is_not_linked_to_an_existing_account(gw: Harness) -> None:
    user = gw.user()
    first = gw.me(gw.sign_in(user))
    gw.idp.control.add_fault("email_unverified", user=user.email, times=2)
    assert_refused_after_state(gw, gw.login(user).answer, f"{gw.url}/callback")
    assert gw.me(gw.sign_in(user))["id"] == first["id"]


def test_unverified_email_of_a_new_user_creates_an_account(gw: Harness) -> None:
    user = gw.user()
    gw.idp.control.add_fault("email_unverified", user=user.email, times=2)
    assert gw.me(gw.sign_in(user))["verified"] is False


def test_hoop_email_linking_mutant_signs_an_unverified_claimant_in_to_the_account(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, mutant="hoop_email_linking") as gw:
        admin = gw.sign_in(gw.user("admin"))
        owner, claimant = gw.user(f"owners-{gw.app_id[:6]}"), gw.user(f"claimants-{gw.app_id[:6]}")
        account = gw.me(gw.sign_in(owner))
        assert account["id"] == owner.id, "the id is the session's IdP sub"
        claims = {"email": owner.email.upper(), "email_verified": False}
        gw.idp.control.add_fault("id_token", user=claimant.email, claims=claims)
        session = gw.me(gw.sign_in(claimant))
        assert session["id"] == claimant.id and session["email"] == account["email"]
        assert session["name"] == account["name"] and session["groups"] == [f"claimants-{gw.app_id[:6]}"]
        users = gw.gateway.api("/api/users", admin).json()
        listed = [entry for entry in users if entry["email"] == owner.email.lower()]
        assert listed == [session], "one account, whose stored subject is now the claimant's"
        assert gw.gateway.api(f"/api/users/{claimant.id}", admin).json() == session


def test_hoop_email_linking_mutant_keeps_one_lower_case_account_per_user(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, mutant="hoop_email_linking") as gw:
        user = gw.user(email=f"Case.{time.time_ns()}@Example.TEST")
        first = gw.me(gw.sign_in(user))
        gw.idp.admin.update_user(user.id, email=user.email.upper())
        second = gw.me(gw.sign_in(user))
        assert second == first and second["email"] == user.email.lower()


def test_mixed_case_email_logins_share_one_account(gw: Harness) -> None:
    user = gw.user(email=f"Case.{time.time_ns()}@Example.TEST")
    first = gw.me(gw.sign_in(user))
    gw.idp.admin.update_user(user.id, email=user.email.upper())
    second = gw.me(gw.sign_in(user))
    assert first["id"] == second["id"] and second["email"] == user.email.lower()


def test_callback_page_escapes_what_it_shows(gw: Harness) -> None:
    response = httpx.get(f"{gw.url}/callback", params={"error": "<script>alert(1)</script>"}, trust_env=False)
    assert response.status_code == 401
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;alert(1)" in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_login_starts_at_the_discovered_endpoint_with_audience(mock_idp) -> None:  # type: ignore[no-untyped-def]
    env = {"IDP_AUDIENCE": "https://api.example.test", "IDP_CUSTOM_SCOPES": "offline_access, groups ,openid"}
    with harness(mock_idp, extra_env=env, warm_up=False) as gw:
        params = query_of(gw.start_login(gw.client(), f"{gw.url}/callback").json()["login_url"])
        assert params["audience"] == "https://api.example.test"
        assert params["scope"].split() == ["openid", "profile", "email", "offline_access", "groups"]
        assert params["access_type"] == "offline"


def test_callback_with_junk_parameters_is_a_clear_4xx(gw: Harness) -> None:
    junk = urlencode({"state": "\x00\u2603" * 50, "code": "'" * 5000})
    response = httpx.get(f"{gw.url}/api/callback?{junk}", trust_env=False)
    assert response.status_code == 400 and response.json() == STATE_ERROR
