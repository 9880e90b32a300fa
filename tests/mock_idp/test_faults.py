"""Injected faults: every kind and every ID token tamper takes effect, scoping, ``times``, validation.

Faults scoped to a fresh app or user run at the session mock; global ones at this module's own mock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from hoop_conformance.drivers.http_login import http_login
from hoop_conformance.idp.api import IdpApiError
from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.users import IdpUser, MakeUser
from hoop_conformance.waiting import wait_for
from mock_idp.faults import FAULT_KINDS, ID_TOKEN_TAMPERS
from tests.mock_idp.conftest import RelyingParty
from tests.mock_idp.flows import (
    assert_endpoints_under,
    b64decode,
    code_for,
    exchange,
    jwks,
    login,
    query,
    tokens_for,
    userinfo,
    verify_id_token,
)

NONCE = "nonce-fault-0001"


def faulted_tokens(rp: RelyingParty, user: IdpUser, **params: Any) -> dict[str, Any]:
    """Tokens for ``user`` with one ``id_token`` fault (scoped to the app) in effect."""
    rp.idp.control.add_fault("id_token", app=rp.app["client_id"], **params)
    return tokens_for(rp, user, nonce=NONCE)


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, claims, signing input and signature of a compact JWS, unverified."""
    head, body, signature = token.split(".")
    return json.loads(b64decode(head)), json.loads(b64decode(body)), f"{head}.{body}".encode(), b64decode(signature)


def rs256_valid(rp: RelyingParty, token: str) -> bool:
    """Whether any published key verifies the token's RS256 signature (claims not checked)."""
    for key in jwks(rp.idp.issuer).keys:
        try:
            jwt.decode(
                token,
                key=key.key,
                algorithms=["RS256"],
                options={"verify_signature": True, "verify_aud": False, "verify_exp": False, "verify_iat": False},
            )
        except jwt.InvalidSignatureError:
            continue
        return True
    return False


@pytest.fixture
def user(rp: RelyingParty, make_user: MakeUser) -> IdpUser:
    return make_user(app_id=rp.app["app_id"])


@pytest.fixture
def baseline(rp: RelyingParty, user: IdpUser) -> dict[str, Any]:
    """Claims of an untampered ID token for the same user and app."""
    return verify_id_token(rp, tokens_for(rp, user, nonce=NONCE)["id_token"])


def test_every_tamper_is_covered() -> None:
    assert set(TAMPER_CHECKS) == set(ID_TOKEN_TAMPERS)


def check_bad_signature(rp: RelyingParty, token: str, base: dict[str, Any]) -> None:
    header, claims, _, _ = parts(token)
    assert header["alg"] == "RS256" and header["kid"] == rp.idp.control.signing_keys()["signing"]
    assert same_claims(claims, base)
    assert not rs256_valid(rp, token)


def check_alg_none(rp: RelyingParty, token: str, base: dict[str, Any]) -> None:
    header, claims, _, signature = parts(token)
    assert header["alg"] == "none" and "kid" not in header
    assert signature == b"" and token.endswith(".")
    assert same_claims(claims, base)


def check_hs256_client_secret(rp: RelyingParty, token: str, base: dict[str, Any]) -> None:
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, rp.app["client_secret"], algorithms=["HS256"], audience=rp.app["client_id"])
    assert same_claims(claims, base)


def check_hs256_public_key(rp: RelyingParty, token: str, base: dict[str, Any]) -> None:
    header, claims, signing_input, signature = parts(token)
    assert header["alg"] == "HS256"
    public = jwks(rp.idp.issuer)[header["kid"]].key
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert hmac.compare_digest(signature, hmac.new(pem, signing_input, hashlib.sha256).digest())
    assert same_claims(claims, base)


def check_unknown_key(rp: RelyingParty, token: str, base: dict[str, Any]) -> None:
    header, claims, _, _ = parts(token)
    assert header["alg"] == "RS256"
    assert header["kid"] not in {key.key_id for key in jwks(rp.idp.issuer).keys}
    assert not rs256_valid(rp, token)
    assert same_claims(claims, base)


def check_no_kid(rp: RelyingParty, token: str, base: dict[str, Any]) -> None:
    header, claims, _, _ = parts(token)
    assert header["alg"] == "RS256" and "kid" not in header
    signing = jwks(rp.idp.issuer)[rp.idp.control.signing_keys()["signing"]].key
    assert jwt.decode(token, key=signing, algorithms=["RS256"], audience=rp.app["client_id"], issuer=rp.idp.issuer)
    assert same_claims(claims, base)


def claim_check(expected_change: Any) -> Any:
    """A check that the signature is good and ``expected_change(claims, base)`` holds."""

    def check(rp: RelyingParty, token: str, base: dict[str, Any]) -> None:
        assert rs256_valid(rp, token), "only the claims are tampered with"
        _, claims, _, _ = parts(token)
        expected_change(claims, base, rp)

    return check


def same_claims(claims: dict[str, Any], base: dict[str, Any], *, changed: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
    """Whether the stable claims match the baseline, apart from ``changed``."""
    volatile = {"iat", "exp", "jti", "at_hash", "auth_time", "rat", "sid"} | changed
    return {k: v for k, v in claims.items() if k not in volatile} == {
        k: v for k, v in base.items() if k not in volatile
    }


def wrong_iss(claims: dict[str, Any], base: dict[str, Any], rp: RelyingParty) -> None:
    assert claims["iss"] != rp.idp.issuer and claims["iss"].startswith("https://")
    assert same_claims(claims, base, changed={"iss"})


def wrong_aud(claims: dict[str, Any], base: dict[str, Any], rp: RelyingParty) -> None:
    assert rp.app["client_id"] not in claims["aud"] and len(claims["aud"]) == 1
    assert same_claims(claims, base, changed={"aud"})


def extra_aud(claims: dict[str, Any], base: dict[str, Any], rp: RelyingParty) -> None:
    assert claims["aud"][0] == rp.app["client_id"] and len(claims["aud"]) == 2
    assert same_claims(claims, base, changed={"aud"})


def wrong_azp(claims: dict[str, Any], base: dict[str, Any], rp: RelyingParty) -> None:
    assert "azp" not in base and claims["azp"] != rp.app["client_id"]
    assert same_claims(claims, base, changed={"azp"})


def expired(claims: dict[str, Any], base: dict[str, Any], rp: RelyingParty) -> None:
    assert claims["exp"] < time.time() and claims["iat"] < claims["exp"]
    assert same_claims(claims, base)


def iat_future(claims: dict[str, Any], base: dict[str, Any], rp: RelyingParty) -> None:
    assert claims["iat"] > time.time() + 3600
    assert same_claims(claims, base)


def wrong_nonce(claims: dict[str, Any], base: dict[str, Any], rp: RelyingParty) -> None:
    assert claims["nonce"] != NONCE and claims["nonce"]
    assert same_claims(claims, base, changed={"nonce"})


def missing(name: str) -> Any:
    def change(claims: dict[str, Any], base: dict[str, Any], rp: RelyingParty) -> None:
        assert name in base and name not in claims
        assert set(base) - set(claims) == {name}
        assert same_claims(claims, base, changed={name})

    return change


TAMPER_CHECKS = {
    "bad_signature": check_bad_signature,
    "alg_none": check_alg_none,
    "hs256_client_secret": check_hs256_client_secret,
    "hs256_public_key": check_hs256_public_key,
    "unknown_key": check_unknown_key,
    "wrong_iss": claim_check(wrong_iss),
    "wrong_aud": claim_check(wrong_aud),
    "extra_aud": claim_check(extra_aud),
    "wrong_azp": claim_check(wrong_azp),
    "expired": claim_check(expired),
    "missing_exp": claim_check(missing("exp")),
    "missing_sub": claim_check(missing("sub")),
    "missing_iat": claim_check(missing("iat")),
    "missing_aud": claim_check(missing("aud")),
    "missing_iss": claim_check(missing("iss")),
    "iat_future": claim_check(iat_future),
    "wrong_nonce": claim_check(wrong_nonce),
    "no_kid": check_no_kid,
}


@pytest.mark.parametrize("tamper", ID_TOKEN_TAMPERS)
def test_id_token_tamper(rp: RelyingParty, user: IdpUser, baseline: dict[str, Any], tamper: str) -> None:
    token = faulted_tokens(rp, user, tamper=tamper)["id_token"]
    TAMPER_CHECKS[tamper](rp, token, baseline)


def test_id_token_claims_and_remove(rp: RelyingParty, user: IdpUser, baseline: dict[str, Any]) -> None:
    token = faulted_tokens(rp, user, claims={"email": "someone-else@example.test", "extra": 1}, remove=["amr"])[
        "id_token"
    ]
    claims = verify_id_token(rp, token)
    assert claims["email"] == "someone-else@example.test" and claims["extra"] == 1
    assert "amr" not in claims
    assert same_claims(claims, baseline, changed={"email", "extra", "amr"})


def test_omit_id_token(rp: RelyingParty, user: IdpUser) -> None:
    rp.idp.control.add_fault("omit_id_token", app=rp.app["client_id"])
    body = tokens_for(rp, user)
    assert "id_token" not in body
    assert userinfo(rp, body["access_token"]).status_code == 200
    assert "id_token" in tokens_for(rp, user)


def test_userinfo_claims(rp: RelyingParty, user: IdpUser) -> None:
    token = tokens_for(rp, user)["access_token"]
    rp.idp.control.add_fault(
        "userinfo_claims", user=user.email, claims={"email": "x@evil.test"}, remove=["email_verified"]
    )
    info = userinfo(rp, token).json()
    assert info["email"] == "x@evil.test" and "email_verified" not in info
    assert info["sub"] == user.id
    assert userinfo(rp, token).json()["email"] == user.email


def test_userinfo_sub_mismatch(rp: RelyingParty, user: IdpUser) -> None:
    body = tokens_for(rp, user)
    rp.idp.control.add_fault("userinfo_sub_mismatch", user=user.id)
    sub = userinfo(rp, body["access_token"]).json()["sub"]
    assert sub != verify_id_token(rp, body["id_token"])["sub"]
    assert len(sub) == 24 and int(sub, 16) >= 0


def test_email_unverified_hits_token_and_userinfo(rp: RelyingParty, user: IdpUser) -> None:
    rp.idp.control.add_fault("email_unverified", user=user.email, times=2)
    body = tokens_for(rp, user)
    assert verify_id_token(rp, body["id_token"])["email_verified"] is False
    assert userinfo(rp, body["access_token"]).json()["email_verified"] is False
    assert userinfo(rp, body["access_token"]).json()["email_verified"] is True


@pytest.mark.parametrize("params", [{}, {"error": "temporarily_unavailable", "description": "Try later."}])
def test_authorize_error(rp: RelyingParty, user: IdpUser, params: dict[str, str]) -> None:
    rp.idp.control.add_fault("authorize_error", app=rp.app["app_id"], **params)
    back = login(rp, user, state="state-authorize-fault")
    assert back["error"] == params.get("error", "access_denied")
    assert back["state"] == "state-authorize-fault"
    if "description" in params:
        assert back["error_description"] == "Try later."
    assert "code" in login(rp, user)


@pytest.mark.parametrize(
    ("params", "content_type", "check"),
    [
        ({}, "application/json", lambda r: r.json()["error"] == "server_error" and r.status_code == 500),
        (
            {"status": 429, "headers": {"Retry-After": "7"}},
            "application/json",
            lambda r: r.status_code == 429 and r.headers["retry-after"] == "7",
        ),
        (
            {"status": 502, "body": "<html><body>Bad Gateway</body></html>", "content_type": "text/html"},
            "text/html",
            lambda r: r.status_code == 502 and r.text == "<html><body>Bad Gateway</body></html>",
        ),
        (
            {"status": 200, "body": '{"access_token": "abc", '},
            "application/json",
            lambda r: r.status_code == 200 and r.text == '{"access_token": "abc", ',
        ),
    ],
    ids=["500", "429", "html", "malformed-json"],
)
def test_respond_at_the_token_endpoint(
    rp: RelyingParty, user: IdpUser, params: dict[str, Any], content_type: str, check: Any
) -> None:
    code = code_for(rp, user)
    rp.idp.control.add_fault("respond", endpoint="token", app=rp.app["client_id"], **params)
    response = exchange(rp, code)
    assert response.headers["content-type"].startswith(content_type)
    assert check(response)
    if params.get("status") == 200:
        with pytest.raises(json.JSONDecodeError):
            response.json()
    assert exchange(rp, code).status_code == 200, "the faulted request did not spend the code"


@pytest.mark.parametrize("endpoint", ["authorize", "userinfo", "revoke"])
def test_respond_at_other_endpoints(rp: RelyingParty, user: IdpUser, endpoint: str) -> None:
    token = tokens_for(rp, user)["access_token"]
    rp.idp.control.add_fault(
        "respond", endpoint=endpoint, app=rp.app["client_id"], status=503, body="down", content_type="text/plain"
    )
    if endpoint == "authorize":
        response = httpx.get(rp.authorize_url())
    elif endpoint == "userinfo":
        response = userinfo(rp, token)
    else:
        response = httpx.post(
            f"{rp.idp.issuer}oauth2/revoke", data={"token": token}, auth=(rp.app["client_id"], rp.app["client_secret"])
        )
    assert (response.status_code, response.text) == (503, "down")
    assert userinfo(rp, token).status_code == 200


def test_delay(rp: RelyingParty, user: IdpUser) -> None:
    token = tokens_for(rp, user)["access_token"]
    rp.idp.control.add_fault("delay", endpoint="userinfo", user=user.email, seconds=0.5)
    started = time.monotonic()
    assert userinfo(rp, token).status_code == 200
    assert time.monotonic() - started >= 0.5


def test_hang_until_cleared(rp: RelyingParty, user: IdpUser) -> None:
    token = tokens_for(rp, user)["access_token"]
    client = rp.idp.control
    client.add_fault("delay", endpoint="userinfo", user=user.id, seconds=None)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{rp.idp.issuer}userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=0.3)
    client.add_fault("delay", endpoint="userinfo", user=user.id, seconds=None)
    results: list[httpx.Response] = []
    worker = threading.Thread(
        target=lambda: results.append(
            httpx.get(f"{rp.idp.issuer}userinfo", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        )
    )
    cursor_entries = len(client.journal(user=user.id, endpoint="userinfo"))
    worker.start()

    def hanging() -> bool:
        entries = client.journal(user=user.id, endpoint="userinfo")[cursor_entries:]
        return bool(entries) and entries[-1]["status"] == 0 and entries[-1]["faults"][0].startswith("delay:")

    wait_for(hanging, timeout=5, message="the userinfo request to hang")
    assert worker.is_alive()
    assert client.clear_faults(user=user.id) == 2, "both hangs: the timed-out one and this one"
    worker.join(timeout=5)
    assert not worker.is_alive()
    assert results[0].status_code == 200


def test_fault_scoped_to_a_user_spares_other_users(rp: RelyingParty, make_user: MakeUser) -> None:
    alice, bob = make_user(app_id=rp.app["app_id"]), make_user(app_id=rp.app["app_id"])
    rp.idp.control.add_fault("omit_id_token", user=alice.email.upper(), times=None)
    assert "id_token" in tokens_for(rp, bob)
    assert "id_token" not in tokens_for(rp, alice)
    assert "id_token" not in tokens_for(rp, alice)
    assert "id_token" in tokens_for(rp, bob)


def test_fault_scoped_to_an_app_spares_other_apps(rp: RelyingParty, make_user: MakeUser) -> None:
    other_app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri])
    other = RelyingParty(idp=rp.idp, app=other_app, redirect_uri=rp.redirect_uri)
    group = f"Both-{uuid.uuid4().hex[:8]}"
    user = make_user(app_id=rp.app["app_id"], groups=(group,))
    rp.idp.admin.bind_group(rp.idp.admin.find_group(group)["id"], other_app["app_id"])  # type: ignore[index]
    rp.idp.control.add_fault("omit_id_token", app=other_app["app_id"], times=None)
    assert "id_token" in tokens_for(rp, user)
    assert "id_token" not in tokens_for(other, user)


@pytest.mark.parametrize("times", [1, 2, None])
def test_times(rp: RelyingParty, user: IdpUser, times: int | None) -> None:
    token = tokens_for(rp, user)["access_token"]
    fault_id = rp.idp.control.add_fault("respond", endpoint="userinfo", user=user.id, times=times, status=500)
    statuses = [userinfo(rp, token).status_code for _ in range(3)]
    expected = {1: [500, 200, 200], 2: [500, 500, 200], None: [500, 500, 500]}[times]
    assert statuses == expected
    listed = {f["id"]: f for f in rp.idp.control.faults()}
    assert listed[fault_id]["fired"] == expected.count(500)
    rp.idp.control.remove_fault(fault_id)
    assert fault_id not in {f["id"] for f in rp.idp.control.faults()}
    assert userinfo(rp, token).status_code == 200


def test_the_journal_names_the_fault_that_fired(rp: RelyingParty, user: IdpUser) -> None:
    token = tokens_for(rp, user)["access_token"]
    fault_id = rp.idp.control.add_fault("respond", endpoint="userinfo", user=user.id, status=500)
    userinfo(rp, token)
    entry = rp.idp.control.journal(user=user.id, endpoint="userinfo")[-1]
    assert entry["faults"] == [f"respond:{fault_id}"] and entry["status"] == 500


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "no_such_kind"},
        {"kind": "respond"},
        {"kind": "respond", "endpoint": "nowhere"},
        {"kind": "respond", "endpoint": "token", "params": {"status": 99}},
        {"kind": "respond", "endpoint": "token", "params": {"status": "500"}},
        {"kind": "respond", "endpoint": "token", "params": {"body": 5}},
        {"kind": "respond", "endpoint": "token", "params": {"headers": ["Retry-After"]}},
        {"kind": "delay", "endpoint": "token", "params": {"seconds": -1}},
        {"kind": "delay", "endpoint": "token", "params": {"seconds": 601}},
        {"kind": "id_token", "params": {"tamper": "rot13"}},
        {"kind": "id_token", "endpoint": "userinfo"},
        {"kind": "id_token", "params": {"claims": ["email"]}},
        {"kind": "userinfo_claims", "params": {"remove": "email"}},
        {"kind": "omit_id_token", "times": 0},
        {"kind": "omit_id_token", "times": "always"},
        {"kind": "omit_id_token", "times": True},
        {"kind": "omit_id_token", "user": ""},
        {"kind": "omit_id_token", "params": ["x"]},
        {"kind": "omit_id_token", "colour": "red"},
        ["omit_id_token"],
        {"kind": "discovery_issuer_mismatch", "user": "someone@example.test"},
        {"kind": "move_endpoints", "app": "some-app"},
        {"kind": "move_endpoints", "times": 1},
        {"kind": "respond", "endpoint": "discovery", "user": "someone@example.test"},
        {"kind": "delay", "endpoint": "jwks", "app": "some-app"},
        {"kind": "respond", "endpoint": "end_session", "app": "some-app"},
        {"kind": "respond", "endpoint": "admin", "user": "someone@example.test"},
    ],
)
def test_invalid_faults_are_400(mock_idp: RunningMockIdp, body: Any) -> None:
    response = httpx.post(f"{mock_idp.base_url}/_mock/faults", json=body, headers={"x-api-key": mock_idp.admin_key})
    assert response.status_code == 400, response.text
    assert response.json()["message"]


def test_removing_an_unknown_fault_is_404(mock_idp: RunningMockIdp) -> None:
    with pytest.raises(IdpApiError) as raised:
        mock_idp.control.remove_fault("feedfacecafe")
    assert raised.value.status == 404


def test_info_lists_every_fault_kind(mock_idp: RunningMockIdp) -> None:
    assert set(mock_idp.control.info()["fault_kinds"]) == set(FAULT_KINDS)


def test_every_fault_kind_is_exercised() -> None:
    exercised = {
        "respond",
        "delay",
        "id_token",
        "omit_id_token",
        "userinfo_claims",
        "userinfo_sub_mismatch",
        "email_unverified",
        "authorize_error",
        "discovery_issuer_mismatch",
        "move_endpoints",
    }
    assert exercised == set(FAULT_KINDS), "a new fault kind needs a test here"


# global faults, at this module's own mock


def test_discovery_issuer_mismatch(own_rp: RelyingParty) -> None:
    idp = own_rp.idp
    url = f"{idp.issuer}.well-known/openid-configuration"
    idp.control.add_fault("discovery_issuer_mismatch")
    assert httpx.get(url).json()["issuer"] == idp.issuer.rstrip("/")
    assert httpx.get(url).json()["issuer"] == idp.issuer.rstrip("/"), "global faults fire always by default"
    idp.control.clear_faults()
    idp.control.add_fault("discovery_issuer_mismatch", issuer="https://oauth.id.jumpcloud.com/", times=1)
    assert httpx.get(url).json()["issuer"] == "https://oauth.id.jumpcloud.com/"
    assert httpx.get(url).json()["issuer"] == idp.issuer
    assert httpx.get(url).json()["issuer"] == idp.issuer


def test_move_endpoints(own_rp: RelyingParty, own_make_user: MakeUser) -> None:
    idp = own_rp.idp
    user = own_make_user(app_id=own_rp.app["app_id"])
    idp.control.add_fault("move_endpoints")
    found = httpx.get(f"{idp.issuer}.well-known/openid-configuration").json()
    base = idp.base_url
    assert_endpoints_under(found, base, "/moved")

    for path in ("/oauth2/auth", "/.well-known/jwks.json", "/userinfo"):
        assert httpx.get(base + path).status_code == 404
    assert httpx.post(base + "/oauth2/token").status_code == 404
    assert httpx.get(found["jwks_uri"]).json()["keys"]

    moved = own_rp.authorize_url().replace("/oauth2/auth", "/moved/oauth2/auth")
    with httpx.Client() as browser:
        back = query(http_login(browser, moved, user.email, user.password, idp_base=idp.issuer))
    form = {"grant_type": "authorization_code", "code": back["code"], "redirect_uri": own_rp.redirect_uri}
    tokens = httpx.post(found["token_endpoint"], data=form, auth=(own_rp.app["client_id"], own_rp.app["client_secret"]))
    assert tokens.status_code == 200, tokens.text
    bearer = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    assert httpx.get(found["userinfo_endpoint"], headers=bearer).json()["sub"] == user.id
    assert httpx.get(f"{base}/userinfo", headers=bearer).status_code == 404
    idp.control.clear_faults()
    assert httpx.get(base + "/moved/.well-known/jwks.json").status_code == 404
    assert httpx.get(base + "/.well-known/jwks.json").status_code == 200


@pytest.mark.parametrize("endpoint", ["discovery", "jwks", "end_session", "admin"])
def test_global_respond(own_rp: RelyingParty, endpoint: str) -> None:
    idp = own_rp.idp
    url = {
        "discovery": f"{idp.issuer}.well-known/openid-configuration",
        "jwks": f"{idp.issuer}.well-known/jwks.json",
        "end_session": f"{idp.issuer}oauth2/sessions/logout",
        "admin": f"{idp.base_url}/api/systemusers",
    }[endpoint]
    idp.control.add_fault(
        "respond", endpoint=endpoint, status=429, body='{"message": "Too Many Requests"}', headers={"Retry-After": "1"}
    )
    headers = {"x-api-key": idp.admin_key}
    response = httpx.get(url, headers=headers)
    assert response.status_code == 429
    assert response.json() == {"message": "Too Many Requests"} and response.headers["retry-after"] == "1"
    assert httpx.get(url, headers=headers).status_code == 200


def test_global_hang_released_by_clear_faults(own_rp: RelyingParty) -> None:
    idp = own_rp.idp
    idp.control.add_fault("delay", endpoint="jwks", seconds=None)
    results: list[httpx.Response] = []
    worker = threading.Thread(
        target=lambda: results.append(httpx.get(f"{idp.issuer}.well-known/jwks.json", timeout=10))
    )
    cursor = idp.control.journal_cursor()
    worker.start()
    wait_for(
        lambda: idp.control.journal(endpoint="jwks", since=cursor), timeout=5, message="the JWKS request to arrive"
    )
    assert worker.is_alive() and not results
    assert idp.control.clear_faults() == 1
    worker.join(timeout=5)
    assert results and results[0].status_code == 200
