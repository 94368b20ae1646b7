"""Time as an injectable dependency: every component that reads the clock takes a `Clock`, so tests
move time with a `ManualClock` instead of sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]
"""Seconds since the epoch, like `time.time`."""


class ManualClock:
    """A clock that moves only when told to; starts at the current wall time by default."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward (or back, if negative) and return the new time."""
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now


__all__ = ["Clock", "ManualClock"]
