"""Injected misbehaviour: faults scoped to a user or an app, firing once, N times or always."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from mock_idp.errors import ApiError

MOVED_PREFIX = "/moved"
"""Where a ``move_endpoints`` fault serves the movable endpoints."""

ENDPOINTS = ("discovery", "jwks", "authorize", "token", "userinfo", "revoke", "end_session", "admin")
UNSCOPED_ENDPOINTS = frozenset({"discovery", "jwks", "end_session", "admin"})
"""Requests to these carry no user or app, so their faults can only be global."""

ID_TOKEN_TAMPERS = (
    "bad_signature",
    "alg_none",
    "hs256_client_secret",
    "hs256_public_key",
    "wrong_iss",
    "wrong_aud",
    "extra_aud",
    "wrong_azp",
    "expired",
    "missing_exp",
    "missing_sub",
    "missing_iat",
    "missing_aud",
    "missing_iss",
    "iat_future",
    "wrong_nonce",
    "unknown_key",
    "no_kid",
)


@dataclass(frozen=True)
class FaultKind:
    """What a fault kind does, where it applies, and whether it can be scoped."""

    description: str
    endpoints: tuple[str, ...]
    needs_endpoint: bool = False
    global_only: bool = False


FAULT_KINDS: dict[str, FaultKind] = {
    "respond": FaultKind(
        "answer with params status (default 500), body, content_type, headers instead of the real answer",
        ENDPOINTS,
        needs_endpoint=True,
    ),
    "delay": FaultKind(
        "wait params seconds before answering; seconds null hangs until the fault is removed or faults are cleared "
        "(at most 10 minutes)",
        ENDPOINTS,
        needs_endpoint=True,
    ),
    "id_token": FaultKind(
        f"tamper with the ID token: params tamper (one of {', '.join(ID_TOKEN_TAMPERS)}), "
        "and/or claims (set) and remove (list of claim names)",
        ("token",),
    ),
    "omit_id_token": FaultKind("token response without id_token", ("token",)),
    "userinfo_claims": FaultKind("userinfo answer with params claims (set) and remove (drop)", ("userinfo",)),
    "userinfo_sub_mismatch": FaultKind("userinfo answers a sub that differs from the ID token's", ("userinfo",)),
    "email_unverified": FaultKind("email_verified false in the ID token and at userinfo", ("token", "userinfo")),
    "authorize_error": FaultKind(
        "authorize redirects back with params error (default access_denied) and description", ("authorize",)
    ),
    "discovery_issuer_mismatch": FaultKind(
        "discovery advertises params issuer (default the issuer without its trailing slash)",
        ("discovery",),
        global_only=True,
    ),
    "move_endpoints": FaultKind(
        f"serve authorize, token, userinfo, jwks and revoke under {MOVED_PREFIX} and advertise them there; "
        "the default paths answer 404",
        ("discovery",),
        global_only=True,
    ),
}


@dataclass
class Fault:
    """One injected fault."""

    kind: str
    endpoint: str | None = None
    user: str | None = None
    app: str | None = None
    times: int | None = 1
    params: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: secrets.token_hex(6))
    fired: int = 0

    def to_api(self) -> dict[str, Any]:
        """The fault as the control API lists it."""
        return {
            "id": self.id,
            "kind": self.kind,
            "endpoint": self.endpoint,
            "user": self.user,
            "app": self.app,
            "times": self.times,
            "fired": self.fired,
            "params": self.params,
        }

    @property
    def exhausted(self) -> bool:
        """Whether it has fired as often as it may."""
        return self.times is not None and self.fired >= self.times


def build_fault(data: Any) -> Fault:
    """A validated fault from the control API's JSON body."""
    if not isinstance(data, dict):
        raise ApiError(400, "a fault is a JSON object")
    kind_name = data.get("kind")
    if not isinstance(kind_name, str) or kind_name not in FAULT_KINDS:
        raise ApiError(400, f"unknown fault kind {kind_name!r}; known: {', '.join(FAULT_KINDS)}")
    kind = FAULT_KINDS[kind_name]
    unknown = sorted(set(data) - {"kind", "endpoint", "user", "app", "times", "params"})
    if unknown:
        raise ApiError(400, f"unknown fault field(s): {', '.join(unknown)}")
    endpoint = data.get("endpoint")
    if endpoint is None and (kind.needs_endpoint or len(kind.endpoints) == 1):
        endpoint = None if kind.needs_endpoint else kind.endpoints[0]
    if kind.needs_endpoint and endpoint is None:
        raise ApiError(400, f"fault {kind_name} needs an endpoint: one of {', '.join(kind.endpoints)}")
    if endpoint is not None and endpoint not in kind.endpoints:
        raise ApiError(400, f"fault {kind_name} applies to {', '.join(kind.endpoints)}, not {endpoint!r}")
    user, app = data.get("user"), data.get("app")
    for name, value in (("user", user), ("app", app)):
        if value is not None and (not isinstance(value, str) or not value):
            raise ApiError(400, f"{name} must be a non-empty string")
    scoped = user is not None or app is not None
    if scoped and (kind.global_only or endpoint in UNSCOPED_ENDPOINTS):
        raise ApiError(400, f"fault {kind_name} on {endpoint} cannot be scoped to a user or app: it is global")
    times = data.get("times", None if kind.global_only else 1)
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise ApiError(400, "times must be a positive integer, or null for always")
    if kind_name == "move_endpoints" and times is not None:
        raise ApiError(400, "move_endpoints stays on until removed: times must be null")
    params = data.get("params") or {}
    if not isinstance(params, dict):
        raise ApiError(400, "params must be an object")
    _check_params(kind_name, params)
    return Fault(kind=kind_name, endpoint=endpoint, user=user, app=app, times=times, params=params)


def _check_params(kind: str, params: dict[str, Any]) -> None:
    if kind == "respond":
        status = params.get("status", 500)
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise ApiError(400, "respond: status must be an HTTP status code")
        if not isinstance(params.get("body", ""), str) or not isinstance(params.get("content_type", ""), str):
            raise ApiError(400, "respond: body and content_type must be strings")
        headers = params.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ApiError(400, "respond: headers must be an object of strings")
    elif kind == "delay":
        seconds = params.get("seconds", 1.0)
        if seconds is not None and (not isinstance(seconds, int | float) or not 0 <= seconds <= 600):
            raise ApiError(400, "delay: seconds must be between 0 and 600, or null to hang")
    elif kind == "id_token":
        tamper = params.get("tamper")
        if tamper is not None and tamper not in ID_TOKEN_TAMPERS:
            raise ApiError(400, f"id_token: tamper must be one of {', '.join(ID_TOKEN_TAMPERS)}")
    if kind in {"id_token", "userinfo_claims"}:
        if not isinstance(params.get("claims", {}), dict):
            raise ApiError(400, f"{kind}: claims must be an object")
        remove = params.get("remove", [])
        if not isinstance(remove, list) or not all(isinstance(name, str) for name in remove):
            raise ApiError(400, f"{kind}: remove must be a list of claim names")


class FaultRegistry:
    """The active faults, and the event that releases hung requests."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []
        self._release = asyncio.Event()

    def add(self, fault: Fault) -> Fault:
        """Activate a fault."""
        self.faults.append(fault)
        return fault

    def remove(self, fault_id: str) -> None:
        """Deactivate one fault, and release hung requests (a removed ``delay`` must not keep holding its own)."""
        before = len(self.faults)
        self.faults = [f for f in self.faults if f.id != fault_id]
        if len(self.faults) == before:
            raise ApiError(404, "Not Found")
        self._release_hung()

    def clear(self, *, user: str | None = None, app: str | None = None) -> int:
        """Deactivate every fault (or those of one user / app) and release hung requests."""
        keep = [f for f in self.faults if (user and f.user != user) or (app and f.app != app)]
        removed = len(self.faults) - len(keep)
        self.faults = keep
        self._release_hung()
        return removed

    def _release_hung(self) -> None:
        self._release.set()
        self._release = asyncio.Event()

    def take(
        self, kind: str, endpoint: str, *, user_refs: tuple[str, ...] = (), app_refs: tuple[str, ...] = ()
    ) -> Fault | None:
        """The first live fault of ``kind`` that applies here; counts one firing."""
        if not self.faults:
            return None
        users = {ref.lower() for ref in user_refs}
        apps = set(app_refs)
        for fault in self.faults:
            if fault.kind != kind or fault.exhausted:
                continue
            if fault.endpoint is not None and fault.endpoint != endpoint:
                continue
            if fault.user is not None and fault.user.lower() not in users:
                continue
            if fault.app is not None and fault.app not in apps:
                continue
            fault.fired += 1
            return fault
        return None

    async def hang(self, seconds: float | None) -> None:
        """Wait ``seconds``, or until faults are cleared when ``seconds`` is None (10 minutes at most)."""
        release = self._release
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(release.wait(), timeout=600 if seconds is None else seconds)
