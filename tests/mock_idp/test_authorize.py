"""The authorize endpoint: error page versus error redirect, Hydra's checks, prompt=none, who may log in."""

from __future__ import annotations

import httpx
import pytest

from hoop_conformance.drivers.http_login import HttpLoginError
from hoop_conformance.users import MakeUser
from tests.mock_idp.conftest import RelyingParty
from tests.mock_idp.flows import login, pkce_pair, query


def authorize(rp: RelyingParty, **params: str) -> httpx.Response:
    return httpx.get(rp.authorize_url(**params))


def redirected_error(rp: RelyingParty, **params: str) -> dict[str, str]:
    """The error an authorize request sends back to the app's redirect URI."""
    response = authorize(rp, **params)
    assert response.status_code in (302, 303), response.text
    location = response.headers["location"]
    assert location.startswith(rp.redirect_uri + "?")
    back = query(location)
    assert "code" not in back
    assert back["error_description"]
    return back


@pytest.mark.parametrize("param", ["client_id", "redirect_uri"])
def test_bad_client_or_redirect_uri_shows_an_error_page_and_never_redirects(rp: RelyingParty, param: str) -> None:
    value = "00000000-0000-0000-0000-000000000000" if param == "client_id" else "https://evil.example.test/cb"
    response = authorize(rp, **{param: value})
    assert response.status_code in (400, 401)
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")
    assert "An error occurred" in response.text
    expected = "invalid_client" if param == "client_id" else "invalid_request"
    assert f'data-error="{expected}"' in response.text


def test_redirect_uri_must_match_exactly(rp: RelyingParty) -> None:
    response = authorize(rp, redirect_uri=rp.redirect_uri + "/")
    assert response.status_code == 400
    assert "location" not in response.headers


def test_missing_response_type_redirects_invalid_request(rp: RelyingParty) -> None:
    url = rp.authorize_url().replace("response_type=code&", "")
    response = httpx.get(url)
    back = query(response.headers["location"])
    assert back["error"] == "invalid_request"
    assert back["state"] == "state-0123456789"


def test_unsupported_response_type(rp: RelyingParty) -> None:
    back = redirected_error(rp, response_type="token", state="state-unsupported")
    assert back["error"] == "unsupported_response_type"
    assert back["state"] == "state-unsupported"
    assert "error_hint" in back


def test_unknown_scope_is_invalid_scope(rp: RelyingParty) -> None:
    back = redirected_error(rp, scope="openid admin:everything")
    assert back["error"] == "invalid_scope"
    assert "admin:everything" in back["error_hint"]
    assert back["state"] == "state-0123456789"


@pytest.mark.parametrize("state", ["", "short", "1234567"])
def test_state_shorter_than_eight_characters_is_invalid_state(rp: RelyingParty, state: str) -> None:
    back = redirected_error(rp, state=state)
    assert back["error"] == "invalid_state"


def test_state_of_eight_characters_is_enough(rp: RelyingParty) -> None:
    response = authorize(rp, state="12345678")
    assert response.status_code == 303
    assert "/login?login_challenge=" in response.headers["location"]


def test_unknown_code_challenge_method_is_refused(rp: RelyingParty) -> None:
    _, challenge = pkce_pair()
    back = redirected_error(rp, code_challenge=challenge, code_challenge_method="S512")
    assert back["error"] == "invalid_request"


def test_public_client_without_pkce_is_refused(rp: RelyingParty) -> None:
    app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri], auth_method="none")
    public = RelyingParty(idp=rp.idp, app=app, redirect_uri=rp.redirect_uri)
    back = redirected_error(public)
    assert back["error"] == "invalid_request"
    assert "code_challenge" in back["error_hint"]
    _, challenge = pkce_pair()
    response = authorize(public, code_challenge=challenge, code_challenge_method="S256")
    assert "/login?login_challenge=" in response.headers["location"]


def test_prompt_none_without_a_session_is_login_required(rp: RelyingParty) -> None:
    back = redirected_error(rp, prompt="none", state="state-prompt-none")
    assert back["error"] == "login_required"
    assert back["state"] == "state-prompt-none"


def test_prompt_none_with_a_session_returns_a_code(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    with httpx.Client() as browser:
        login(rp, user, browser)
        response = browser.get(rp.authorize_url(prompt="none", state="state-silent-renew"))
    back = query(response.headers["location"])
    assert back["state"] == "state-silent-renew"
    assert back["code"].startswith("ory_ac_")


def test_user_outside_every_group_bound_to_the_app_is_denied(rp: RelyingParty, make_user: MakeUser) -> None:
    other_app = rp.idp.control.create_app(redirect_uris=[rp.redirect_uri])
    user = make_user(app_id=other_app["app_id"], groups=("elsewhere-only",))
    back = login(rp, user, state="state-denied-user")
    assert back["error"] == "access_denied"
    assert back["state"] == "state-denied-user"
    assert "code" not in back


def test_suspended_user_cannot_log_in(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    rp.idp.admin.suspend_user(user.id)
    with pytest.raises(HttpLoginError):
        login(rp, user)
    entries = rp.idp.control.journal(user=user.email, endpoint="login")
    assert [e["status"] for e in entries if e["form"].get("step") == "password"] == [401]


def test_wrong_password_is_refused_with_an_alert(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    with httpx.Client() as browser:
        page = browser.get(rp.authorize_url(), follow_redirects=True)
        challenge = page.text.split('name="login_challenge" value="')[1].split('"')[0]
        answer = browser.post(
            str(page.url).split("?")[0],
            data={"login_challenge": challenge, "step": "password", "email": user.email, "password": "wrong-password"},
        )
    assert answer.status_code == 401
    assert '<div role="alert">Authentication failed.</div>' in answer.text


def test_repeated_parameter_shows_the_error_page(rp: RelyingParty) -> None:
    response = httpx.get(rp.authorize_url() + "&scope=openid")
    assert response.status_code == 400
    assert "location" not in response.headers, "a request that cannot be trusted is never redirected"
    assert response.headers["content-type"].startswith("text/html")
    assert 'data-error="invalid_request"' in response.text
    assert "&#x27;scope&#x27; was included more than once" in response.text


def test_a_successful_login_returns_code_scope_and_state(rp: RelyingParty, make_user: MakeUser) -> None:
    user = make_user(app_id=rp.app["app_id"])
    back = login(rp, user, state="state-happy-path")
    assert back["state"] == "state-happy-path"
    assert back["code"].startswith("ory_ac_")
    assert back["scope"] == "openid email profile"
