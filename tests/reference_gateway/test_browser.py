"""A person signs in through the gateway's pages in headless Chromium."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page

from hoop_conformance.contract import SESSION_COOKIE
from hoop_conformance.drivers.browser_login import log_in
from tests.reference_gateway.harness import Harness


def test_sign_in_with_the_button_in_a_browser(gw: Harness, page: Page) -> None:
    user = gw.user("Ops Team", "db-readers")
    page.goto(f"{gw.url}/login")
    page.get_by_role("button", name="Sign in").click()
    log_in(page, user.email, user.password)
    page.wait_for_url(f"{gw.url}/callback")
    assert page.locator("#email").inner_text() == user.email
    assert page.locator("#groups li").all_inner_texts() == ["Ops Team", "db-readers"]
    assert not urlsplit(page.url).query
    (cookie,) = [c for c in page.context.cookies(gw.url) if c["name"] == SESSION_COOKIE]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert gw.me(cookie["value"])["email"] == user.email


def test_browser_login_through_the_api_login_url(gw: Harness, page: Page) -> None:
    user = gw.user()
    page.goto(f"{gw.url}/api/login?redirect={gw.url}/callback")
    login_url = page.evaluate("JSON.parse(document.body.innerText).login_url")
    page.goto(login_url)
    log_in(page, user.email, user.password)
    page.wait_for_url(f"{gw.url}/callback")
    assert page.locator("#email").inner_text() == user.email


def test_login_from_the_idp_portal_tile(gw: Harness, page: Page) -> None:
    user = gw.user()
    page.goto(f"{gw.idp.issuer}userconsole")
    log_in(page, user.email, user.password)
    page.get_by_role("link", name=gw.app["name"]).click()
    page.wait_for_url(f"{gw.url}/login")
    page.get_by_role("button", name="Sign in").click()  # the IdP session completes the login without the form
    page.wait_for_url(f"{gw.url}/callback")
    assert page.locator("#email").inner_text() == user.email
