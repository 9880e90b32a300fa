"""A stand-in's ``main``: the reference gateway on a port of its own, and a proxy of the stand-in's in front of it.

Configured by the contract's environment like any gateway. The reference gateway gets that environment on a
loopback port of its own (``API_URL`` stays the public one, the proxy's), and once it is healthy the proxy serves on
127.0.0.1:$PORT until SIGTERM or SIGINT, which stop both (exit status 0).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import Any

from tests.suite.standins.serving import StandInError, port_from, run_until_stopped
from tests.suite.standins.upstream import reference_gateway

ServeProxy = Callable[[int, str, str], Coroutine[Any, Any, None]]
"""(public port, the reference gateway's URL, API_URL) -> serve the proxy until a stop signal."""


class Stopped(Exception):
    """A stop signal came while the reference gateway was starting."""


def _stop_starting(signum: int, frame: FrameType | None) -> None:
    raise Stopped(signal.Signals(signum).name)


def run_in_front_of_reference_gateway(name: str, serve_proxy: ServeProxy) -> int:
    """Run until stopped: exit status 0, 1 when the reference gateway would not start, 2 for a bad ``PORT``."""
    logging.basicConfig(level=logging.INFO, format=f"{name}: %(message)s")
    try:
        port = port_from(os.environ)
    except StandInError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 2
    api_url = os.environ.get("API_URL") or f"http://127.0.0.1:{port}"
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stop_starting)
    try:
        with reference_gateway({**os.environ, "API_URL": api_url}) as upstream_url:
            logging.getLogger(name).info("reference gateway at %s, proxy on 127.0.0.1:%d", upstream_url, port)
            run_until_stopped(serve_proxy(port, upstream_url, api_url))
    except StandInError as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 1
    except Stopped:
        return 0
    return 0
