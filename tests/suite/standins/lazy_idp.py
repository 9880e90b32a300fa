"""``python -m tests.suite.standins.lazy_idp``: the reference gateway, except that it does not read the IdP's
discovery at start: it starts whatever the IdP serves, and meets the IdP's certificate only when a login needs it.

It shows the TLS checks' other way to refuse a certificate (a login that fails cleanly) the way the reference gateway
never does (it refuses to start). The rest is the reference gateway's, ``REFGW_MUTANT`` included.
"""

from __future__ import annotations

from reference_gateway import cli
from reference_gateway.settings import Settings


def _no_check_at_start(settings: Settings) -> None:
    """Read nothing from the IdP at start."""


def main() -> int:
    """Run the reference gateway without its start-up check of the IdP."""
    cli.check_idp = _no_check_at_start
    return cli.main()


if __name__ == "__main__":
    raise SystemExit(main())
