"""``python -m tests.suite.standins.null_gateway [--refusal 404|401]``: a gateway that is healthy and does nothing.

``GET /api/healthz`` answers 200 ``{"liveness": "OK"}``; every other request, whatever its method or path, gets one
fixed refusal: 404 ``{"message": "not found"}`` or 401 ``{"message": "access denied"}``. It listens on
127.0.0.1:$PORT, ignores the rest of the contract's environment and stops cleanly (exit status 0) on SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from hoop_conformance.contract import HEALTHZ
from tests.suite.standins.serving import StandInError, port_from, run_until_stopped, serve

REFUSALS = {404: {"message": "not found"}, 401: {"message": "access denied"}}


def create_app(status: int) -> ASGIApp:
    """Healthy at ``GET /api/healthz``; every other request answered ``status`` with its fixed JSON message."""
    healthy = JSONResponse({"liveness": "OK"})
    refusal = JSONResponse(REFUSALS[status], status_code=status)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        answer = healthy if scope["method"] == "GET" and scope["path"] == HEALTHZ else refusal
        await answer(scope, receive, send)

    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until stopped; exit status 0, or 2 for bad usage or a bad ``PORT``."""
    parser = argparse.ArgumentParser(prog="null-gateway", description="A healthy gateway that refuses everything.")
    parser.add_argument("--refusal", type=int, choices=sorted(REFUSALS), default=404, help="a refusal's status")
    args = parser.parse_args(argv)
    try:
        port = port_from(os.environ)
    except StandInError as error:
        print(f"null-gateway: {error}", file=sys.stderr)
        return 2
    run_until_stopped(serve(create_app(args.refusal), port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
