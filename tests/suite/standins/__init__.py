"""Stand-in gateways that keep the conformance suite honest: run through ``--gateway-cmd`` like any gateway, each
must make the suite report failures, never vacuous passes.

- ``null_gateway``: healthy, and refuses everything else (404, or 401 ``{"message": "access denied"}``).
- ``broken_login``: the reference gateway behind a proxy that lets the first login's callback through and answers
  every later one with a redirect carrying ``error=login_failed``, exchanging nothing.
- ``dropping``: the reference gateway behind a proxy that closes connections without answering: every reused
  one (what a browser-like client must retry once), or every callback after the first (what must fail LOAD-01).
"""
