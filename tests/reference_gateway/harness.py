"""A reference gateway wired to its own app at the mock, and HTTP-driven logins through it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from hoop_conformance.drivers.http_login import http_login
from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.launchers.reference import RunningGateway, start_reference_gateway
from hoop_conformance.launchers.servers import free_port

SESSION_COOKIE = "hoop_access_token"
FOREIGN_REDIRECT = "http://127.0.0.1:9/cb"


def gateway_pid(port: int) -> int:
    """The pid of this process's child that serves the gateway on ``port`` (found by its ``PORT``, Linux only)."""
    wanted = f"PORT={port}".encode()
    for entry in Path("/proc").iterdir():
        try:
            parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            environ = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and wanted in environ:
            return int(entry.name)
    raise LookupError(f"no child process of this one serves port {port}")


def resident_bytes(pid: int) -> int:
    """The resident memory (``VmRSS``) of process ``pid``, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"process {pid} reports no VmRSS")


@dataclass(frozen=True)
class IdpAccount:
    """A user at the mock."""

    id: str
    email: str
    password: str


@dataclass
class Login:
    """One HTTP-driven login: the client (with its cookies) and what the gateway answered."""

    client: httpx.Client
    start: httpx.Response
    callback_url: str
    response: httpx.Response

    @property
    def token(self) -> str | None:
        """The session token, from the cookie or the ``?token=`` hand-over."""
        cookie = self.response.cookies.get(SESSION_COOKIE)
        if cookie:
            return cookie
        location = self.response.headers.get("location", "")
        return parse_qs(urlsplit(location).query).get("token", [None])[0]

    @property
    def set_cookies(self) -> list[str]:
        """The Set-Cookie headers of the callback answer."""
        return self.response.headers.get_list("set-cookie")


@dataclass
class Harness:
    """A gateway, its app at the mock, and helpers to make users and log them in."""

    idp: RunningMockIdp
    app: dict[str, Any]
    gateway: RunningGateway
    _clients: list[httpx.Client] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The gateway's base URL."""
        return self.gateway.url

    def group(self, name: str) -> str:
        """The id of group ``name``, bound to this harness's app."""
        return self.idp.admin.bound_group(name, self.app["app_id"])

    def user(self, *groups: str, email: str | None = None) -> IdpAccount:
        """A new user at the mock, in ``groups`` (default: one group, so it may log in)."""
        email = email or f"user.{uuid.uuid4().hex[:12]}@example.test"
        created = self.idp.admin.create_user(email)
        for name in groups or (f"users-{self.app['app_id'][:6]}",):
            self.idp.admin.add_member(self.group(name), created["_id"])
        return IdpAccount(id=created["_id"], email=email, password=created["password"])

    def client(self) -> httpx.Client:
        """A fresh cookie jar (one "browser")."""
        client = httpx.Client(trust_env=False, timeout=30.0)
        self._clients.append(client)
        return client

    def start(self, client: httpx.Client, redirect: str | None = None) -> httpx.Response:
        """``GET /api/login`` (with ``redirect`` when given)."""
        params = {} if redirect is None else {"redirect": redirect}
        return client.get(f"{self.url}/api/login", params=params)

    def idp_login(self, client: httpx.Client, login_url: str, user: IdpAccount) -> str:
        """Fill the mock's login form; the callback URL the IdP sends the browser to."""
        return http_login(client, login_url, user.email, user.password, idp_base=self.idp.base_url)

    def login(
        self,
        user: IdpAccount,
        *,
        redirect: str | None = None,
        client: httpx.Client | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Login:
        """A whole login over HTTP; the callback's answer is not followed."""
        client = client or self.client()
        start = self.start(client, redirect if redirect is not None else f"{self.url}/callback")
        assert start.status_code == 200, start.text
        callback_url = self.idp_login(client, start.json()["login_url"], user)
        response = client.get(callback_url, headers=dict(headers or {}))
        return Login(client=client, start=start, callback_url=callback_url, response=response)

    def signed_in(self, user: IdpAccount, **kwargs: Any) -> str:
        """Log ``user`` in and return the session token (the login must succeed)."""
        login = self.login(user, **kwargs)
        assert login.response.status_code == 307, login.response.text
        assert "error=" not in login.response.headers["location"], login.response.headers["location"]
        assert login.token, login.set_cookies
        return login.token

    def api(self, path: str, token: str | None, *, method: str = "GET", **kwargs: Any) -> httpx.Response:
        """Call the gateway's API with ``Authorization: Bearer <token>``."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=30.0, trust_env=False, **kwargs)

    def me(self, token: str) -> dict[str, Any]:
        """``/api/userinfo`` for ``token`` (must answer 200)."""
        response = self.api("/api/userinfo", token)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def direct_tokens(self, user: IdpAccount, app: Mapping[str, Any], redirect_uri: str) -> dict[str, Any]:
        """The token response of a code flow that ``app`` runs straight at the IdP for ``user`` (no gateway)."""
        query = {
            "client_id": app["client_id"],
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": "openid email profile",
            "state": "s" * 20,
        }
        callback = self.idp_login(self.client(), f"{self.idp.issuer}oauth2/auth?{urlencode(query)}", user)
        answer = httpx.post(
            f"{self.idp.issuer}oauth2/token",
            auth=(app["client_id"], app["client_secret"]),
            trust_env=False,
            data={
                "grant_type": "authorization_code",
                "code": parse_qs(urlsplit(callback).query)["code"][0],
                "redirect_uri": redirect_uri,
            },
        )
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    def own_tokens(self, user: IdpAccount) -> dict[str, Any]:
        """Tokens the IdP issues to this gateway's own client, obtained without the gateway (it never saw them)."""
        return self.direct_tokens(user, self.app, f"{self.url}/api/callback")

    def foreign_tokens(self, user: IdpAccount, **app_fields: Any) -> dict[str, Any]:
        """Tokens for ``user`` that the same IdP issued to another client (made with ``app_fields``)."""
        other = self.idp.control.create_app(redirect_uris=[FOREIGN_REDIRECT], name="Other app", **app_fields)
        group = self.idp.admin.create_group(f"other-{other['app_id']}")
        self.idp.admin.bind_group(group["id"], other["app_id"])
        self.idp.admin.add_member(group["id"], user.id)
        return self.direct_tokens(user, other, FOREIGN_REDIRECT)

    def foreign_token(self, user: IdpAccount) -> str:
        """A valid access token for ``user`` that the same IdP issued to another client."""
        return str(self.foreign_tokens(user)["access_token"])

    def gateway_rss(self) -> int:
        """The gateway process's resident memory, in bytes."""
        return resident_bytes(gateway_pid(self.gateway.port))

    def close(self) -> None:
        """Close the clients this harness made."""
        for client in self._clients:
            client.close()


@contextmanager
def harness(
    idp: RunningMockIdp,
    *,
    extra_env: Mapping[str, str] | None = None,
    mutant: str | None = None,
    warm_up: bool = True,
    **app_fields: Any,
) -> Iterator[Harness]:
    """A gateway of its own with an app of its own at ``idp``.

    With ``warm_up``, a throwaway user logs in first so that the users of the test
    are not the gateway's very first (who becomes admin).
    """
    port = free_port()
    app_fields.setdefault("login_url", f"http://127.0.0.1:{port}/login")
    app = idp.control.create_app(redirect_uris=[f"http://127.0.0.1:{port}/api/callback"], **app_fields)
    with start_reference_gateway(
        issuer=idp.issuer,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        extra_env=extra_env,
        mutant=mutant,
        port=port,
    ) as gateway:
        running = Harness(idp=idp, app=app, gateway=gateway)
        try:
            if warm_up:
                running.signed_in(running.user())
            yield running
        finally:
            running.close()
