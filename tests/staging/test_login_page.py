"""The IdP step of a staging login in Chromium (``drivers.idp_browser``): JumpCloud's page (the mock's copy) filled,
the redirect back caught before it reaches the gateway, and a page that does not match an ERROR with its screenshot
and HTML kept, not a timeout."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from hoop_conformance.drivers.idp_browser import BrowserIdpStep, LoginPageMismatch
from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.users import MakeUser

OTHER_PAGE = b"<!doctype html><title>Sign in</title><form><label>Username <input name=user></label></form>"


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[str, list[str]]]:
    """A server with a login page JumpCloud never shows (``/other``), recording every path asked for."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(OTHER_PAGE)))
            self.end_headers()
            self.wfile.write(OTHER_PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def step() -> Iterator[BrowserIdpStep]:
    browser = BrowserIdpStep(timeout=5.0)
    yield browser
    browser.close()


def test_the_mocks_page_is_filled_and_the_callback_caught(
    step: BrowserIdpStep, mock_idp: RunningMockIdp, make_user: MakeUser, site: tuple[str, list[str]]
) -> None:
    base, hits = site
    callback = f"{base}/api/callback"
    app = mock_idp.control.create_app(redirect_uris=[callback])
    user = make_user(app_id=app["app_id"])
    query = {"client_id": app["client_id"], "redirect_uri": callback, "response_type": "code", "scope": "openid",
             "state": "s" * 24}  # fmt: skip
    jar = object()
    for attempt in ("the form", "the IdP session of the same jar"):
        url = step.complete(jar, f"{mock_idp.issuer}oauth2/auth?{urlencode(query)}", callback, email=user.email,
                            password=user.password)  # fmt: skip
        assert url.startswith(callback + "?") and "code=" in url, attempt
    callbacks = [path for path in hits if path.startswith("/api/callback")]
    assert callbacks == [], "the browser sent the callback to the gateway: the check must send it"
    step.forget(jar)


def test_a_page_that_does_not_match_is_an_error_with_its_screenshot_and_html(
    step: BrowserIdpStep, site: tuple[str, list[str]], tmp_path: Path
) -> None:
    base, _ = site
    with pytest.raises(LoginPageMismatch) as error:
        step.complete(object(), f"{base}/other", f"{base}/api/callback", email="a@example.test", password="x",
                      evidence=tmp_path)  # fmt: skip
    message = str(error.value)
    assert message.startswith("cannot judge: the IdP's login page at ") and "e-mail step" in message
    kept = sorted(path.suffix for path in tmp_path.iterdir())
    assert kept == [".html", ".png"], kept
    assert "Username" in next(tmp_path.glob("*.html")).read_text()
