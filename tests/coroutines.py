"""Run a coroutine to completion from a synchronous test, whatever else runs in the process."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own.

    Playwright's sync API keeps an event loop running in the test's thread once a browser test
    has run in the same worker, where ``asyncio.run`` refuses to start; a fresh thread has none.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
