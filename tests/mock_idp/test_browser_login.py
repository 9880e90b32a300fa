"""Log in through the mock's login page in headless Chromium: e-mail, password, TOTP, then SSO."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import Page

from hoop_conformance.drivers.browser_login import log_in
from hoop_conformance.users import MakeUser
from tests.mock_idp.conftest import RelyingParty


def reached(page: Page, rp: RelyingParty) -> dict[str, list[str]]:
    """Wait until the browser is at the callback; its query."""
    page.wait_for_url(lambda url: url.startswith(rp.redirect_uri))
    return parse_qs(urlsplit(page.url).query)


def test_login_with_password_and_totp_then_sso(rp: RelyingParty, make_user: MakeUser, page: Page) -> None:
    user = make_user(totp=True, app_id=rp.app["app_id"])

    page.goto(rp.authorize_url(state="state-first-login"))
    log_in(page, user.email, user.password, user.totp_secret)
    first = reached(page, rp)
    assert first["state"] == ["state-first-login"]
    assert first["code"][0].startswith("ory_ac_")

    page.goto(rp.authorize_url(state="state-second-login"))
    second = reached(page, rp)
    assert second["state"] == ["state-second-login"]
    assert second["code"] != first["code"]
    steps = [entry["form"]["step"] for entry in rp.idp.control.journal(user=user.email, endpoint="login")]
    assert steps == ["email", "password", "totp"], "the second login must not show the form again (SSO)"


def test_prompt_login_forces_the_form_despite_a_session(rp: RelyingParty, make_user: MakeUser, page: Page) -> None:
    user = make_user(app_id=rp.app["app_id"])
    page.goto(rp.authorize_url())
    log_in(page, user.email, user.password)
    reached(page, rp)

    page.goto(rp.authorize_url(prompt="login"))
    page.get_by_label("User Email Address").wait_for()
    assert "/login" in page.url


def test_password_button_disabled_until_typed(rp: RelyingParty, make_user: MakeUser, page: Page) -> None:
    user = make_user(app_id=rp.app["app_id"])
    page.goto(rp.authorize_url())
    page.get_by_label("User Email Address").fill(user.email)
    page.get_by_role("button", name="Continue").click()
    login = page.get_by_role("button", name="Login")
    assert login.is_disabled()
    page.get_by_label("User Password").fill("x")
    assert login.is_enabled()


def test_wrong_password_and_wrong_code_show_alerts(rp: RelyingParty, make_user: MakeUser, page: Page) -> None:
    user = make_user(totp=True, app_id=rp.app["app_id"])
    page.goto(rp.authorize_url())
    log_in(page, user.email, "not-the-password")
    assert page.get_by_role("alert").inner_text() == "Authentication failed."

    page.get_by_label("User Password").fill(user.password)
    page.get_by_role("button", name="Login").click()
    page.locator('[data-test-id="UserLogin__MfaChooser__MfaButtons__totp"]').click()
    page.locator(".TotpInput__loginInput").first.click()
    page.keyboard.type("000000")
    assert page.get_by_role("alert").inner_text() == "Verification code was invalid"


def test_portal_tile_opens_the_apps_login_url(rp: RelyingParty, make_user: MakeUser, page: Page) -> None:
    app = rp.idp.control.create_app(
        redirect_uris=[rp.redirect_uri], name="Portal App", login_url=rp.redirect_uri + "?from=portal"
    )
    user = make_user(app_id=app["app_id"])
    page.goto(f"{rp.idp.issuer}userconsole")
    log_in(page, user.email, user.password)
    tile = page.get_by_role("link", name="Portal App")
    tile.click()
    assert parse_qs(urlsplit(page.url).query) == {"from": ["portal"]}
