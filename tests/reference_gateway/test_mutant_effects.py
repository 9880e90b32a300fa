"""Every mutant, switched on alone, visibly breaks its rule (the suite's own mutation run then names the check)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from hoop_conformance.contract import SESSION_COOKIE
from hoop_conformance.deployment import Login
from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from reference_gateway.mutants import MUTANTS
from tests.reference_gateway.harness import Harness, harness, set_cookies

CLAIM = "https://app.hoop.dev/groups"
CLI = "http://127.0.0.1:3587/callback"


@dataclass(frozen=True)
class Scenario:
    """How to show one mutant at work."""

    run: Callable[[Harness], None]
    env: dict[str, str] = field(default_factory=dict)
    app: dict[str, Any] = field(default_factory=dict)
    own_idp: bool = False
    warm_up: bool = True
    before_start: Callable[[RunningMockIdp], None] | None = None
    """What to do to the (own) IdP before the gateway starts."""


SCENARIOS: dict[str, Scenario] = {}


def shows(name: str, **options: Any) -> Callable[[Callable[[Harness], None]], Callable[[Harness], None]]:
    """Register the scenario for mutant ``name``."""

    def register(run: Callable[[Harness], None]) -> Callable[[Harness], None]:
        SCENARIOS[name] = Scenario(run=run, **options)
        return run

    return register


def succeeded(login: Login) -> bool:
    """Whether the login ended with a session."""
    location = login.answer.headers.get("location", "")
    return login.answer.status_code in (200, 307) and "error=" not in location and bool(login.token)


def login_with_fault(gw: Harness, kind: str, **params: Any) -> Login:
    """Log a fresh user in with a fault scoped to them."""
    user = gw.user()
    gw.idp.control.add_fault(kind, user=user.email, **params)
    return gw.login(user)


def params_of(gw: Harness, redirect: str | None = None) -> dict[str, str]:
    """The authorize request's parameters of a new login."""
    url = gw.start_login(gw.client(), redirect or f"{gw.url}/callback").json()["login_url"]
    return {key: value[0] for key, value in parse_qs(urlsplit(url).query).items()}


def cookie_attributes(login: Login) -> list[str]:
    """The session cookie's attributes."""
    (header,) = [c for c in set_cookies(login) if c.startswith(f"{SESSION_COOKIE}=")]
    return [part.strip() for part in header.split(";")[1:]]


def token_requests(gw: Harness, since: int) -> list[dict[str, Any]]:
    """The token requests of the harness's app since journal cursor ``since``."""
    return gw.idp.control.journal(app=gw.app["client_id"], endpoint="token", since=since)


def move_endpoints(idp: RunningMockIdp) -> None:
    """Serve and advertise the movable endpoints under ``/moved``."""
    idp.control.add_fault("move_endpoints", times=None)


def groups_of(gw: Harness, user: Any, **fault: Any) -> list[str]:
    """The user's groups after a login (with an ``id_token`` fault when given)."""
    if fault:
        gw.idp.control.add_fault("id_token", user=user.email, **fault)
    return list(gw.me(gw.sign_in(user))["groups"])


# discovery and keys


@shows("strip_issuer_slash", warm_up=False)
def _(gw: Harness) -> None:
    assert gw.start_login(gw.client()).status_code == 503


@shows("skip_issuer_match", own_idp=True)
def _(gw: Harness) -> None:
    gw.idp.control.add_fault("discovery_issuer_mismatch", times=None)
    assert gw.start_login(gw.client()).status_code == 200


@shows("discovery_failure_sticky", own_idp=True)
def _(gw: Harness) -> None:
    gw.idp.control.add_fault("respond", endpoint="discovery", status=500)
    assert gw.start_login(gw.client()).status_code == 503
    gw.idp.control.clear_faults()
    assert gw.start_login(gw.client()).status_code == 503


@shows("jwks_failure_sticky", own_idp=True, warm_up=False)
def _(gw: Harness) -> None:
    gw.idp.control.add_fault("respond", endpoint="jwks", status=500)
    assert not succeeded(gw.login(gw.user()))
    gw.idp.control.clear_faults()
    assert not succeeded(gw.login(gw.user()))


@shows("jwks_cached_forever", own_idp=True)
def _(gw: Harness) -> None:
    gw.idp.control.rotate_keys()
    assert not succeeded(gw.login(gw.user()))


@shows("skip_signature_on_unknown_kid")
def _(gw: Harness) -> None:
    assert succeeded(login_with_fault(gw, "id_token", tamper="unknown_key"))


@shows("hardcoded_endpoints", own_idp=True)
def _(gw: Harness) -> None:
    gw.idp.control.add_fault("move_endpoints", times=None)
    assert "/moved/" not in gw.start_login(gw.client()).json()["login_url"]


@shows("default_userinfo_path_on_api", own_idp=True, before_start=move_endpoints)
def _(gw: Harness) -> None:
    token = gw.sign_in(gw.user())
    assert gw.gateway.api("/api/userinfo", token).status_code == 401


@shows("no_discovery_timeout", own_idp=True, env={"REFGW_IDP_TIMEOUT": "1"})
def _(gw: Harness) -> None:
    gw.idp.control.add_fault("delay", endpoint="discovery", seconds=None, times=None)
    try:
        with pytest.raises(httpx.TimeoutException):
            gw.client().get(f"{gw.url}/api/login", timeout=4.0)
    finally:
        gw.idp.control.clear_faults()


# starting a login


@shows("login_redirects", warm_up=False)
def _(gw: Harness) -> None:
    response = gw.start_login(gw.client())
    assert response.status_code == 307


@shows("scope_openid_only", warm_up=False)
def _(gw: Harness) -> None:
    assert params_of(gw)["scope"] == "openid"


@shows("short_state")
def _(gw: Harness) -> None:
    assert len(params_of(gw)["state"]) < 16


@shows("no_pkce")
def _(gw: Harness) -> None:
    assert "code_challenge" not in params_of(gw)


@shows("no_nonce")
def _(gw: Harness) -> None:
    assert "nonce" not in params_of(gw)


@shows("no_redirect_check")
def _(gw: Harness) -> None:
    assert gw.start_login(gw.client(), "http://evil.test/").status_code == 200


@shows("redirect_substring_match")
def _(gw: Harness) -> None:
    assert gw.start_login(gw.client(), "http://127.0.0.1.evil.test/").status_code == 200


@shows("redirect_host_only")
def _(gw: Harness) -> None:
    assert gw.start_login(gw.client(), f"https://127.0.0.1:{gw.gateway.port + 1}/").status_code == 200


@shows("ignore_custom_scopes", env={"IDP_CUSTOM_SCOPES": "groups"})
def _(gw: Harness) -> None:
    assert "groups" not in params_of(gw)["scope"]


@shows("no_login_page")
def _(gw: Harness) -> None:
    assert httpx.get(f"{gw.url}/login", trust_env=False).status_code == 404


# the callback


@shows("ignore_stored_redirect")
def _(gw: Harness) -> None:
    assert gw.login(gw.user()).answer.headers["location"] == f"{gw.url}/"


@shows("client_secret_post", warm_up=False)
def _(gw: Harness) -> None:
    gw.login(gw.user())
    assert gw.idp.control.journal(app=gw.app["client_id"], endpoint="token")[-1]["client_auth"] == "client_secret_post"


@shows("ignore_idp_error")
def _(gw: Harness) -> None:
    client = gw.client()
    state = parse_qs(urlsplit(gw.start_login(client).json()["login_url"]).query)["state"][0]
    before = len(gw.idp.control.journal(app=gw.app["client_id"], endpoint="token"))
    client.get(f"{gw.url}/api/callback", params={"error": "access_denied", "state": state})
    assert len(gw.idp.control.journal(app=gw.app["client_id"], endpoint="token")) > before


@shows("skip_state_check")
def _(gw: Harness) -> None:
    assert gw.client().get(f"{gw.url}/api/callback", params={"state": "forged", "code": "x"}).status_code != 400


@shows("state_reusable")
def _(gw: Harness) -> None:
    user = gw.user()
    login = gw.login(user)
    fresh = gw.idp_login(login.client, login.start.json()["login_url"], user)
    assert "error=" not in login.client.get(fresh).headers["location"]


@shows("state_not_browser_bound")
def _(gw: Harness) -> None:
    client = gw.client()
    callback = gw.idp_login(client, gw.start_login(client, f"{gw.url}/callback").json()["login_url"], gw.user())
    assert gw.client().get(callback).status_code == 307


@shows("second_session_on_replay")
def _(gw: Harness) -> None:
    login = gw.login(gw.user())
    assert SESSION_COOKIE in login.client.get(login.callback_url).cookies


for _mutant, _tamper in {
    "accept_any_signature": "bad_signature",
    "accept_alg_none": "alg_none",
    "accept_hs256": "hs256_client_secret",
    "skip_iss_check": "wrong_iss",
    "skip_aud_check": "wrong_aud",
    "allow_extra_aud": "extra_aud",
    "skip_azp_check": "wrong_azp",
    "skip_exp_check": "expired",
    "allow_missing_exp": "missing_exp",
    "skip_iat_check": "iat_future",
    "skip_nonce_check": "wrong_nonce",
    "allow_missing_sub": "missing_sub",
}.items():
    shows(_mutant)(
        lambda gw, tamper=_tamper: (
            None if succeeded(login_with_fault(gw, "id_token", tamper=tamper)) else pytest.fail(f"{tamper} refused")
        )
    )


@shows("no_id_token_required")
def _(gw: Harness) -> None:
    assert succeeded(login_with_fault(gw, "omit_id_token"))


@shows("token_error_unhandled")
def _(gw: Harness) -> None:
    assert login_with_fault(gw, "respond", endpoint="token", status=500).answer.status_code == 500


@shows("no_token_timeout", env={"REFGW_IDP_TIMEOUT": "1"})
def _(gw: Harness) -> None:
    assert succeeded(login_with_fault(gw, "delay", endpoint="token", seconds=2))


@shows("trust_userinfo_sub")
def _(gw: Harness) -> None:
    assert succeeded(login_with_fault(gw, "userinfo_sub_mismatch"))


@shows("link_unverified_email")
def _(gw: Harness) -> None:
    user = gw.user()
    gw.sign_in(user)
    gw.idp.control.add_fault("email_unverified", user=user.email, times=2)
    assert succeeded(gw.login(user))


@shows("no_lowercase_email")
def _(gw: Harness) -> None:
    user = gw.user(email=f"Mixed.{time.time_ns()}@Example.TEST")
    assert gw.me(gw.sign_in(user))["email"] == user.email


@shows("reflect_error_description")
def _(gw: Harness) -> None:
    response = httpx.get(f"{gw.url}/api/callback", params={"error": "x", "error_description": "<script>1</script>"})
    assert "<script>1</script>" in response.text


@shows("ignore_inactive_at_login", warm_up=False)
def _(gw: Harness) -> None:
    admin = gw.sign_in(gw.user())
    user = gw.user()
    me = gw.me(gw.sign_in(user))
    gw.gateway.api(f"/api/users/{me['id']}", admin, method="PUT", json={"status": "inactive"})
    assert succeeded(gw.login(user))


@shows("session_before_inactive_check", warm_up=False)
def _(gw: Harness) -> None:
    admin = gw.sign_in(gw.user())
    user = gw.user()
    me = gw.me(gw.sign_in(user))
    gw.gateway.api(f"/api/users/{me['id']}", admin, method="PUT", json={"status": "inactive"})
    refused = gw.login(user)
    assert "error=" in refused.answer.headers["location"] and refused.token
    gw.gateway.api(f"/api/users/{me['id']}", admin, method="PUT", json={"status": "active"})
    assert gw.gateway.api("/api/userinfo", refused.token).status_code == 200


@shows("retry_token_with_post")
def _(gw: Harness) -> None:
    since = gw.idp.control.journal_cursor()
    failure = {"status": 400, "body": '{"error": "invalid_grant"}', "content_type": "application/json"}
    assert not succeeded(login_with_fault(gw, "respond", endpoint="token", **failure))
    methods = [entry["client_auth"] for entry in token_requests(gw, since)]
    assert methods == ["client_secret_basic", "client_secret_post"]


@shows("malformed_state_500")
def _(gw: Harness) -> None:
    assert gw.client().get(f"{gw.url}/api/callback", params={"state": "not a state", "code": "x"}).status_code == 500


@shows("callback_idp_failure_500", own_idp=True)
def _(gw: Harness) -> None:
    client = gw.client()
    callback = gw.idp_login(client, gw.start_login(client, f"{gw.url}/callback").json()["login_url"], gw.user())
    gw.idp.control.add_fault("respond", endpoint="jwks", status=500, times=None)
    assert client.get(callback).status_code == 500


# the session


@shows("token_in_url")
def _(gw: Harness) -> None:
    assert "token=" in gw.login(gw.user()).answer.headers["location"]


@shows("no_cli_token_handover")
def _(gw: Harness) -> None:
    assert "token=" not in gw.login(gw.user(), redirect=CLI).answer.headers["location"]


@shows("cookie_not_httponly")
def _(gw: Harness) -> None:
    assert "HttpOnly" not in cookie_attributes(gw.login(gw.user()))


@shows("cookie_no_samesite")
def _(gw: Harness) -> None:
    assert not [a for a in cookie_attributes(gw.login(gw.user())) if a.startswith("SameSite")]


@shows("cookie_path_api")
def _(gw: Harness) -> None:
    assert "Path=/api" in cookie_attributes(gw.login(gw.user()))


@shows("cookie_never_secure")
def _(gw: Harness) -> None:
    assert "Secure" not in cookie_attributes(gw.login(gw.user(), headers={"X-Forwarded-Proto": "https"}))


@shows("redirect_via_html_page", warm_up=False)
def _(gw: Harness) -> None:
    response = gw.login(gw.user()).answer
    assert response.status_code == 200 and "<script src=" in response.text


@shows("accept_query_token")
def _(gw: Harness) -> None:
    assert gw.gateway.api(f"/api/userinfo?access_token={gw.sign_in(gw.user())}", None).status_code == 200


# the API token


@shows("skip_userinfo_validation")
def _(gw: Harness) -> None:
    user = gw.user()
    token = gw.sign_in(user)
    before = len(gw.idp.control.journal(user=user.email, endpoint="userinfo"))
    gw.me(token)
    assert len(gw.idp.control.journal(user=user.email, endpoint="userinfo")) == before


@shows("cache_userinfo_forever")
def _(gw: Harness) -> None:
    user = gw.user()
    token = gw.sign_in(user)
    gw.me(token)
    gw.idp.admin.suspend_user(user.id)
    assert gw.gateway.api("/api/userinfo", token).status_code == 200


@shows("accept_userinfo_errors")
def _(gw: Harness) -> None:
    user = gw.user()
    token = gw.sign_in(user)
    gw.idp.control.add_fault("respond", endpoint="userinfo", user=user.email, status=500)
    assert gw.gateway.api("/api/userinfo", token).status_code == 200


@shows("trust_unparseable_userinfo")
def _(gw: Harness) -> None:
    user = gw.user()
    token = gw.sign_in(user)
    gw.idp.control.add_fault(
        "respond", endpoint="userinfo", user=user.email, status=200, body="<html>", content_type="text/html"
    )
    assert gw.gateway.api("/api/userinfo", token).status_code == 200


@shows("no_userinfo_timeout", env={"REFGW_IDP_TIMEOUT": "1"})
def _(gw: Harness) -> None:
    user = gw.user()
    token = gw.sign_in(user)
    gw.idp.control.add_fault("delay", endpoint="userinfo", user=user.email, seconds=2)
    assert gw.gateway.api("/api/userinfo", token).status_code == 200


@shows("unknown_tokens_unregistered")
def _(gw: Harness) -> None:
    response = gw.gateway.api("/api/userinfo", "ory_at_never.issued")
    assert response.status_code == 200 and response.json()["role"] == "unregistered"


@shows("accept_foreign_tokens")
def _(gw: Harness) -> None:
    user = gw.user()
    gw.sign_in(user)
    assert gw.gateway.api("/api/userinfo", gw.foreign_token(user)).status_code == 200


@shows("lenient_authorization_header")
def _(gw: Harness) -> None:
    token = gw.sign_in(gw.user())
    response = httpx.get(f"{gw.url}/api/userinfo", headers={"Authorization": f"bearer  {token}"}, trust_env=False)
    assert response.status_code == 200


@shows("crash_on_malformed_jwt")
def _(gw: Harness) -> None:
    assert gw.gateway.api("/api/userinfo", "a.b.c").status_code == 500


@shows("trust_jwt_access_tokens", app={"access_token_format": "jwt"})
def _(gw: Harness) -> None:
    head, body, _signature = gw.sign_in(gw.user()).split(".")
    assert gw.gateway.api("/api/userinfo", f"{head}.{body}.AAAA").status_code == 200


@shows("accept_any_signed_jwt", app={"access_token_format": "jwt"})
def _(gw: Harness) -> None:
    user = gw.user()
    gw.sign_in(user)
    assert gw.me(gw.own_tokens(user)["id_token"])["email"] == user.email
    stranger = gw.foreign_tokens(gw.user(), access_token_format="jwt")["access_token"]
    assert gw.me(stranger)["role"] == "unregistered"


# groups and roles


@shows("groups_first_only")
def _(gw: Harness) -> None:
    assert groups_of(gw, gw.user("g-a", "g-b")) == ["g-a"]


@shows("groups_string_ignored")
def _(gw: Harness) -> None:
    assert groups_of(gw, gw.user("g-a")) == []


@shows("groups_sync_on_create_only")
def _(gw: Harness) -> None:
    user = gw.user("g-a")
    groups_of(gw, user)
    gw.idp.admin.add_member(gw.group("g-b"), user.id)
    assert groups_of(gw, user) == ["g-a"]


@shows("groups_merge")
def _(gw: Harness) -> None:
    user = gw.user("g-a", "g-b")
    groups_of(gw, user)
    gw.idp.admin.remove_member(gw.group("g-a"), user.id)
    assert "g-a" in groups_of(gw, user)


@shows("ignore_empty_array")
def _(gw: Harness) -> None:
    user = gw.user("g-a")
    groups_of(gw, user)
    assert groups_of(gw, user, claims={CLAIM: []}) == ["g-a"]


@shows("clear_on_absent")
def _(gw: Harness) -> None:
    user = gw.user("g-a")
    groups_of(gw, user)
    assert groups_of(gw, user, remove=[CLAIM]) == []


@shows("groups_keep_non_strings")
def _(gw: Harness) -> None:
    assert groups_of(gw, gw.user(), claims={CLAIM: ["a", 1, ""]}) == ["a", "1", ""]


@shows("no_dedupe")
def _(gw: Harness) -> None:
    assert groups_of(gw, gw.user(), claims={CLAIM: ["a", "a"]}) == ["a", "a"]


@shows("groups_case_fold")
def _(gw: Harness) -> None:
    assert groups_of(gw, gw.user(), claims={CLAIM: ["Ops"]}) == ["ops"]


@shows("admin_role_never_granted")
def _(gw: Harness) -> None:
    assert gw.gateway.api("/api/api-keys", gw.sign_in(gw.user("admin"))).status_code == 403


@shows("keep_admin")
def _(gw: Harness) -> None:
    user = gw.user("admin", "ops")
    gw.sign_in(user)
    gw.idp.admin.remove_member(gw.group("admin"), user.id)
    assert gw.gateway.api("/api/api-keys", gw.sign_in(user)).status_code == 200


@shows("auditor_is_admin")
def _(gw: Harness) -> None:
    assert gw.gateway.api("/api/api-keys", gw.sign_in(gw.user("auditor"))).status_code == 200


@shows("admin_routes_open")
def _(gw: Harness) -> None:
    assert gw.gateway.api("/api/api-keys", gw.sign_in(gw.user())).status_code == 200


@shows("ignore_groups_claim_setting", env={"IDP_GROUPS_CLAIM": "memberOf"}, app={"groups_claim": "memberOf"})
def _(gw: Harness) -> None:
    assert groups_of(gw, gw.user("g-a", "g-b")) == []


@shows("no_first_admin", warm_up=False)
def _(gw: Harness) -> None:
    assert gw.me(gw.sign_in(gw.user()))["role"] == "standard"


@shows("single_pending_login")
def _(gw: Harness) -> None:
    first, second = gw.client(), gw.client()
    callback = gw.idp_login(first, gw.start_login(first, f"{gw.url}/callback").json()["login_url"], gw.user())
    gw.start_login(second, f"{gw.url}/callback")
    assert first.get(callback).status_code == 400


@shows("leak_per_login")
def _(gw: Harness) -> None:
    users = [gw.user() for _ in range(4)]
    before = gw.gateway_rss()
    for n in range(100):
        gw.sign_in(users[n % len(users)])
    assert gw.gateway_rss() - before > 2 * 1024 * 1024  # 3.2 MB kept; a strict gateway keeps under 0.4 MB


def test_every_mutant_has_a_scenario() -> None:
    assert sorted(MUTANTS.keys() - SCENARIOS.keys()) == []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_mutant_breaks_its_rule(name: str, mock_idp: RunningMockIdp) -> None:
    scenario = SCENARIOS[name]
    if scenario.own_idp:
        with start_mock_idp() as own:
            if scenario.before_start is not None:
                scenario.before_start(own)
            with harness(own, mutant=name, extra_env=scenario.env, warm_up=scenario.warm_up, **scenario.app) as gw:
                scenario.run(gw)
        return
    try:
        with harness(mock_idp, mutant=name, extra_env=scenario.env, warm_up=scenario.warm_up, **scenario.app) as gw:
            scenario.run(gw)
    finally:
        mock_idp.control.clear_faults()
