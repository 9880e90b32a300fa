"""``python -m tests.suite.standins.broken_login``: the reference gateway, whose logins fail after the first.

In front of the reference gateway (``fronting.py``), a proxy forwards everything unchanged, except
``/api/callback``: the first is let through (the suite's warm-up login) and every later one is answered ``307`` to
``API_URL/?error=login_failed``, exchanging nothing.
"""

from __future__ import annotations

import logging

from tests.suite.standins.fronting import run_in_front_of_reference_gateway
from tests.suite.standins.proxy import CallbackRefusingProxy, upstream_client
from tests.suite.standins.serving import serve

REFUSAL_QUERY = "/?error=login_failed"
log = logging.getLogger("broken-login")


async def _serve_proxy(port: int, upstream_url: str, api_url: str) -> None:
    async with upstream_client() as upstream:
        proxy = CallbackRefusingProxy(upstream, upstream_url, api_url.rstrip("/") + REFUSAL_QUERY)
        await serve(proxy, port)
    log.info("stopped; refused %d callbacks", proxy.refused)


def main() -> int:
    """Run until stopped (``fronting.run_in_front_of_reference_gateway``)."""
    return run_in_front_of_reference_gateway("broken-login", _serve_proxy)


if __name__ == "__main__":
    raise SystemExit(main())
