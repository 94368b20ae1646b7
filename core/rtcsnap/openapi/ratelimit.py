"""Client-side QPS limiting, shared by every client that uses the same access key in the process.

The quota is per Volcengine account (spec §1.1), so two clients with the same key must draw from one
budget, while clients with different keys never share anything. Each limiter combines:
* spacing (GCRA): one slot every 1/qps seconds, so a burst is spread evenly instead of sent at once;
* a sliding-window log: never more than `qps` sends in any `window` seconds, measured at send time.
`reserve()` only computes the wait under a lock; the sync client sleeps, the async one awaits.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable

DEFAULT_WINDOW = 1.0
# Margin for the gap between our send and the server's count (loopback jitter, event-loop delays).
DEFAULT_SAFETY = 0.985


class RateLimiter:
    def __init__(
        self,
        qps: float,
        *,
        window: float = DEFAULT_WINDOW,
        safety: float = DEFAULT_SAFETY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = qps
        self.limit = max(1, int(qps * window))
        self.window = window / safety
        self.interval = self.window / self.limit
        self._clock = clock
        self._lock = threading.Lock()
        self._next = 0.0
        self._sent: deque[float] = deque(maxlen=self.limit)

    def reserve(self) -> float:
        """Claim the next send slot; returns how long the caller must wait before sending."""
        with self._lock:
            now = self._clock()
            at = max(now, self._next)
            if len(self._sent) == self.limit:
                at = max(at, self._sent[0] + self.window)
            self._sent.append(at)
            self._next = at + self.interval
            return at - now

    def acquire(self) -> float:
        delay = self.reserve()
        if delay > 0:
            time.sleep(delay)
        return delay

    async def acquire_async(self) -> float:
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)
        return delay


_registry: dict[tuple[str, str, float], RateLimiter] = {}
_registry_lock = threading.Lock()


def shared_limiter(access_key: str, action: str, qps: float) -> RateLimiter:
    """The process-wide limiter for (access key, action, qps): what every client with that key uses."""
    key = (access_key, action, qps)
    with _registry_lock:
        limiter = _registry.get(key)
        if limiter is None:
            limiter = _registry[key] = RateLimiter(qps)
        return limiter


__all__ = ["RateLimiter", "shared_limiter"]
