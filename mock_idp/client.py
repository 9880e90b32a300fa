"""``MockIdp``: the one client the suite steers the IdP with, over HTTP.

Its admin methods speak JumpCloud's admin API, so they work against a real tenant
too; the control methods (faults, clock, keys, journal, apps) exist only on the mock.
"""

from __future__ import annotations

import secrets
from types import TracebackType
from typing import Any, Literal

import httpx

from mock_idp.app import ADMIN_PREFIX
from mock_idp.control_routes import CONTROL_PREFIX
from mock_idp.redaction import redact


class MockIdpApiError(RuntimeError):
    """The IdP answered an admin or control call with an error."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path}: {status} {message}")
        self.status = status
        self.message = message


class MockIdp:
    """Admin and control API client for the mock (or the admin API of a real JumpCloud tenant)."""

    def __init__(self, base_url: str, admin_key: str, *, issuer: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.issuer = issuer or self.base_url + "/"
        self._http = httpx.Client(base_url=self.base_url, headers={"x-api-key": admin_key}, timeout=timeout)

    def __repr__(self) -> str:
        return f"MockIdp({self.base_url!r}, admin_key={redact(self._http.headers['x-api-key'])!r})"

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def __enter__(self) -> MockIdp:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=json, params=params)
        if response.is_error:
            try:
                message = response.json().get("message", response.text)
            except ValueError:
                message = response.text
            raise MockIdpApiError(method, path, response.status_code, message)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # JumpCloud admin API: users
    def create_user(
        self,
        email: str,
        *,
        password: str | None = None,
        firstname: str = "Test",
        lastname: str = "User",
        username: str | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create a system user; the answer carries the ``password`` used (generated when not given)."""
        password = password or secrets.token_urlsafe(16)
        body = {
            "email": email,
            "username": username or email.split("@")[0].replace("+", ".") + "-" + secrets.token_hex(3),
            "firstname": firstname,
            "lastname": lastname,
            "password": password,
            **fields,
        }
        user: dict[str, Any] = self._call("POST", f"{ADMIN_PREFIX}/systemusers", json=body)
        return {**user, "password": password}

    def get_user(self, user_id: str) -> dict[str, Any]:
        """One system user."""
        return self._call("GET", f"{ADMIN_PREFIX}/systemusers/{user_id}")  # type: ignore[no-any-return]

    def find_user(self, email: str) -> dict[str, Any] | None:
        """The user with this e-mail, if any."""
        found = self._call("GET", f"{ADMIN_PREFIX}/systemusers", params={"filter": f"email:$eq:{email}"})
        return found["results"][0] if found["results"] else None

    def update_user(self, user_id: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a user (``suspended=True`` suspends)."""
        return self._call("PUT", f"{ADMIN_PREFIX}/systemusers/{user_id}", json=fields)  # type: ignore[no-any-return]

    def suspend_user(self, user_id: str) -> dict[str, Any]:
        """Suspend a user: no new logins, its tokens fail at userinfo."""
        return self.update_user(user_id, suspended=True)

    def delete_user(self, user_id: str) -> None:
        """Delete a user."""
        self._call("DELETE", f"{ADMIN_PREFIX}/systemusers/{user_id}")

    # JumpCloud admin API: groups
    def create_group(self, name: str) -> dict[str, Any]:
        """Create a user group."""
        return self._call("POST", f"{ADMIN_PREFIX}/v2/usergroups", json={"name": name})  # type: ignore[no-any-return]

    def find_group(self, name: str) -> dict[str, Any] | None:
        """The group with this exact name, if any."""
        found = self._call("GET", f"{ADMIN_PREFIX}/v2/usergroups", params={"filter": f"name:eq:{name}"})
        return found[0] if found else None

    def delete_group(self, group_id: str) -> None:
        """Delete a user group."""
        self._call("DELETE", f"{ADMIN_PREFIX}/v2/usergroups/{group_id}")

    def _graph(self, group_id: str, kind: str, op: str, target_type: str, target_id: str) -> None:
        body = {"op": op, "type": target_type, "id": target_id}
        self._call("POST", f"{ADMIN_PREFIX}/v2/usergroups/{group_id}/{kind}", json=body)

    def add_member(self, group_id: str, user_id: str) -> None:
        """Put a user in a group."""
        self._graph(group_id, "members", "add", "user", user_id)

    def remove_member(self, group_id: str, user_id: str) -> None:
        """Take a user out of a group."""
        self._graph(group_id, "members", "remove", "user", user_id)

    def list_members(self, group_id: str) -> list[str]:
        """The ids of a group's members."""
        found = self._call("GET", f"{ADMIN_PREFIX}/v2/usergroups/{group_id}/members")
        return [connection["to"]["id"] for connection in found]

    def bind_group(self, group_id: str, app_id: str) -> None:
        """Bind a group to an app: its members may log in and the group appears in the claim."""
        self._graph(group_id, "associations", "add", "application", app_id)

    def bound_group(self, name: str, app_id: str | None) -> str:
        """The id of group ``name``, created if missing and bound to ``app_id`` (when given)."""
        group = self.find_group(name) or self.create_group(name)
        if app_id:
            self.bind_group(group["id"], app_id)
        return str(group["id"])

    def unbind_group(self, group_id: str, app_id: str) -> None:
        """Unbind a group from an app."""
        self._graph(group_id, "associations", "remove", "application", app_id)

    def list_apps(self) -> list[dict[str, Any]]:
        """The applications (v1)."""
        return self._call("GET", f"{ADMIN_PREFIX}/applications")["results"]  # type: ignore[no-any-return]

    # control API (mock only)
    def info(self) -> dict[str, Any]:
        """Issuer, org, apps (with secrets) and the fault kinds."""
        return self._call("GET", f"{CONTROL_PREFIX}/info")  # type: ignore[no-any-return]

    def create_app(self, **fields: Any) -> dict[str, Any]:
        """Register an OIDC app (``AppSettings`` fields); answers ``app_id``, ``client_id``, ``client_secret``."""
        return self._call("POST", f"{CONTROL_PREFIX}/apps", json=fields)  # type: ignore[no-any-return]

    def enroll_totp(self, user_id: str, secret: str | None = None) -> str:
        """Enrol a user in TOTP; returns the base32 secret."""
        body = {"secret": secret} if secret else {}
        return self._call("POST", f"{CONTROL_PREFIX}/users/{user_id}/totp", json=body)["secret"]  # type: ignore[no-any-return]

    def add_fault(
        self,
        kind: str,
        *,
        endpoint: str | None = None,
        user: str | None = None,
        app: str | None = None,
        times: int | Literal["default"] | None = "default",
        **params: Any,
    ) -> str:
        """Inject a fault; returns its id.

        ``times``: how often it fires, ``None`` for always; by default once, or always for the global-only
        kinds (``discovery_issuer_mismatch``, ``move_endpoints``).
        """
        body: dict[str, Any] = {"kind": kind, "endpoint": endpoint, "user": user, "app": app, "params": params}
        if times != "default":
            body["times"] = times
        return self._call("POST", f"{CONTROL_PREFIX}/faults", json=body)["id"]  # type: ignore[no-any-return]

    def faults(self) -> list[dict[str, Any]]:
        """The active faults, with how often each fired."""
        return self._call("GET", f"{CONTROL_PREFIX}/faults")  # type: ignore[no-any-return]

    def remove_fault(self, fault_id: str) -> None:
        """Remove one fault."""
        self._call("DELETE", f"{CONTROL_PREFIX}/faults/{fault_id}")

    def clear_faults(self, *, user: str | None = None, app: str | None = None) -> int:
        """Remove every fault (or one user's / app's) and release hung requests."""
        params = {k: v for k, v in {"user": user, "app": app}.items() if v}
        return self._call("DELETE", f"{CONTROL_PREFIX}/faults", params=params)["removed"]  # type: ignore[no-any-return]

    def now(self) -> float:
        """The mock's clock."""
        return self._call("GET", f"{CONTROL_PREFIX}/clock")["now"]  # type: ignore[no-any-return]

    def advance_clock(self, seconds: float) -> float:
        """Move the mock's clock forward; returns its new time."""
        return self._call("POST", f"{CONTROL_PREFIX}/clock", json={"advance": seconds})["now"]  # type: ignore[no-any-return]

    def reset_clock(self) -> None:
        """Back to wall-clock time."""
        self._call("DELETE", f"{CONTROL_PREFIX}/clock")

    def signing_keys(self) -> dict[str, Any]:
        """``{"signing": kid, "kids": [...]}``."""
        return self._call("GET", f"{CONTROL_PREFIX}/keys")  # type: ignore[no-any-return]

    def rotate_keys(self, *, keep_old: bool = False) -> str:
        """Sign with a new key (the old signing key leaves the JWKS unless ``keep_old``); returns its kid."""
        return self._call("POST", f"{CONTROL_PREFIX}/keys", json={"keep_old": keep_old})["signing"]  # type: ignore[no-any-return]

    def journal_cursor(self) -> int:
        """A cursor: pass it as ``since`` to see only later requests."""
        return self._call("GET", f"{CONTROL_PREFIX}/journal/cursor")["cursor"]  # type: ignore[no-any-return]

    def journal(
        self,
        *,
        user: str | None = None,
        app: str | None = None,
        endpoint: str | None = None,
        since: int | None = None,
        since_time: float | None = None,
    ) -> list[dict[str, Any]]:
        """Journal entries (secrets redacted) matching every given filter."""
        params = {
            k: v
            for k, v in {
                "user": user,
                "app": app,
                "endpoint": endpoint,
                "since": since,
                "since_time": since_time,
            }.items()
            if v is not None
        }
        return self._call("GET", f"{CONTROL_PREFIX}/journal", params=params)["entries"]  # type: ignore[no-any-return]

    def reset(self) -> None:
        """Clear every fault and reset the clock."""
        self._call("POST", f"{CONTROL_PREFIX}/reset")
