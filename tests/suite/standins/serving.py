"""Serve an ASGI app on 127.0.0.1:$PORT with uvicorn until SIGTERM or SIGINT, then return (a clean exit)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine, Mapping
from types import FrameType
from typing import Any

import uvicorn
from starlette.types import ASGIApp

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StandInError(Exception):
    """A stand-in cannot start; the message is its one line of explanation."""


def port_from(environ: Mapping[str, str]) -> int:
    """The ``PORT`` the contract gives a gateway; ``StandInError`` when it is missing or not a TCP port."""
    raw = environ.get("PORT", "")
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StandInError(f"PORT must be a TCP port number, not {raw!r}")
    return int(raw)


async def serve(app: ASGIApp, port: int) -> None:
    """Serve ``app`` on 127.0.0.1:``port`` until a stop signal; the answers' headers are the app's alone."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        date_header=False,
        proxy_headers=False,
        ws="none",
        timeout_graceful_shutdown=2,
    )
    await uvicorn.Server(config).serve()


def _noted(signum: int, frame: FrameType | None) -> None:
    """uvicorn raises the stop signal again once it has shut down: here that only lets ``run_until_stopped`` end."""


def run_until_stopped(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` (which serves) to its end; a stop signal ends the serving, not the process."""
    previous = {stop: signal.signal(stop, _noted) for stop in STOP_SIGNALS}
    try:
        asyncio.run(main)
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
