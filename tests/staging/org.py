"""A mock JumpCloud standing for a real organization, and a staging run against it as a user starts one.

The mock is started with its settings only (its app's redirect URI is the loopback callback of the gateway the run
starts), never configured through its control API, so that ``control_calls`` shows what the runs used of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from hoop_conformance.idp.admin import JumpCloudAdmin
from hoop_conformance.launchers.mock import RunningMockIdp, start_mock_idp
from hoop_conformance.launchers.servers import free_port
from hoop_conformance.staging.sweep import Leftover, leftovers
from mock_idp.settings import AppSettings, MockIdpSettings

from ..suite.runs import SuiteRun, run_suite


@dataclass(frozen=True)
class Organization:
    """The mock as an organization: its admin API, the run's app, and the environment a staging run takes."""

    mock: RunningMockIdp
    org_id: str | None

    @property
    def issuer(self) -> str:
        return self.mock.issuer

    @property
    def api_url(self) -> str:
        return self.mock.base_url.rstrip("/") + "/api"

    @property
    def env(self) -> dict[str, str]:
        """What an operator exports for a staging run."""
        app = self.mock.app
        env = {
            "JUMPCLOUD_API_KEY": self.mock.admin_key,
            "JUMPCLOUD_API_URL": self.api_url,
            "JUMPCLOUD_APP_ID": app["app_id"],
            "IDP_CLIENT_ID": app["client_id"],
            "IDP_CLIENT_SECRET": app["client_secret"],
        }
        return env | ({"JUMPCLOUD_ORG_ID": self.org_id} if self.org_id else {})

    def args(self, *more: str) -> tuple[str, ...]:
        """A staging run's options against this organization."""
        return ("--idp", "jumpcloud", "--idp-issuer", self.issuer, *more)

    def admin(self) -> JumpCloudAdmin:
        """A client of its admin API (as an operator's key)."""
        return JumpCloudAdmin(self.api_url, self.mock.admin_key, org_id=self.org_id)

    def leftovers(self) -> list[Leftover]:
        """Users and groups that carry a staging run's id."""
        with self.admin() as admin:
            return leftovers(admin)

    def population(self) -> tuple[int, int]:
        """How many users and groups the organization holds, whoever made them."""
        with self.admin() as admin:
            return len(list(admin.users())), len(list(admin.groups()))

    def control_calls(self) -> int:
        """How many control-API calls the mock answered."""
        answer = httpx.get(f"{self.mock.base_url.rstrip('/')}/_mock/stats", headers={"x-api-key": self.mock.admin_key})
        answer.raise_for_status()
        return int(answer.json()["control_calls"])

    def run(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None, **kwargs: Any) -> SuiteRun:
        """A staging run of the suite against this organization (``--idp jumpcloud``)."""
        return run_suite(tmp_path, *self.args(*args), env={**self.env, **(env or {})}, **kwargs)


@contextmanager
def organization(
    log_dir: Path | None = None, *, redirect_uris: tuple[str, ...] | None = None, **settings: Any
) -> Iterator[Organization]:
    """A mock organization whose app lists a loopback callback for the gateway a run starts (or ``redirect_uris``)."""
    gateway = f"http://127.0.0.1:{free_port()}"
    app = AppSettings(name="Hoop staging", redirect_uris=redirect_uris or (gateway + "/api/callback",),
                      login_url=gateway + "/login")  # fmt: skip
    with start_mock_idp(MockIdpSettings(users=(), apps=(app,), **settings), log_dir=log_dir) as mock:
        yield Organization(mock, settings.get("org_id") if settings.get("require_org_id") else None)
