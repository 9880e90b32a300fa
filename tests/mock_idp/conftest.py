"""Fixtures for the mock's own tests: a real callback server and an app whose redirect URI points at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from faker import Faker

from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from hoop_conformance.users import MakeUser, UserFactory


@dataclass
class CallbackServer:
    """A loopback HTTP server that records every URL it is asked for."""

    url: str
    hits: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def callback_server() -> Iterator[CallbackServer]:
    """A relying party's redirect target that answers 200 and remembers the query."""
    recorder = CallbackServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            recorder.hits.append(recorder.url.rsplit("/", 1)[0] + self.path)
            body = b"callback reached"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_port}/callback"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class RelyingParty:
    """An app registered at the mock for one test module, and how to start its logins."""

    idp: RunningMockIdp
    app: dict[str, Any]
    redirect_uri: str

    def authorize_url(self, **params: str) -> str:
        """The authorize URL with sane defaults, overridden by ``params``."""
        query = {
            "client_id": self.app["client_id"],
            "redirect_uri": self.redirect_uri,
            "response_type": "code",
            "scope": "openid email profile",
            "state": "state-0123456789",
            **params,
        }
        return f"{self.idp.issuer}oauth2/auth?{urlencode(query)}"

    def token(self, client: httpx.Client | None = None, **form: str) -> httpx.Response:
        """POST to the token endpoint with client_secret_basic."""
        auth = (self.app["client_id"], self.app["client_secret"])
        return (client or httpx).post(f"{self.idp.issuer}oauth2/token", data=form, auth=auth)  # type: ignore[attr-defined]


@pytest.fixture
def rp(mock_idp: RunningMockIdp, callback_server: CallbackServer) -> RelyingParty:
    """A fresh confidential app (client_secret_basic, refresh enabled) redirecting to the callback server."""
    app = mock_idp.control.create_app(
        redirect_uris=[callback_server.url], grant_types=["authorization_code", "refresh_token"]
    )
    return RelyingParty(idp=mock_idp, app=app, redirect_uri=callback_server.url)


@pytest.fixture(scope="module")
def own_idp(pytestconfig: pytest.Config) -> Iterator[RunningMockIdp]:
    """A mock for one test module alone: for global faults, the clock and key rotation."""
    with start_mock_idp(log_dir=pytestconfig.getoption("server_logs")) as running:
        yield running


@pytest.fixture
def own_rp(own_idp: RunningMockIdp, callback_server: CallbackServer) -> Iterator[RelyingParty]:
    """Like ``rp``, at the module's own mock, whose faults and clock are reset after the test."""
    app = own_idp.control.create_app(
        redirect_uris=[callback_server.url], grant_types=["authorization_code", "refresh_token"]
    )
    yield RelyingParty(idp=own_idp, app=app, redirect_uri=callback_server.url)
    own_idp.control.reset()


@pytest.fixture
def own_make_user(own_idp: RunningMockIdp, fake: Faker) -> MakeUser:
    """``make_user`` at the module's own mock (pass ``app_id``)."""
    return UserFactory(own_idp.admin, own_idp.control, fake, None)
