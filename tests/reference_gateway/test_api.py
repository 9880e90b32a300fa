"""The API: bearer parsing, token validation at the IdP, roles, and the users routes."""

from __future__ import annotations

import base64
import json
import time

import httpx
import jwt as pyjwt
import pytest

from hoop_conformance.launchers.mock import RunningMockIdp
from tests.reference_gateway.harness import Harness, harness, set_cookies

DENIED = {"message": "access denied"}


def test_healthz(gw: Harness) -> None:
    response = httpx.get(f"{gw.url}/api/healthz", trust_env=False)
    assert response.status_code == 200 and response.json() == {"liveness": "UP"}


def test_valid_token_is_checked_at_userinfo_on_every_call(gw: Harness) -> None:
    user = gw.user()
    token = gw.sign_in(user)
    before = len(gw.idp.control.journal(user=user.email, endpoint="userinfo"))
    gw.me(token)
    gw.me(token)
    calls = gw.idp.control.journal(user=user.email, endpoint="userinfo")[before:]
    assert len(calls) == 2
    assert all(call["headers"]["authorization"].startswith("Bearer ") for call in calls)


@pytest.mark.parametrize(
    "header",
    [
        "bearer {t}",
        "Bearer  {t}",
        "Basic {t}",
        "",
        "Bearer",
        "{t}",
        "Bearer {t} x",
        "Bearer a.b.c",
        "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
        "Bearer ....",
        "Bearer \u2603",
    ],
)
def test_malformed_authorization_is_401(gw: Harness, header: str) -> None:
    token = gw.sign_in(gw.user())
    response = httpx.get(
        f"{gw.url}/api/userinfo", headers={"Authorization": header.format(t=token).encode()}, trust_env=False
    )
    assert response.status_code == 401 and response.json() == DENIED


def test_missing_header_and_unknown_token_are_401(gw: Harness) -> None:
    assert gw.gateway.api("/api/userinfo", None).status_code == 401
    assert gw.gateway.api("/api/userinfo", "ory_at_never-issued.by-anyone").status_code == 401


def test_revoked_token_is_refused_at_once(gw: Harness) -> None:
    token = gw.sign_in(gw.user())
    gw.me(token)
    revoked = httpx.post(
        f"{gw.idp.issuer}oauth2/revoke",
        data={"token": token},
        auth=(gw.app["client_id"], gw.app["client_secret"]),
        trust_env=False,
    )
    assert revoked.status_code == 200
    assert gw.gateway.api("/api/userinfo", token).status_code == 401


def test_suspended_user_is_refused_on_the_next_call(gw: Harness) -> None:
    user = gw.user()
    token = gw.sign_in(user)
    gw.me(token)
    gw.idp.admin.suspend_user(user.id)
    assert gw.gateway.api("/api/userinfo", token).status_code == 401


def test_token_expired_at_the_idp_is_refused(own_idp: RunningMockIdp) -> None:
    with harness(own_idp, warm_up=False) as gw:
        token = gw.sign_in(gw.user())
        gw.me(token)
        own_idp.control.advance_clock(7200)
        assert gw.gateway.api("/api/userinfo", token).status_code == 401


def test_token_issued_to_another_client_is_refused(gw: Harness) -> None:
    user = gw.user()
    gw.me(gw.sign_in(user))
    token = gw.foreign_token(user)
    assert httpx.get(f"{gw.idp.issuer}userinfo", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert gw.gateway.api("/api/userinfo", token).status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"status": 500, "body": "oops"},
        {"status": 503, "body": ""},
        {"status": 429, "body": "slow down"},
        {"status": 200, "body": "<html>hi</html>", "content_type": "text/html"},
        {"status": 200, "body": "{bad json", "content_type": "application/json"},
        {"status": 200, "body": "[]", "content_type": "application/json"},
        {"status": 200, "body": '{"no": "sub"}', "content_type": "application/json"},
    ],
)
def test_userinfo_failure_fails_closed(gw: Harness, params: dict[str, object]) -> None:
    user = gw.user()
    token = gw.sign_in(user)
    gw.idp.control.add_fault("respond", endpoint="userinfo", user=user.email, **params)
    response = gw.gateway.api("/api/userinfo", token)
    assert response.status_code == 401 and response.json() == DENIED
    assert gw.me(token)  # the fault fired once; the token is still good


def test_hanging_userinfo_fails_closed_in_time(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, extra_env={"REFGW_IDP_TIMEOUT": "1"}) as gw:
        user = gw.user()
        token = gw.sign_in(user)
        mock_idp.control.add_fault("delay", endpoint="userinfo", user=user.email, seconds=None)
        try:
            began = time.monotonic()
            assert gw.gateway.api("/api/userinfo", token).status_code == 401
            assert time.monotonic() - began < 5
        finally:
            mock_idp.control.clear_faults()


# roles


def test_roles_from_groups(gw: Harness) -> None:
    admin, auditor, standard = gw.sign_in(gw.user("admin")), gw.sign_in(gw.user("auditor")), gw.sign_in(gw.user())
    expected = {admin: (200, 200, "admin"), auditor: (403, 200, "auditor"), standard: (403, 403, "standard")}
    for token, (keys, config, role) in expected.items():
        assert gw.gateway.api("/api/api-keys", token).status_code == keys
        assert gw.gateway.api("/api/serverconfig/auth", token).status_code == config
        me = gw.me(token)
        assert me["role"] == role and me["is_admin"] is (role == "admin")
    assert gw.gateway.api("/api/api-keys", standard).json() == DENIED
    assert gw.gateway.api("/api/serverconfig/auth", admin).json()["oidc_config"]["client_secret"] == ""


def test_admin_removed_at_the_idp_loses_admin(gw: Harness) -> None:
    user = gw.user("admin", "ops")
    assert gw.gateway.api("/api/api-keys", gw.sign_in(user)).status_code == 200
    gw.idp.admin.remove_member(gw.group("admin"), user.id)
    token = gw.sign_in(user)
    assert gw.gateway.api("/api/api-keys", token).status_code == 403
    assert gw.me(token)["groups"] == ["ops"]


def test_custom_admin_and_auditor_group_names(mock_idp: RunningMockIdp) -> None:
    env = {"ADMIN_USERNAME": "hoop-admins", "AUDITOR_USERNAME": "hoop-auditors"}
    with harness(mock_idp, extra_env=env) as gw:
        assert gw.me(gw.sign_in(gw.user("hoop-admins")))["role"] == "admin"
        assert gw.me(gw.sign_in(gw.user("hoop-auditors")))["role"] == "auditor"
        assert gw.me(gw.sign_in(gw.user("admin")))["role"] == "standard"


def test_first_user_of_a_fresh_gateway_becomes_admin(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, warm_up=False) as gw:
        first = gw.me(gw.sign_in(gw.user("team")))
        second = gw.me(gw.sign_in(gw.user("team")))
        assert first["role"] == "admin" and first["groups"] == ["team", "admin"]
        assert second["role"] == "standard"


# users


def test_users_routes(gw: Harness) -> None:
    admin = gw.sign_in(gw.user("admin"))
    user = gw.user()
    token = gw.sign_in(user)
    me = gw.me(token)
    listed = gw.gateway.api("/api/users", admin)
    assert listed.status_code == 200 and me in listed.json()
    assert gw.gateway.api(f"/api/users/{me['id']}", admin).json() == me
    assert gw.gateway.api(f"/api/users/{user.email.upper()}", admin).json() == me
    assert gw.gateway.api("/api/users/nobody@example.test", admin).status_code == 404
    for path in ("/api/users", f"/api/users/{me['id']}"):
        assert gw.gateway.api(path, token).status_code == 403
    assert gw.gateway.api(f"/api/users/{me['id']}", token, method="PUT", json={"status": "inactive"}).status_code == 403


def test_inactive_user_is_refused_on_the_api_and_at_login(gw: Harness) -> None:
    admin = gw.sign_in(gw.user("admin"))
    user = gw.user()
    token = gw.sign_in(user)
    me = gw.me(token)
    updated = gw.gateway.api(f"/api/users/{me['id']}", admin, method="PUT", json={"status": "inactive"})
    assert updated.status_code == 200 and updated.json()["status"] == "inactive"
    assert gw.gateway.api("/api/userinfo", token).status_code == 401
    refused = gw.login(user)
    assert refused.answer.status_code == 307
    assert refused.answer.headers["location"] == f"{gw.url}/callback?error=unexpected_error"
    assert refused.token is None and not set_cookies(refused)
    cli = gw.login(user, redirect="http://127.0.0.1:3587/callback")
    assert cli.answer.headers["location"] == "http://127.0.0.1:3587/callback?error=unexpected_error"
    gw.gateway.api(f"/api/users/{me['id']}", admin, method="PUT", json={"status": "active"})
    assert gw.me(token)["status"] == "active"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"{not json", 400),
        (b"[]", 422),
        (b'{"status": "gone"}', 422),
        (b'{"groups": [1]}', 422),
        (b'{"name": ""}', 422),
    ],
)
def test_bad_user_update_is_a_clear_4xx(gw: Harness, body: bytes, status: int) -> None:
    admin = gw.sign_in(gw.user("admin"))
    me = gw.me(admin)
    response = gw.gateway.api(f"/api/users/{me['id']}", admin, method="PUT", content=body)
    assert response.status_code == status and "message" in response.json()


def test_unknown_route_is_json_404(gw: Harness) -> None:
    response = httpx.get(f"{gw.url}/api/nope", trust_env=False)
    assert response.status_code == 404 and "message" in response.json()


# JWT access tokens


def _forge(token: str, how: str) -> str:
    """``token`` with a broken signature, re-signed with alg none, or re-signed with a key of the forger's."""
    head, body, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if how == "bad_signature":
        return f"{head}.{body}.{signature[:-4]}AAAA"
    if how == "alg_none":
        return pyjwt.encode(claims, key=None, algorithm="none")  # type: ignore[arg-type]
    claims |= {"iss": "https://evil.test/"} if how == "other_issuer" else {"exp": int(time.time()) - 7200}
    return pyjwt.encode(claims, "k" * 32, algorithm="HS256")


def test_jwt_access_tokens(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, access_token_format="jwt") as gw:
        token = gw.sign_in(gw.user())
        assert token.count(".") == 2
        assert gw.me(token)["status"] == "active"
        for how in ("bad_signature", "alg_none", "other_issuer", "expired"):
            assert gw.gateway.api("/api/userinfo", _forge(token, how)).status_code == 401, how


def test_signed_jwts_that_are_not_access_tokens_for_this_gateway_are_refused(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, access_token_format="jwt") as gw:
        user = gw.user()
        gw.sign_in(user)
        own = gw.own_tokens(user)
        foreign = gw.foreign_tokens(user, access_token_format="jwt")
        for name, token in {
            "ID token": own["id_token"],
            "another client's ID token": foreign["id_token"],
            "another client's access token": foreign["access_token"],
        }.items():
            assert gw.gateway.api("/api/userinfo", token).status_code == 401, name
        # a JWT access token the IdP issued to this very client, but not through the gateway's login
        assert gw.gateway.api("/api/userinfo", own["access_token"]).status_code == 401
