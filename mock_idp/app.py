"""The Starlette application: OIDC and login under the issuer's path, ``/api`` admin, ``/_mock`` control."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from mock_idp import admin_routes, control_routes, login_routes, oidc_routes
from mock_idp.control_routes import CONTROL_PREFIX
from mock_idp.provider import Provider
from mock_idp.settings import MockIdpSettings

ADMIN_PREFIX = "/api"


async def http_error(request: Request, error: Exception) -> Response:
    """404 and 405 as JSON: JumpCloud's shape under the APIs, fosite's elsewhere."""
    assert isinstance(error, HTTPException)
    if request.url.path.startswith((ADMIN_PREFIX + "/", CONTROL_PREFIX + "/")):
        return JSONResponse({"message": error.detail}, status_code=error.status_code)
    body = {
        "error": "not_found" if error.status_code == 404 else "invalid_request",
        "error_description": error.detail,
        "status_code": error.status_code,
    }
    return JSONResponse(body, status_code=error.status_code)


def create_app(settings: MockIdpSettings, issuer: str) -> Starlette:
    """The mock JumpCloud for ``settings``, answering as ``issuer``."""
    provider = Provider(settings, issuer)
    app = Starlette(
        routes=[
            Mount(ADMIN_PREFIX, routes=admin_routes.routes()),
            Mount(CONTROL_PREFIX, routes=control_routes.routes()),
            Mount(provider.prefix, routes=oidc_routes.routes() + login_routes.routes()),
        ],
        exception_handlers={HTTPException: http_error},
    )
    app.state.provider = provider
    return app
