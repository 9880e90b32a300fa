"""HTTP plumbing shared by every route: journaling, error answers, strict parameter parsing, faults."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mock_idp.errors import ApiError, InvalidRequest, OAuthError
from mock_idp.journal import Entry
from mock_idp.provider import Provider

log = logging.getLogger("mock_idp")

Handler = Callable[[Request, Provider, Entry], Awaitable[Response]]
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_error_response(error: OAuthError, headers: dict[str, str] | None = None) -> JSONResponse:
    """A fosite-shaped JSON error."""
    return JSONResponse(error.body(), status_code=error.status, headers={**NO_STORE, **(headers or {})})


def api_error_response(error: ApiError) -> JSONResponse:
    """A JumpCloud-shaped JSON error."""
    return JSONResponse({"message": error.message}, status_code=error.status)


def endpoint(
    name: str, *, movable: bool = False, moved: bool = False, journaled: bool = True
) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """Wrap a handler: journal the request, turn known errors into their answers, never leak a traceback.

    ``movable`` endpoints answer 404 at the path that a ``move_endpoints`` fault does not advertise;
    control-API calls are not ``journaled``.
    """

    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def route(request: Request) -> Response:
            provider: Provider = request.app.state.provider
            if journaled:
                entry = provider.journal.open(
                    name, request.method, request.url.path, dict(request.headers), dict(request.query_params)
                )
            else:
                entry = Entry(seq=0, time=0.0, endpoint=name, method=request.method, path=request.url.path)
            try:
                if movable and provider.endpoints_moved() != moved:
                    response: Response = JSONResponse(
                        {"error": "not_found", "error_description": "Not Found", "status_code": 404}, 404
                    )
                else:
                    response = await handler(request, provider, entry)
            except OAuthError as error:
                response = oauth_error_response(error)
            except ApiError as error:
                response = api_error_response(error)
            except Exception:
                log.exception("unexpected error on %s %s", request.method, name)
                response = JSONResponse(
                    {
                        "error": "server_error",
                        "error_description": "The mock hit an unexpected error.",
                        "status_code": 500,
                    },
                    500,
                )
            entry.status = response.status_code
            return response

        route.__name__ = handler.__name__
        route.__doc__ = handler.__doc__
        return route

    return wrap


def single_values(items: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Parameters as a dict; a repeated parameter is an ``invalid_request`` (as in fosite)."""
    values: dict[str, str] = {}
    for key, value in items:
        if key in values:
            raise InvalidRequest(f"The parameter '{key}' was included more than once.")
        if not isinstance(value, str):
            raise InvalidRequest(f"The parameter '{key}' must be a plain value, not a file.")
        values[key] = value
    return values


async def read_form(request: Request, entry: Entry) -> dict[str, str]:
    """The request's urlencoded form, journaled with secrets redacted."""
    if request.method != "POST":
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidRequest("The POST body must be application/x-www-form-urlencoded.")
    try:
        form = await request.form()
        values = single_values(form.multi_items())
    except OAuthError:
        raise
    except Exception:
        raise InvalidRequest("The POST body could not be parsed.") from None
    request.app.state.provider.journal.record_form(entry, values)
    return values


async def read_json(request: Request, entry: Entry) -> Any:
    """The request's JSON body (admin and control APIs), or a JumpCloud-shaped 400."""
    body = await request.body()
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not valid JSON") from None
    if isinstance(data, dict) and entry.seq:
        request.app.state.provider.journal.record_form(entry, {k: str(v) for k, v in data.items()})
    return data


async def intercept(
    provider: Provider, endpoint_name: str, entry: Entry, user: Any = None, client_id: str | None = None
) -> Response | None:
    """Apply ``delay`` and ``respond`` faults that match this request; the fault's answer if one fired."""
    delay = provider.take_fault("delay", endpoint_name, user, client_id, entry)
    if delay is not None:
        await provider.faults.hang(delay.params.get("seconds", 1.0))
    fault = provider.take_fault("respond", endpoint_name, user, client_id, entry)
    if fault is None:
        return None
    params = fault.params
    status = params.get("status", 500)
    default_body = json.dumps({"error": "server_error", "error_description": "Injected fault.", "status_code": status})
    return Response(
        params.get("body", default_body),
        status_code=status,
        media_type=params.get("content_type", "application/json"),
        headers=params.get("headers") or None,
    )
