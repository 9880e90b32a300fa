"""A reference gateway wired to its own app at the mock, and HTTP-driven logins through it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from faker import Faker

from hoop_conformance.deployment import Deployment
from hoop_conformance.gateway_api import Gateway
from hoop_conformance.idp.provider import Idp
from hoop_conformance.launchers.gateway import IdpRegistration
from hoop_conformance.launchers.mock import RunningMockIdp
from hoop_conformance.launchers.reference import start_reference_gateway
from hoop_conformance.launchers.servers import free_port
from hoop_conformance.logins import Login
from hoop_conformance.users import IdpUser


def set_cookies(login: Login) -> list[str]:
    """The Set-Cookie headers of a login's callback answer."""
    return login.answer.headers.get_list("set-cookie")


@dataclass
class Harness(Deployment):
    """The plugin's deployment of a reference gateway, with what the gateway's own tests need besides."""

    @property
    def url(self) -> str:
        """The gateway's base URL."""
        return self.gateway.url

    def group(self, name: str) -> str:
        """The id of group ``name``, bound to this harness's app."""
        return self.idp.admin.bound_group(name, self.app_id)

    def user(self, *groups: str, email: str | None = None) -> IdpUser:
        """A new user at the mock, in ``groups`` (default: one group of this app's own, so it may log in)."""
        return self.make_user(groups=groups or (f"users-{self.app_id[:6]}",), email=email)

    def foreign_token(self, user: IdpUser) -> str:
        """A valid access token for ``user`` that the same IdP issued to another client."""
        return str(self.foreign_tokens(user)["access_token"])


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
    ) as started:
        client_id, secret = app["client_id"], app["client_secret"]
        registration = IdpRegistration(issuer=idp.issuer, client_id=client_id, client_secret=secret)
        gateway = Gateway(started.url, registration, process=started.process, timeout=30.0)
        target = Idp(issuer=idp.issuer, base_url=idp.base_url, admin=idp.admin, control=idp.control)
        running = Harness(idp=target, gateway=gateway, app=app, fake=Faker())
        try:
            if warm_up:
                running.sign_in(running.user())
            yield running
        finally:
            running.close()
            gateway.close()
