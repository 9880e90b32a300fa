"""A pytest plugin for a child run (``-p tests.capacity.modules_probe``): at the session's end it writes which of
Locust's and gevent's modules the process imported to ``$HOOP_MODULES_PROBE`` (a JSON list)."""

from __future__ import annotations

import json
import os
import sys

import pytest

WATCHED = ("locust", "gevent")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the watched modules this process holds."""
    found = sorted(name for name in sys.modules if name.split(".")[0] in WATCHED)
    with open(os.environ["HOOP_MODULES_PROBE"], "w") as file:
        json.dump(found, file)
