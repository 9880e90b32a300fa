"""The IdP changes under a running gateway: discovery or JWKS down then back, key rotation, moved endpoints."""

from __future__ import annotations

import time

from hoop_conformance.launchers.mock import RunningMockIdp
from tests.reference_gateway.harness import harness


def test_discovery_down_then_back(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        user = gw.user()
        own_idp.control.add_fault("respond", endpoint="discovery", status=500, times=None)
        began = time.monotonic()
        response = gw.start(gw.client(), f"{gw.url}/callback")
        assert response.status_code == 503 and "identity provider" in response.json()["message"]
        assert time.monotonic() - began < 10
        own_idp.control.clear_faults()
        assert gw.me(gw.signed_in(user))["status"] == "active"


def test_jwks_down_then_back(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        user = gw.user()
        own_idp.control.add_fault("respond", endpoint="jwks", status=500, times=None)
        refused = gw.login(user).response
        assert refused.headers["location"] == f"{gw.url}/callback?error=unexpected_error"
        own_idp.control.clear_faults()
        assert gw.me(gw.signed_in(user))["status"] == "active"


def test_key_rotation_needs_no_restart(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        user = gw.user()
        gw.signed_in(user)
        own_idp.control.rotate_keys()
        assert gw.me(gw.signed_in(user))["status"] == "active"


def test_discovered_endpoints_are_used(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        user = gw.user()
        own_idp.control.add_fault("move_endpoints", times=None)
        token = gw.signed_in(user)
        assert gw.me(token)["status"] == "active"
        paths = {entry["path"] for entry in own_idp.control.journal(app=gw.app["client_id"])}
        assert {"/moved/oauth2/token", "/moved/userinfo"} <= paths


def test_discovery_issuer_mismatch_stops_logins(own_idp: RunningMockIdp) -> None:
    with harness(own_idp) as gw:
        before = len(own_idp.control.journal(endpoint="token"))
        own_idp.control.add_fault("discovery_issuer_mismatch", times=None)
        response = gw.start(gw.client(), f"{gw.url}/callback")
        assert response.status_code == 503 and "differs from the configured" in response.json()["message"]
        assert len(own_idp.control.journal(endpoint="token")) == before
