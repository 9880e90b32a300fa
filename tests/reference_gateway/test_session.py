"""How the session reaches the browser: the cookie, the CLI's ``?token=`` hand-over, no token in URLs."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from hoop_conformance.contract import SESSION_COOKIE
from hoop_conformance.launchers.mock import RunningMockIdp
from tests.reference_gateway.harness import Harness, harness, set_cookies

CLI = "http://127.0.0.1:3587/callback"


def session_cookie(headers: list[str]) -> list[str]:
    """The attributes of the session cookie's Set-Cookie header (the value dropped)."""
    (header,) = [value for value in headers if value.startswith(f"{SESSION_COOKIE}=")]
    return [part.strip() for part in header.split(";")[1:]]


def test_browser_login_sets_an_httponly_lax_cookie_and_a_clean_url(gw: Harness) -> None:
    login = gw.login(gw.user())
    assert login.answer.status_code == 307
    assert login.answer.headers["location"] == f"{gw.url}/callback"
    assert login.answer.content == b""
    assert sorted(session_cookie(set_cookies(login))) == ["HttpOnly", "Path=/", "SameSite=Lax"]


def test_cookie_is_secure_behind_https(gw: Harness) -> None:
    login = gw.login(gw.user(), headers={"X-Forwarded-Proto": "https"})
    assert "Secure" in session_cookie(set_cookies(login))


def test_cli_login_gets_the_token_in_the_url_and_no_cookie(gw: Harness) -> None:
    login = gw.login(gw.user(), redirect=CLI)
    location = login.answer.headers["location"]
    assert location.startswith(f"{CLI}?token=")
    assert not [c for c in set_cookies(login) if c.startswith(SESSION_COOKIE)]
    token = parse_qs(urlsplit(location).query)["token"][0]
    assert gw.me(token)["status"] == "active"


def test_forced_url_token_exchange(mock_idp: RunningMockIdp) -> None:
    with harness(mock_idp, extra_env={"URL_TOKEN_EXCHANGE": "force"}, warm_up=False) as gw:
        login = gw.login(gw.user())
        assert login.answer.headers["location"].startswith(f"{gw.url}/callback?token=")
        assert gw.me(login.token or "")["email"]


def test_callback_page_shows_the_signed_in_user(gw: Harness) -> None:
    user = gw.user("page-viewers", "Ops Team")
    login = gw.login(user)
    page = login.client.get(login.answer.headers["location"])
    assert page.status_code == 200
    assert user.email in page.text and "<li>page-viewers</li>" in page.text and "<li>Ops Team</li>" in page.text
    stranger = gw.client()
    stranger.cookies.set(SESSION_COOKIE, "nope")
    assert stranger.get(f"{gw.url}/callback").status_code == 401


def test_login_page_has_a_sign_in_button_that_starts_a_login(gw: Harness) -> None:
    client = gw.client()
    page = client.get(f"{gw.url}/login")
    assert page.status_code == 200 and 'id="sign-in"' in page.text
    start = client.get(f"{gw.url}/login/start")
    assert start.status_code == 303 and start.headers["location"].startswith(f"{gw.idp.issuer}oauth2/auth?")
    callback = gw.complete_at_idp(client, start.headers["location"], gw.user())
    response = client.get(callback)
    assert response.headers["location"] == f"{gw.url}/callback"
    assert client.get(response.headers["location"]).status_code == 200


def test_query_token_is_refused(gw: Harness) -> None:
    token = gw.sign_in(gw.user())
    response = gw.gateway.api(f"/api/userinfo?access_token={token}", None)
    assert response.status_code == 401 and response.json() == {"message": "access denied"}
