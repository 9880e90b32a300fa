"""RFC 7009 revocation and RP-initiated logout (end-session)."""

from __future__ import annotations

import httpx

from hoop_conformance.users import MakeUser
from tests.mock_idp.conftest import RelyingParty
from tests.mock_idp.flows import login, query, tokens_for, userinfo

SESSION_COOKIE = "jc_sso"


def revoke(rp: RelyingParty, token: str, **form: str) -> httpx.Response:
    return httpx.post(
        f"{rp.idp.issuer}oauth2/revoke",
        data={"token": token, **form},
        auth=(rp.app["client_id"], rp.app["client_secret"]),
    )


def test_revoking_an_access_token(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    body = tokens_for(rp, user, scope="openid offline_access")
    response = revoke(rp, body["access_token"])
    assert response.status_code == 200
    assert response.content == b""
    assert userinfo(rp, body["access_token"]).status_code == 401
    refreshed = rp.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refreshed.status_code == 200, "revoking an access token leaves its refresh token alone"


def test_revoking_a_refresh_token_revokes_its_access_token(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    body = tokens_for(rp, user, scope="openid offline_access")
    assert revoke(rp, body["refresh_token"], token_type_hint="refresh_token").status_code == 200
    assert userinfo(rp, body["access_token"]).status_code == 401
    refused = rp.token(grant_type="refresh_token", refresh_token=body["refresh_token"])
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


def test_unknown_token_is_200(rp: RelyingParty) -> None:
    assert revoke(rp, "ory_at_never.issued").status_code == 200


def test_missing_token_is_invalid_request(rp: RelyingParty) -> None:
    response = httpx.post(f"{rp.idp.issuer}oauth2/revoke", data={}, auth=(rp.app["client_id"], rp.app["client_secret"]))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_client_authentication_is_required(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    token = tokens_for(rp, user)["access_token"]
    anonymous = httpx.post(f"{rp.idp.issuer}oauth2/revoke", data={"token": token, "client_id": rp.app["client_id"]})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    wrong = httpx.post(f"{rp.idp.issuer}oauth2/revoke", data={"token": token}, auth=(rp.app["client_id"], "wrong"))
    assert wrong.status_code == 401
    assert userinfo(rp, token).status_code == 200


def test_another_clients_token_is_refused(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    token = tokens_for(rp, user)["access_token"]
    app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri])
    other = RelyingParty(idp=rp.idp, app=app, redirect_uri=rp.redirect_uri)
    response = revoke(other, token)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert userinfo(rp, token).status_code == 200


def test_end_session_clears_the_sso_cookie_and_returns_to_a_registered_uri(
    rp: RelyingParty, make_user: MakeUser
) -> None:
    back_to = rp.redirect_uri + "?logged_out=1"
    app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri], post_logout_redirect_uris=[back_to])
    logout_rp = RelyingParty(idp=rp.idp, app=app, redirect_uri=rp.redirect_uri)
    user = make_user(app_id=app["app_id"])
    with httpx.Client() as browser:
        login(logout_rp, user, browser)
        cookie = browser.cookies[SESSION_COOKIE]
        assert "code" in query(browser.get(logout_rp.authorize_url(prompt="none")).headers["location"])

        response = browser.get(
            f"{rp.idp.issuer}oauth2/sessions/logout",
            params={"post_logout_redirect_uri": back_to, "state": "state-logout-1"},
        )
        assert response.status_code == 303
        assert query(response.headers["location"]) == {"logged_out": "1", "state": "state-logout-1"}
        set_cookie = response.headers["set-cookie"]
        assert set_cookie.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" in set_cookie
        assert SESSION_COOKIE not in browser.cookies

    with httpx.Client(cookies={SESSION_COOKIE: cookie}) as replay:
        silent = replay.get(logout_rp.authorize_url(prompt="none"))
        assert query(silent.headers["location"])["error"] == "login_required", "the session must be gone server-side"


def test_end_session_without_a_return_uri_shows_a_page(rp: RelyingParty) -> None:
    response = httpx.get(f"{rp.idp.issuer}oauth2/sessions/logout")
    assert response.status_code == 200
    assert "You have been logged out." in response.text


def test_end_session_never_redirects_to_an_unregistered_uri(rp: RelyingParty) -> None:
    response = httpx.get(
        f"{rp.idp.issuer}oauth2/sessions/logout", params={"post_logout_redirect_uri": "https://evil.example.test/"}
    )
    assert response.status_code == 400
    assert "location" not in response.headers
    assert 'data-error="invalid_request"' in response.text
