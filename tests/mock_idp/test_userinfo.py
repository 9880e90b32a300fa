"""Userinfo: GET and POST, Hydra's claim set, and 401s for bad, revoked or orphaned tokens."""

from __future__ import annotations

import re

import httpx
import pytest

from hoop_conformance.users import MakeUser
from tests.mock_idp.conftest import RelyingParty
from tests.mock_idp.flows import tokens_for, userinfo, verify_id_token

CHALLENGE = re.compile(r'^Bearer error="invalid_token",error_description="[^"]+"$')


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401
    assert CHALLENGE.match(response.headers["www-authenticate"]), response.headers["www-authenticate"]
    body = response.json()
    assert body["error"] == "request_unauthorized"
    assert body["error_description"]


def test_get_returns_hydras_claims(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    body = tokens_for(rp, user, nonce="nonce-userinfo")
    id_claims = verify_id_token(rp, body["id_token"])
    response = userinfo(rp, body["access_token"])
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    info = response.json()
    assert info["sub"] == user.id == id_claims["sub"]
    assert info["email"] == user.email and info["email_verified"] is True
    assert info["given_name"] == user.firstname and info["family_name"] == user.lastname
    assert info["https://app.hoop.dev/groups"] == "hoop-users"
    assert info["aud"] == [rp.app["client_id"]]
    assert info["iss"] == rp.idp.issuer
    assert info["auth_time"] == id_claims["auth_time"]
    assert info["rat"] == id_claims["rat"]
    assert isinstance(info["iat"], int)
    assert not {"nonce", "at_hash", "exp", "sid", "jti"} & set(info)


def test_post_with_bearer_header_and_with_form(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    token = tokens_for(rp, user)["access_token"]
    url = f"{rp.idp.issuer}userinfo"
    with_header = httpx.post(url, headers={"Authorization": f"Bearer {token}"})
    assert with_header.status_code == 200
    assert with_header.json()["sub"] == user.id
    with_form = httpx.post(url, data={"access_token": token})
    assert with_form.status_code == 200
    assert with_form.json()["sub"] == user.id


def test_claims_follow_the_granted_scopes(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    info = userinfo(rp, tokens_for(rp, user, scope="openid")["access_token"]).json()
    assert info["sub"] == user.id
    assert not {"email", "name", "given_name"} & set(info)


@pytest.mark.parametrize("token", ["", "ory_at_unknown.token", "not a token"])
def test_bad_token_is_401(rp: RelyingParty, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    assert_unauthorized(httpx.get(f"{rp.idp.issuer}userinfo", headers=headers))


def test_refresh_token_is_not_an_access_token(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    body = tokens_for(rp, user, scope="openid offline_access")
    assert_unauthorized(userinfo(rp, body["refresh_token"]))


def test_revoked_token_is_401(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    token = tokens_for(rp, user)["access_token"]
    revoked = httpx.post(
        f"{rp.idp.issuer}oauth2/revoke", data={"token": token}, auth=(rp.app["client_id"], rp.app["client_secret"])
    )
    assert revoked.status_code == 200
    assert_unauthorized(userinfo(rp, token))


def test_suspended_user_token_is_401(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    token = tokens_for(rp, user)["access_token"]
    rp.idp.admin.suspend_user(user.id)
    assert_unauthorized(userinfo(rp, token))


def test_deleted_user_token_is_401(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    token = tokens_for(rp, user)["access_token"]
    rp.idp.admin.delete_user(user.id)
    assert_unauthorized(userinfo(rp, token))
