"""Per-account, per-action QPS quota (spec §1.1): a sliding one-second window.

Only admitted requests enter the window, so a client hammering at twice the quota still gets
exactly `limit` answers per second through, as a token-style gateway would let it.
"""

from __future__ import annotations

import threading
from collections import deque

WINDOW = 1.0


class QuotaLimiter:
    """Thread-safe sliding-window log; time comes from the caller (the request's arrival)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._admitted: dict[tuple[str, str], deque[float]] = {}

    def admit(self, account: str, action: str, limit: int, arrival: float) -> bool:
        """True (and counted) if fewer than `limit` requests were admitted in (arrival - 1 s, arrival]."""
        with self._lock:
            log = self._admitted.setdefault((account, action), deque())
            while log and log[0] <= arrival - WINDOW:
                log.popleft()
            if len(log) >= limit:
                return False
            log.append(arrival)
            return True

    def clear(self) -> None:
        with self._lock:
            self._admitted.clear()


__all__ = ["QuotaLimiter"]
