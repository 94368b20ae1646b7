"""Client-side QPS limiting, shared by every client that uses the same access key in the process.

The quota is per Volcengine account (spec §1.1), so two clients with the same key draw from one
budget, while clients with different keys share nothing. A limiter combines:
* spacing (GCRA): one slot every window/qps seconds, so a burst is spread evenly;
* a causal sliding window: a request may start only `window` seconds after the request `qps`
  sends earlier has *completed*. The server counted that one before it answered, so no server —
  whatever its clock or our scheduling jitter — can see more than `qps` arrivals in a window.
  (A window measured at our send times is not enough: one delayed request and one punctual
  request arrive closer together than they were sent.)
`acquire()` returns a `Permit`; release it when the response (or failure) is in.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType

DEFAULT_WINDOW = 1.0
_POLL = 0.001  # async wait for an in-flight request to finish (it is typically ms away)


class Permit:
    """One admitted request; `release()` records when it finished (idempotent)."""

    __slots__ = ("_limiter", "done_at")

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter
        self.done_at: float | None = None

    def release(self) -> None:
        if self.done_at is None:
            self._limiter._release(self)

    def __enter__(self) -> Permit:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class RateLimiter:
    def __init__(
        self, qps: float, *, window: float = DEFAULT_WINDOW, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if qps <= 0:
            raise ValueError("qps must be positive")
        self.qps = qps
        self.window = window
        self.limit = max(1, int(qps * window))
        self.interval = window / self.limit
        self._clock = clock
        self._cond = threading.Condition()
        self._next = 0.0
        self._log: deque[Permit] = deque()

    def _reserve(self) -> tuple[float, Permit | None]:
        """(delay, permit), or (0, None) when the window is full of unfinished requests."""
        with self._cond:
            now = self._clock()
            at = max(now, self._next)
            while len(self._log) > self.limit:
                self._log.popleft()
            if len(self._log) == self.limit:
                oldest = self._log[0]
                if oldest.done_at is None:
                    return 0.0, None
                at = max(at, oldest.done_at + self.window)
                self._log.popleft()
            permit = Permit(self)
            self._log.append(permit)
            self._next = at + self.interval
            return at - now, permit

    def _release(self, permit: Permit) -> None:
        with self._cond:
            permit.done_at = self._clock()
            self._cond.notify_all()

    def acquire(self) -> Permit:
        while True:
            delay, permit = self._reserve()
            if permit is not None:
                if delay > 0:
                    time.sleep(delay)
                return permit
            with self._cond:
                if self._log and self._log[0].done_at is None:
                    self._cond.wait(timeout=0.05)

    async def acquire_async(self) -> Permit:
        while True:
            delay, permit = self._reserve()
            if permit is not None:
                if delay > 0:
                    await asyncio.sleep(delay)
                return permit
            await asyncio.sleep(_POLL)


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


__all__ = ["Permit", "RateLimiter", "shared_limiter"]
