"""A clock that tests can move forward, so expiry needs no sleeping."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock time plus an offset that only grows."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """Seconds since the epoch, as the mock sees them."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds

    def reset(self) -> None:
        """Back to wall-clock time."""
        self.offset = 0.0
