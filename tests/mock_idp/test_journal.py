"""The request journal: what is recorded, the filters, and that secrets never appear in clear."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import httpx

from hoop_conformance.users import MakeUser
from tests.mock_idp.conftest import RelyingParty
from tests.mock_idp.flows import REDACTED, code_for, exchange, login, tokens_for, userinfo


def redacted(value: str) -> str:
    return f"<redacted:{hashlib.sha256(value.encode()).hexdigest()[:8]}>"


def test_token_request_is_recorded_in_full(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    code = code_for(rp, user)
    cursor = rp.idp.control.journal_cursor()
    assert exchange(rp, code).status_code == 200
    [entry] = rp.idp.control.journal(endpoint="token", since=cursor, app=rp.app["client_id"])
    assert entry["method"] == "POST" and entry["path"] == "/oauth2/token" and entry["status"] == 200
    assert entry["form"] == {
        "grant_type": "authorization_code",
        "code": redacted(code),
        "redirect_uri": rp.redirect_uri,
    }
    assert entry["client_auth"] == "client_secret_basic"
    assert entry["client_id"] == rp.app["client_id"] and entry["app_id"] == rp.app["app_id"]
    assert entry["user_id"] == user.id and entry["user_email"] == user.email
    assert re.fullmatch(rf"Basic {REDACTED}", entry["headers"]["authorization"])
    assert entry["faults"] == [] and entry["seq"] > cursor


def test_authorize_request_is_recorded_with_its_query(rp: RelyingParty) -> None:
    cursor = rp.idp.control.journal_cursor()
    httpx.get(rp.authorize_url(state="state-journal-1", nonce="nonce-journal-1"))
    [entry] = rp.idp.control.journal(app=rp.app["app_id"], since=cursor)
    assert entry["endpoint"] == "authorize" and entry["method"] == "GET" and entry["status"] == 303
    assert entry["query"]["state"] == "state-journal-1" and entry["query"]["nonce"] == "nonce-journal-1"
    assert entry["query"]["client_id"] == rp.app["client_id"]


def test_filters_by_user_app_endpoint_and_cursor(rp: RelyingParty, make_user: MakeUser) -> None:
    user, other = make_user(app_id=rp.app["app_id"]), make_user(app_id=rp.app["app_id"])
    cursor = rp.idp.control.journal_cursor()
    token = tokens_for(rp, user)["access_token"]
    tokens_for(rp, other)
    userinfo(rp, token)
    client = rp.idp.control

    by_email = client.journal(user=user.email.upper(), since=cursor)
    assert by_email == client.journal(user=user.id, since=cursor)
    assert {e["endpoint"] for e in by_email} >= {"login", "token", "userinfo"}
    assert all(e["user_id"] == user.id for e in by_email)

    by_client = client.journal(app=rp.app["client_id"], since=cursor)
    assert by_client == client.journal(app=rp.app["app_id"], since=cursor)
    assert {e["user_id"] for e in by_client if e["endpoint"] == "token"} == {user.id, other.id}

    [info] = client.journal(user=user.id, endpoint="userinfo", since=cursor)
    assert info["status"] == 200 and info["app_id"] == rp.app["app_id"]
    later = client.journal_cursor()
    assert later >= info["seq"]
    assert client.journal(since=later, app=rp.app["app_id"]) == []


def test_secrets_never_appear_in_clear(rp: RelyingParty, make_user: MakeUser) -> None:
    post_app = rp.idp.control.create_app(
        redirect_uris=[rp.redirect_uri],
        auth_method="client_secret_post",
        grant_types=["authorization_code", "refresh_token"],
    )
    post_rp = RelyingParty(idp=rp.idp, app=post_app, redirect_uri=rp.redirect_uri)
    user = make_user(app_id=post_app["app_id"])
    secret = post_app["client_secret"]
    cursor = rp.idp.control.journal_cursor()
    with httpx.Client() as browser:
        code = code_for(post_rp, user, browser, scope="openid email offline_access")
        cookie = browser.cookies["jc_sso"]
        challenge_page = browser.get(post_rp.authorize_url(prompt="login"), follow_redirects=True)
        challenge = challenge_page.text.split('name="login_challenge" value="')[1].split('"')[0]
    token_url = f"{rp.idp.issuer}oauth2/token"
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": rp.redirect_uri,
        "client_id": post_app["client_id"],
        "client_secret": secret,
    }
    body = httpx.post(token_url, data=form).json()
    refreshed = httpx.post(
        token_url,
        data={
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "client_id": post_app["client_id"],
            "client_secret": secret,
        },
    ).json()
    userinfo(post_rp, refreshed["access_token"])
    assert httpx.post(token_url, data=form).status_code == 400  # the same code again
    httpx.post(f"{rp.idp.issuer}userinfo", data={"access_token": body["access_token"]})
    httpx.get(f"{rp.idp.issuer}oauth2/sessions/logout", params={"id_token_hint": body["id_token"]})
    httpx.get(f"{rp.idp.base_url}/api/systemusers/{user.id}", headers={"x-api-key": rp.idp.admin_key})
    basic_credentials = base64.b64encode(f"{rp.app['client_id']}:{rp.app['client_secret']}".encode()).decode()
    httpx.post(
        f"{rp.idp.issuer}oauth2/revoke",
        data={"token": "ory_at_unknown.x"},
        auth=(rp.app["client_id"], rp.app["client_secret"]),
    )

    entries = rp.idp.control.journal(since=cursor)
    dumped = json.dumps(entries)
    secrets = {
        "client secret": secret,
        "password": user.password,
        "code": code,
        "access token": body["access_token"],
        "refresh token": body["refresh_token"],
        "rotated refresh token": refreshed["refresh_token"],
        "refreshed access token": refreshed["access_token"],
        "id token": body["id_token"],
        "SSO cookie": cookie,
        "login challenge": challenge,
        "admin key": rp.idp.admin_key,
        "Basic credentials": basic_credentials,
        "other secret": rp.app["client_secret"],
    }
    for name, value in secrets.items():
        assert value not in dumped, f"the {name} is in the journal in clear"
    for name in (
        "client secret",
        "password",
        "code",
        "access token",
        "refresh token",
        "id token",
        "admin key",
        "refreshed access token",
        "login challenge",
    ):
        assert redacted(secrets[name]) in dumped, f"the {name} is not recorded as its short hash"

    code_entries = [e["form"]["code"] for e in entries if e["endpoint"] == "token" and "code" in e["form"]]
    assert len(code_entries) >= 2 and set(code_entries) == {redacted(code)}, "one value, one hash"
    assert all(re.fullmatch(REDACTED, e["headers"]["cookie"]) for e in entries if "cookie" in e["headers"])
    assert any("cookie" in e["headers"] for e in entries)
    assert all(
        re.fullmatch(rf"Basic {REDACTED}", e["headers"]["authorization"])
        for e in entries
        if e["headers"].get("authorization", "").startswith("Basic")
    )


def test_admin_calls_are_journaled_with_the_password_redacted(rp: RelyingParty) -> None:
    cursor = rp.idp.control.journal_cursor()
    created = rp.idp.admin.create_user("journaled-admin-user@example.test", password="Very-Secret-Pa55")
    [entry] = rp.idp.control.journal(endpoint="admin", since=cursor, user=created["_id"])
    assert entry["method"] == "POST" and entry["status"] == 200 and entry["path"] == "/api/systemusers"
    assert entry["form"]["password"] == redacted("Very-Secret-Pa55")
    assert entry["form"]["email"] == "journaled-admin-user@example.test"
    assert entry["headers"]["x-api-key"] == redacted(rp.idp.admin_key)


def test_login_steps_are_journaled(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    login(rp, user)
    steps = rp.idp.control.journal(user=user.email, endpoint="login")
    assert [(e["form"]["step"], e["status"]) for e in steps] == [("email", 200), ("password", 303)]
    assert steps[1]["form"]["password"] == redacted(user.password)
    assert steps[1]["app_id"] == rp.app["app_id"]


def test_bad_cursor_is_400(rp: RelyingParty) -> None:
    response = httpx.get(
        f"{rp.idp.base_url}/_mock/journal", params={"since": "yesterday"}, headers={"x-api-key": rp.idp.admin_key}
    )
    assert response.status_code == 400
    assert "since" in response.json()["message"]


def test_secrets_in_url_headers_are_redacted(rp: RelyingParty) -> None:
    cursor = rp.idp.control.journal_cursor()
    referer = f"{rp.redirect_uri}?code=the-code-value&state=visible-state&login_challenge=the-challenge"
    httpx.get(rp.authorize_url(), headers={"Referer": referer})
    [entry] = rp.idp.control.journal(endpoint="authorize", since=cursor, app=rp.app["client_id"])
    recorded = entry["headers"]["referer"]
    assert "the-code-value" not in recorded and "the-challenge" not in recorded
    assert f"code={redacted('the-code-value')}" in recorded
    assert "state=visible-state" in recorded
