"""The IdP changes under a running gateway: discovery or JWKS down then back, key rotation, moved endpoints."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from hoop_conformance.contract import SESSION_COOKIE
from hoop_conformance.launchers.mock import RunningMockIdp
from tests.reference_gateway.harness import harness

TIME_BUDGET = 15.0
"""The suite's default time budget for an answer, in seconds."""


def test_discovery_down_then_back(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        user = gw.user()
        own_idp.control.add_fault("respond", endpoint="discovery", status=500, times=None)
        began = time.monotonic()
        response = gw.start_login(gw.client(), f"{gw.url}/callback")
        assert response.status_code == 503 and "identity provider" in response.json()["message"]
        assert time.monotonic() - began < 10
        own_idp.control.clear_faults()
        assert gw.me(gw.sign_in(user))["status"] == "active"


def test_jwks_down_then_back(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        user = gw.user()
        own_idp.control.add_fault("respond", endpoint="jwks", status=500, times=None)
        refused = gw.login(user).answer
        assert refused.headers["location"] == f"{gw.url}/callback?error=unexpected_error"
        own_idp.control.clear_faults()
        assert gw.me(gw.sign_in(user))["status"] == "active"


def test_key_rotation_needs_no_restart(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        user = gw.user()
        gw.sign_in(user)
        own_idp.control.rotate_keys()
        assert gw.me(gw.sign_in(user))["status"] == "active"


def test_discovered_endpoints_are_used(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        user = gw.user()
        own_idp.control.add_fault("move_endpoints", times=None)
        token = gw.sign_in(user)
        assert gw.me(token)["status"] == "active"
        paths = {entry["path"] for entry in own_idp.control.journal(app=gw.app["client_id"])}
        assert {"/moved/oauth2/token", "/moved/userinfo"} <= paths


def test_endpoints_moved_before_start_are_used_at_login_and_on_the_api(own_idp: RunningMockIdp) -> None:
    own_idp.control.add_fault("move_endpoints", times=None)
    with harness(own_idp) as gw:
        user = gw.user()
        assert "/moved/oauth2/auth?" in gw.start_login(gw.client()).json()["login_url"]
        token = gw.sign_in(user)
        since = own_idp.control.journal_cursor()
        assert gw.me(token)["email"] == user.email
        api_calls = own_idp.control.journal(app=gw.app["client_id"], endpoint="userinfo", since=since)
        assert [entry["path"] for entry in api_calls] == ["/moved/userinfo"]


def test_hanging_discovery_is_answered_in_time_while_the_gateway_keeps_serving(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw, ThreadPoolExecutor(max_workers=1) as pool:  # the default IdP timeouts
        user = gw.user()
        own_idp.control.add_fault("delay", endpoint="discovery", seconds=None, times=None)
        try:
            began = time.monotonic()
            login = pool.submit(lambda: gw.start_login(gw.client(), f"{gw.url}/callback"))
            assert httpx.get(f"{gw.url}/api/healthz", trust_env=False, timeout=2.0).status_code == 200
            response = login.result(timeout=TIME_BUDGET)
            assert time.monotonic() - began < TIME_BUDGET
            assert response.status_code == 503 and "did not answer" in response.json()["message"]
        finally:
            own_idp.control.clear_faults()
        assert gw.me(gw.sign_in(user))["status"] == "active"


@pytest.mark.parametrize("endpoint", ["discovery", "jwks"])
def test_idp_failure_between_login_and_callback_sends_the_browser_back(own_idp: RunningMockIdp, endpoint: str) -> None:
    with harness(own_idp) as gw:
        client = gw.client()
        callback = gw.complete_at_idp(
            client, gw.start_login(client, f"{gw.url}/callback").json()["login_url"], gw.user()
        )
        own_idp.control.add_fault("respond", endpoint=endpoint, status=500, times=None)
        response = client.get(callback)
        assert (
            response.status_code == 307 and response.headers["location"] == f"{gw.url}/callback?error=unexpected_error"
        )
        assert SESSION_COOKIE not in response.cookies


def test_discovery_issuer_mismatch_stops_logins(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        before = len(own_idp.control.journal(endpoint="token"))
        own_idp.control.add_fault("discovery_issuer_mismatch", times=None)
        response = gw.start_login(gw.client(), f"{gw.url}/callback")
        assert response.status_code == 503 and "differs from the configured" in response.json()["message"]
        assert len(own_idp.control.journal(endpoint="token")) == before
