"""The token endpoint: client authentication, code rules, PKCE, ID and access token shapes, refresh rotation."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

import httpx
import jwt
import pytest

from hoop_conformance.idp.client_auth import basic_authorization
from hoop_conformance.users import MakeUser
from tests.mock_idp.conftest import RelyingParty
from tests.mock_idp.flows import (
    OPAQUE_ACCESS_TOKEN,
    code_for,
    exchange,
    pkce_pair,
    tokens_for,
    userinfo,
    verify_id_token,
)


def other_rp(rp: RelyingParty, **fields: object) -> RelyingParty:
    """Another app at the same mock and callback, registered with ``fields``."""
    app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri], **fields)
    return RelyingParty(idp=rp.idp, app=app, redirect_uri=rp.redirect_uri)


def token_url(rp: RelyingParty) -> str:
    return f"{rp.idp.issuer}oauth2/token"


def assert_fosite_error(response: httpx.Response, status: int, error: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    assert body["status_code"] == status
    assert response.headers["cache-control"] == "no-store"
    return body  # type: ignore[no-any-return]


def test_code_exchange_with_client_secret_basic(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    response = exchange(rp, code_for(rp, user))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert re.fullmatch(OPAQUE_ACCESS_TOKEN, body["access_token"])
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "openid email profile"
    assert body["id_token"].count(".") == 2
    assert "refresh_token" not in body, "no refresh token without offline_access"


@pytest.mark.parametrize("method", ["client_secret_post", "none"])
def test_basic_app_refuses_other_auth_methods(rp: RelyingParty, make_user: MakeUser, method: str) -> None:
    user = make_user(app_id=rp.app["app_id"])
    form = {
        "grant_type": "authorization_code",
        "code": code_for(rp, user),
        "redirect_uri": rp.redirect_uri,
        "client_id": rp.app["client_id"],
    }
    if method == "client_secret_post":
        form["client_secret"] = rp.app["client_secret"]
    body = assert_fosite_error(httpx.post(token_url(rp), data=form), 401, "invalid_client")
    hint = str(body["error_hint"])
    assert "supports client authentication method 'client_secret_basic'" in hint
    assert f"but method '{method}' was requested" in hint


def test_post_app_uses_the_body_and_refuses_basic(rp: RelyingParty, make_user: MakeUser) -> None:
    post_rp = other_rp(rp, auth_method="client_secret_post")
    user = make_user(app_id=post_rp.app["app_id"])
    refused = exchange(post_rp, code_for(post_rp, user))
    body = assert_fosite_error(refused, 401, "invalid_client")
    assert "'client_secret_post', but method 'client_secret_basic'" in str(body["error_hint"])

    form = {
        "grant_type": "authorization_code",
        "code": code_for(post_rp, user),
        "redirect_uri": post_rp.redirect_uri,
        "client_id": post_rp.app["client_id"],
        "client_secret": post_rp.app["client_secret"],
    }
    response = httpx.post(token_url(post_rp), data=form)
    assert response.status_code == 200, response.text
    assert verify_id_token(post_rp, response.json()["id_token"])["sub"] == user.id


def test_public_app_exchanges_with_pkce_and_no_secret(rp: RelyingParty, make_user: MakeUser) -> None:
    public = other_rp(rp, auth_method="none")
    assert public.app["client_secret"] is None
    user = make_user(app_id=public.app["app_id"])
    verifier, challenge = pkce_pair()
    code = code_for(public, user, code_challenge=challenge, code_challenge_method="S256")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": public.redirect_uri,
        "client_id": public.app["client_id"],
        "code_verifier": verifier,
    }
    response = httpx.post(token_url(public), data=form)
    assert response.status_code == 200, response.text
    assert verify_id_token(public, response.json()["id_token"])["aud"] == [public.app["client_id"]]


def test_wrong_secret_is_invalid_client(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    form = {"grant_type": "authorization_code", "code": code_for(rp, user), "redirect_uri": rp.redirect_uri}
    response = httpx.post(token_url(rp), data=form, auth=(rp.app["client_id"], "not-the-secret"))
    assert_fosite_error(response, 401, "invalid_client")


def test_unknown_client_is_invalid_client(rp: RelyingParty) -> None:
    response = httpx.post(
        token_url(rp), data={"grant_type": "authorization_code", "code": "x"}, auth=(str(uuid.uuid4()), "secret")
    )
    assert_fosite_error(response, 401, "invalid_client")


def test_basic_credentials_are_form_urlencoded(rp: RelyingParty, make_user: MakeUser) -> None:
    secret = "s3cr:t+with/odd=chars% &ü?"
    special = other_rp(rp, client_secret=secret)
    user = make_user(app_id=special.app["app_id"])
    form = {"grant_type": "authorization_code", "code": code_for(special, user), "redirect_uri": special.redirect_uri}
    encoded = httpx.post(
        token_url(special), data=form, headers={"Authorization": basic_authorization(special.app["client_id"], secret)}
    )
    assert encoded.status_code == 200, encoded.text

    raw = base64.b64encode(f"{special.app['client_id']}:{secret}".encode()).decode()
    form["code"] = code_for(special, user)
    unencoded = httpx.post(token_url(special), data=form, headers={"Authorization": f"Basic {raw}"})
    assert_fosite_error(unencoded, 401, "invalid_client")  # '+' decodes to a space: not the secret


def test_code_is_single_use_and_reuse_revokes_its_tokens(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    code = code_for(rp, user)
    first = exchange(rp, code)
    assert first.status_code == 200
    access_token = first.json()["access_token"]
    assert userinfo(rp, access_token).status_code == 200

    second = exchange(rp, code)
    assert_fosite_error(second, 400, "invalid_grant")
    assert userinfo(rp, access_token).status_code == 401


def test_code_is_bound_to_its_client(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    thief = other_rp(rp)
    code = code_for(rp, user)
    assert_fosite_error(exchange(thief, code), 400, "invalid_grant")
    assert exchange(rp, code).status_code == 200, "a refused attempt by another client does not spend the code"


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1:9/elsewhere", None])
def test_code_is_bound_to_its_redirect_uri(rp: RelyingParty, make_user: MakeUser, redirect_uri: str | None) -> None:
    user = make_user(app_id=rp.app["app_id"])
    form = {"grant_type": "authorization_code", "code": code_for(rp, user)}
    if redirect_uri:
        form["redirect_uri"] = redirect_uri
    assert_fosite_error(rp.token(**form), 400, "invalid_grant")


def test_unknown_code_is_invalid_grant(rp: RelyingParty) -> None:
    assert_fosite_error(exchange(rp, "ory_ac_not-a-code.at-all"), 400, "invalid_grant")


def test_missing_code_is_invalid_request(rp: RelyingParty) -> None:
    assert_fosite_error(rp.token(grant_type="authorization_code", redirect_uri=rp.redirect_uri), 400, "invalid_request")


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce_verifier_is_checked(rp: RelyingParty, make_user: MakeUser, method: str) -> None:
    user = make_user(app_id=rp.app["app_id"])
    verifier, challenge = pkce_pair(method)
    params = {"code_challenge": challenge, "code_challenge_method": method}

    assert_fosite_error(exchange(rp, code_for(rp, user, **params), code_verifier=pkce_pair()[0]), 400, "invalid_grant")
    assert_fosite_error(exchange(rp, code_for(rp, user, **params)), 400, "invalid_grant")
    assert exchange(rp, code_for(rp, user, **params), code_verifier=verifier).status_code == 200


def test_plain_is_the_default_challenge_method(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    verifier, _ = pkce_pair("plain")
    assert exchange(rp, code_for(rp, user, code_challenge=verifier), code_verifier=verifier).status_code == 200


def test_nonce_is_echoed_in_the_id_token(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    claims = verify_id_token(rp, tokens_for(rp, user, nonce="nonce-4f1c2a9b")["id_token"])
    assert claims["nonce"] == "nonce-4f1c2a9b"
    assert "nonce" not in verify_id_token(rp, tokens_for(rp, user)["id_token"])


def test_id_token_claims_follow_jumpclouds_profile(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"], groups=(f"Claims-{uuid.uuid4().hex[:8]}",))
    body = tokens_for(rp, user, nonce="nonce-claims-1")
    header = jwt.get_unverified_header(body["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == rp.idp.control.signing_keys()["signing"]
    claims = verify_id_token(rp, body["id_token"])

    assert claims["iss"] == rp.idp.issuer
    assert claims["aud"] == [rp.app["client_id"]]
    assert re.fullmatch(r"[0-9a-f]{24}", claims["sub"]) and claims["sub"] == user.id
    assert claims["exp"] == claims["iat"] + 3600
    assert claims["auth_time"] <= claims["iat"] and claims["rat"] <= claims["iat"]
    digest = hashlib.sha256(body["access_token"].encode()).digest()[:16]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert uuid.UUID(claims["jti"]) and uuid.UUID(claims["sid"])
    assert claims["amr"] == ["pwd"]
    assert re.fullmatch(r"[0-9a-f]{24}", claims["jc_org"])
    assert claims["email"] == user.email and claims["email_verified"] is True
    assert claims["given_name"] == user.firstname and claims["family_name"] == user.lastname
    assert claims["name"] == f"{user.firstname} {user.lastname}"
    assert claims["preferred_username"]
    assert claims["https://app.hoop.dev/groups"] == user.groups[0]
    assert "azp" not in claims


def test_scopes_decide_the_profile_and_email_claims(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    claims = verify_id_token(rp, tokens_for(rp, user, scope="openid")["id_token"])
    assert not {"email", "email_verified", "name", "given_name", "family_name"} & set(claims)


def test_no_id_token_without_openid_scope(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    body = tokens_for(rp, user, scope="email")
    assert "id_token" not in body
    assert userinfo(rp, body["access_token"]).json()["email"] == user.email


def test_two_logins_get_distinct_tokens_and_jti(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    first, second = tokens_for(rp, user), tokens_for(rp, user)
    assert first["access_token"] != second["access_token"]
    assert verify_id_token(rp, first["id_token"])["jti"] != verify_id_token(rp, second["id_token"])["jti"]


def test_refresh_token_needs_offline_access(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    assert "refresh_token" not in tokens_for(rp, user, scope="openid email")
    body = tokens_for(rp, user, scope="openid email offline_access")
    assert re.fullmatch(r"ory_rt_[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}", body["refresh_token"])


def test_refresh_token_needs_the_grant_enabled(rp: RelyingParty, make_user: MakeUser) -> None:
    no_refresh = other_rp(rp, grant_types=["authorization_code"])
    user = make_user(app_id=no_refresh.app["app_id"])
    body = tokens_for(no_refresh, user, scope="openid offline_access")
    assert "refresh_token" not in body
    refused = no_refresh.token(grant_type="refresh_token", refresh_token="ory_rt_x.y")
    assert_fosite_error(refused, 400, "unauthorized_client")


def test_refresh_rotates_and_reuse_revokes_the_family(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    first = tokens_for(rp, user, scope="openid email offline_access", nonce="nonce-refresh")
    refreshed = rp.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert verify_id_token(rp, second["id_token"])["sub"] == user.id
    assert userinfo(rp, second["access_token"]).status_code == 200

    replay = rp.token(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert_fosite_error(replay, 400, "invalid_grant")
    assert_fosite_error(
        rp.token(grant_type="refresh_token", refresh_token=second["refresh_token"]), 400, "invalid_grant"
    )
    assert userinfo(rp, second["access_token"]).status_code == 401


def test_refresh_token_is_bound_to_its_client(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    body = tokens_for(rp, user, scope="openid offline_access")
    thief = other_rp(rp, grant_types=["authorization_code", "refresh_token"])
    assert_fosite_error(
        thief.token(grant_type="refresh_token", refresh_token=body["refresh_token"]), 400, "invalid_grant"
    )


def test_unsupported_grant_type(rp: RelyingParty) -> None:
    body = assert_fosite_error(
        rp.token(grant_type="password", username="a", password="b"), 400, "unsupported_grant_type"
    )
    assert "password" in str(body["error_hint"])


def test_missing_grant_type_is_invalid_request(rp: RelyingParty) -> None:
    assert_fosite_error(rp.token(code="x"), 400, "invalid_request")


def test_json_body_is_invalid_request(rp: RelyingParty) -> None:
    response = httpx.post(
        token_url(rp),
        json={"grant_type": "authorization_code", "code": "x"},
        auth=(rp.app["client_id"], rp.app["client_secret"]),
    )
    assert_fosite_error(response, 400, "invalid_request")


def test_get_is_refused(rp: RelyingParty) -> None:
    response = httpx.get(
        token_url(rp), params={"grant_type": "authorization_code"}, auth=(rp.app["client_id"], rp.app["client_secret"])
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_jwt_access_tokens_are_hydra_shaped(rp: RelyingParty, make_user: MakeUser) -> None:
    jwt_rp = other_rp(rp, access_token_format="jwt")
    group = f"Jwt-{uuid.uuid4().hex[:8]}"
    user = make_user(app_id=jwt_rp.app["app_id"], groups=(group,))
    body = tokens_for(jwt_rp, user, scope="openid email")
    token = body["access_token"]
    assert not token.startswith("ory_at_")
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    key = jwt.PyJWKSet.from_dict(httpx.get(f"{rp.idp.issuer}.well-known/jwks.json").json())[header["kid"]].key
    claims = jwt.decode(token, key=key, algorithms=["RS256"], options={"verify_aud": False}, issuer=rp.idp.issuer)
    assert claims["aud"] == []
    assert claims["client_id"] == jwt_rp.app["client_id"]
    assert claims["scp"] == ["openid", "email"]
    assert claims["ext"] == {"email": user.email, "memberOf": [group]}
    assert claims["sub"] == user.id
    assert claims["exp"] == claims["iat"] + 3600
    assert uuid.UUID(claims["jti"])
    assert userinfo(jwt_rp, token).json()["sub"] == user.id


def test_forged_jwt_access_token_is_refused_at_userinfo(rp: RelyingParty, make_user: MakeUser) -> None:
    jwt_rp = other_rp(rp, access_token_format="jwt")
    user = make_user(app_id=jwt_rp.app["app_id"])
    token = tokens_for(jwt_rp, user)["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": "0" * 24}, "not-the-key-but-long-enough-for-hs256", algorithm="HS256")
    assert userinfo(jwt_rp, forged).status_code == 401
