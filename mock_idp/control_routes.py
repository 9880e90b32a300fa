"""The control API for tests (``/_mock``): apps, MFA enrolment, faults, clock, keys, journal, reset."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

import pyotp
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mock_idp.admin_routes import require_key
from mock_idp.errors import ApiError, SettingsError
from mock_idp.faults import FAULT_KINDS, build_fault
from mock_idp.journal import Entry
from mock_idp.provider import Provider
from mock_idp.settings import AppSettings
from mock_idp.web import Handler, endpoint, read_json

CONTROL_PREFIX = "/_mock"


def control(handler: Handler, *, counted: bool = True) -> Any:
    """A control route: admin key required, not journaled, but counted (``stats``)."""

    async def checked(request: Request, provider: Provider, entry: Entry) -> Response:
        require_key(request, provider)
        if counted:
            provider.control_calls += 1
        return await handler(request, provider, entry)

    checked.__name__ = handler.__name__
    checked.__doc__ = handler.__doc__
    return endpoint("control", journaled=False)(checked)


def app_json(app: AppSettings) -> dict[str, Any]:
    """An app with its secret (tests need it to configure a gateway)."""
    return asdict(app)


@control
async def info(request: Request, provider: Provider, entry: Entry) -> Response:
    """The issuer, org and apps: what a gateway needs to be configured."""
    return JSONResponse(
        {
            "issuer": provider.issuer,
            "org_id": provider.settings.org_id,
            "apps": [app_json(a) for a in provider.directory.apps.values()],
            "fault_kinds": {name: kind.description for name, kind in FAULT_KINDS.items()},
        }
    )


@control
async def create_app(request: Request, provider: Provider, entry: Entry) -> Response:
    """Register a new OIDC app from ``AppSettings`` fields."""
    data = await read_json(request, entry)
    if not isinstance(data, dict):
        raise ApiError(400, "an app is a JSON object")
    known = {f.name for f in fields(AppSettings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ApiError(400, f"unknown app field(s): {', '.join(unknown)}")
    values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        app = AppSettings(**values)
    except (SettingsError, TypeError) as error:
        raise ApiError(400, str(error)) from None
    return JSONResponse(app_json(provider.directory.add_app(app)), status_code=201)


@control
async def enroll_totp(request: Request, provider: Provider, entry: Entry) -> Response:
    """Enrol a user in TOTP MFA; answers the base32 secret (or takes one given as ``secret``)."""
    user = provider.directory.user(request.path_params["user_id"])
    data = await read_json(request, entry)
    secret = data.get("secret") if isinstance(data, dict) and data.get("secret") else pyotp.random_base32()
    if not isinstance(secret, str):
        raise ApiError(400, "secret must be a base32 string")
    user.totp_secret = secret
    return JSONResponse({"secret": secret})


@control
async def faults(request: Request, provider: Provider, entry: Entry) -> Response:
    """List (GET), add (POST) or clear (DELETE, optionally ``?user=`` / ``?app=``) faults."""
    if request.method == "GET":
        return JSONResponse([f.to_api() for f in provider.faults.faults])
    if request.method == "DELETE":
        params = request.query_params
        removed = provider.faults.clear(user=params.get("user"), app=params.get("app"))
        return JSONResponse({"removed": removed})
    fault = provider.faults.add(build_fault(await read_json(request, entry)))
    return JSONResponse(fault.to_api(), status_code=201)


@control
async def delete_fault(request: Request, provider: Provider, entry: Entry) -> Response:
    """Remove one fault."""
    provider.faults.remove(request.path_params["fault_id"])
    return Response(status_code=204)


@control
async def clock(request: Request, provider: Provider, entry: Entry) -> Response:
    """Read (GET), advance (POST ``{"advance": seconds}``) or reset (DELETE) the clock."""
    if request.method == "POST":
        data = await read_json(request, entry)
        seconds = data.get("advance") if isinstance(data, dict) else None
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise ApiError(400, "advance must be a non-negative number of seconds")
        provider.clock.advance(float(seconds))
    elif request.method == "DELETE":
        provider.clock.reset()
    return JSONResponse({"now": provider.clock.now(), "offset": provider.clock.offset})


@control
async def keys(request: Request, provider: Provider, entry: Entry) -> Response:
    """List key ids (GET) or rotate the signing key (POST ``{"keep_old": false}``)."""
    if request.method == "POST":
        data = await read_json(request, entry)
        keep_old = bool(data.get("keep_old", False)) if isinstance(data, dict) else False
        provider.keys.rotate(keep_old=keep_old)
    return JSONResponse({"signing": provider.keys.signing.kid, "kids": [k.kid for k in provider.keys.keys]})


@control
async def journal(request: Request, provider: Provider, entry: Entry) -> Response:
    """Journal entries filtered by ``user``, ``app``, ``endpoint``, ``since`` (a cursor) or ``since_time``."""
    params = request.query_params
    try:
        since = int(params["since"]) if "since" in params else None
        since_time = float(params["since_time"]) if "since_time" in params else None
    except ValueError:
        raise ApiError(400, "since must be an integer cursor and since_time a number") from None
    entries = provider.journal.query(
        user=params.get("user"),
        app=params.get("app"),
        endpoint=params.get("endpoint"),
        since=since,
        since_time=since_time,
    )
    return JSONResponse({"cursor": provider.journal.last_seq(), "entries": [e.to_api() for e in entries]})


@control
async def journal_cursor(request: Request, provider: Provider, entry: Entry) -> Response:
    """The newest journal sequence number: pass it as ``since`` to see only later requests."""
    return JSONResponse({"cursor": provider.journal.last_seq()})


async def _stats(request: Request, provider: Provider, entry: Entry) -> Response:
    """How many control-API calls the mock answered (this one not counted): the proof that a run used none."""
    return JSONResponse({"control_calls": provider.control_calls})


stats = control(_stats, counted=False)


@control
async def reset(request: Request, provider: Provider, entry: Entry) -> Response:
    """Clear every fault and reset the clock (users, apps and keys stay)."""
    provider.faults.clear()
    provider.clock.reset()
    return Response(status_code=204)


def routes() -> list[Route]:
    """The control API, relative to ``/_mock``."""
    return [
        Route("/info", info, methods=["GET"]),
        Route("/apps", create_app, methods=["POST"]),
        Route("/users/{user_id}/totp", enroll_totp, methods=["POST"]),
        Route("/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route("/faults/{fault_id}", delete_fault, methods=["DELETE"]),
        Route("/clock", clock, methods=["GET", "POST", "DELETE"]),
        Route("/keys", keys, methods=["GET", "POST"]),
        Route("/journal", journal, methods=["GET"]),
        Route("/journal/cursor", journal_cursor, methods=["GET"]),
        Route("/reset", reset, methods=["POST"]),
        Route("/stats", stats, methods=["GET"]),
    ]
