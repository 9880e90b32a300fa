"""The two providers under test, each started as its own process on a free loopback port."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from hoop_conformance.drivers.http_login import http_login
from hoop_conformance.launchers.mock import start_mock_idp
from hoop_conformance.launchers.servers import ServerProcess, free_port

REDIRECT_URI = "http://127.0.0.1:9/callback"
"""Never followed: the code is read from the redirect's Location."""
STATE = "bench-state-0123456789"
EMAIL = "bench@example.com"


@dataclass(frozen=True)
class Target:
    """A running provider: its endpoints, an OAuth client, and how to get an authorization code."""

    name: str
    token_url: str
    userinfo_url: str
    client_id: str
    client_secret: str
    mint_code: Callable[[httpx.Client], str]


def code_from(url: str) -> str:
    """The ``code`` query parameter of a redirect URL."""
    query = parse_qs(urlsplit(url).query)
    if "code" not in query:
        raise RuntimeError(f"no authorization code in the redirect to {url}")
    return query["code"][0]


@contextmanager
def mock_jumpcloud(log_dir: Path | None) -> Iterator[Target]:
    """Our mock (``python -m mock_idp``), with an app and a user in a group bound to it."""
    with start_mock_idp(log_dir=log_dir) as idp:
        app = idp.control.create_app(redirect_uris=[REDIRECT_URI], grant_types=["authorization_code", "refresh_token"])
        user = idp.admin.create_user(EMAIL)
        idp.admin.add_member(idp.admin.bound_group("bench-users", app["app_id"]), user["_id"])
        query = httpx.QueryParams(
            client_id=app["client_id"],
            redirect_uri=REDIRECT_URI,
            response_type="code",
            scope="openid email profile offline_access",
            state=STATE,
        )
        authorize_url = f"{idp.issuer}oauth2/auth?{query}"

        def mint_code(client: httpx.Client) -> str:
            """The first call logs in; later ones ride the IdP session cookie (one GET each)."""
            return code_from(http_login(client, authorize_url, EMAIL, user["password"], idp_base=idp.base_url))

        yield Target(
            name="mock_idp (ours)",
            token_url=f"{idp.issuer}oauth2/token",
            userinfo_url=f"{idp.issuer}userinfo",
            client_id=app["client_id"],
            client_secret=app["client_secret"],
            mint_code=mint_code,
        )


def _discovery(base_url: str) -> bool:
    return httpx.get(f"{base_url}/.well-known/openid-configuration", timeout=2).status_code == 200


@contextmanager
def oidc_provider_mock(log_dir: Path | None) -> Iterator[Target]:
    """oidc-provider-mock from PyPI, run by its own CLI (uvicorn, WSGI): any client id and secret are accepted."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    process = ServerProcess(
        "oidc-provider-mock",
        [sys.executable, "-m", "oidc_provider_mock", "--host", "127.0.0.1", "--port", str(port)],
        ready=lambda: _discovery(base_url),
        env={**os.environ, "NO_COLOR": "1", "PYTHONWARNINGS": "ignore"},
        log_path=log_dir / "oidc-provider-mock.log" if log_dir else None,
        start_timeout=30.0,
    )
    query = httpx.QueryParams(
        client_id="bench-client",
        redirect_uri=REDIRECT_URI,
        response_type="code",
        scope="openid email profile",
        state=STATE,
    )

    def mint_code(client: httpx.Client) -> str:
        """Its consent form auto-approves: POST the subject to the authorize endpoint."""
        response = client.post(f"{base_url}/oauth2/authorize?{query}", data={"sub": EMAIL})
        if not response.is_redirect:
            raise RuntimeError(f"oidc-provider-mock's authorize answered {response.status_code}: {response.text[:200]}")
        return code_from(response.headers["location"])

    with process:
        yield Target(
            name="oidc-provider-mock",
            token_url=f"{base_url}/oauth2/token",
            userinfo_url=f"{base_url}/userinfo",
            client_id="bench-client",
            client_secret="bench-secret",
            mint_code=mint_code,
        )
