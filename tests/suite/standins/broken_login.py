"""``python -m tests.suite.standins.broken_login``: the reference gateway, whose logins fail after the first.

Configured by the contract's environment like any gateway. It starts the reference gateway with that environment
on a loopback port of its own (``API_URL`` stays the public one, this proxy's), waits until it is healthy, and
serves on 127.0.0.1:$PORT a proxy that forwards everything unchanged, except ``/api/callback``: the first is let
through (the suite's warm-up login) and every later one is answered ``307`` to ``API_URL/?error=login_failed``,
exchanging nothing. SIGTERM stops both (exit status 0).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from types import FrameType

from tests.suite.standins.proxy import CallbackRefusingProxy, upstream_client
from tests.suite.standins.serving import StandInError, port_from, run_until_stopped, serve
from tests.suite.standins.upstream import reference_gateway

REFUSAL_QUERY = "/?error=login_failed"
log = logging.getLogger("broken-login")


class Stopped(Exception):
    """A stop signal came while the reference gateway was starting."""


def _stop_starting(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signal.Signals(signum).name)


async def _serve_proxy(port: int, upstream_url: str, refusal_location: str) -> None:
    async with upstream_client() as upstream:
        proxy = CallbackRefusingProxy(upstream, upstream_url, refusal_location)
        await serve(proxy, port)
    log.info("stopped; refused %d callbacks", proxy.refused)


def main() -> int:
    """Run until stopped: exit status 0, 1 when the reference gateway would not start, 2 for a bad ``PORT``."""
    logging.basicConfig(level=logging.INFO, format="broken-login: %(message)s")
    try:
        port = port_from(os.environ)
    except StandInError as error:
        print(f"broken-login: {error}", file=sys.stderr)
        return 2
    api_url = os.environ.get("API_URL") or f"http://127.0.0.1:{port}"
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stop_starting)
    try:
        with reference_gateway({**os.environ, "API_URL": api_url}) as upstream_url:
            log.info("reference gateway at %s, proxy on 127.0.0.1:%d", upstream_url, port)
            run_until_stopped(_serve_proxy(port, upstream_url, api_url.rstrip("/") + REFUSAL_QUERY))
    except StandInError as error:
        print(f"broken-login: {error}", file=sys.stderr)
        return 1
    except Stopped:
        return 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
