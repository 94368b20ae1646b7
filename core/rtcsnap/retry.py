"""Retry with exponential backoff and full jitter, for storage and OpenAPI calls alike.

What is retried is decided by the error alone (`StorageError.retryable` from its `Reason`,
`OpenAPIError.retryable` from its code family): callers never list exception types.

Two optional refinements, both off for callers that do not use them (storage code does not):
* a server's wait hint (`Retry-After`), carried on the exception (`set_retry_after`), is the
  *minimum* delay before the next attempt, capped by `RetryPolicy.retry_after_cap` so one answer
  cannot park a caller for an hour;
* a `deadline` (a `time.monotonic()` instant) given to `call`/`acall`: a retry whose delay would
  end past it is not made; the last error is raised instead, at once, rather than after a
  pointless wait.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from rtcsnap.errors import RtcSnapError

T = TypeVar("T")

RETRY_AFTER_CAP = 30.0
"""Seconds: the longest a `Retry-After` hint makes us wait (longer hints wait this long)."""

_RETRY_AFTER = "retry_after"  # attribute name on the exception; errors.py stays hint-agnostic


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RtcSnapError) and bool(getattr(exc, "retryable", False))


def set_retry_after(exc: BaseException, seconds: float | None) -> None:
    """Attach the server's wait hint (seconds, >= 0) to `exc`; None removes it."""
    setattr(exc, _RETRY_AFTER, None if seconds is None else max(0.0, float(seconds)))


def retry_after(exc: BaseException) -> float | None:
    """The wait hint attached by `set_retry_after`, if any."""
    value = getattr(exc, _RETRY_AFTER, None)
    return float(value) if isinstance(value, int | float) else None


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` counts the first try; delays are uniform in [0, min(cap, base * 2**n)] (full jitter)."""

    attempts: int = 5
    base: float = 0.2
    cap: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    retry_after_cap: float = RETRY_AFTER_CAP

    def delay(self, retry_number: int) -> float:
        return random.uniform(0.0, min(self.cap, self.base * (2**retry_number)))

    def wait_before(self, retry_number: int, exc: BaseException) -> float:
        """The delay before retry `retry_number` after `exc`: backoff, raised to the capped hint."""
        wait = self.delay(retry_number)
        hint = retry_after(exc)
        if hint is not None:
            wait = max(wait, min(hint, self.retry_after_cap))
        return wait

    def _give_up(self, n: int, exc: RtcSnapError, wait: float, deadline: float | None) -> bool:
        if not is_retryable(exc) or n + 1 >= self.attempts:
            return True
        return deadline is not None and time.monotonic() + wait >= deadline

    def call(
        self,
        fn: Callable[[], T],
        on_retry: Callable[[int, RtcSnapError], None] | None = None,
        *,
        deadline: float | None = None,
    ) -> T:
        for n in range(self.attempts):
            try:
                return fn()
            except RtcSnapError as exc:
                wait = self.wait_before(n, exc)
                if self._give_up(n, exc, wait, deadline):
                    raise
                if on_retry is not None:
                    on_retry(n + 1, exc)
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def acall(
        self,
        fn: Callable[[], Awaitable[T]],
        on_retry: Callable[[int, RtcSnapError], None] | None = None,
        *,
        deadline: float | None = None,
    ) -> T:
        """`call` for coroutines: waits with `asyncio.sleep`, never blocking the event loop."""
        import asyncio  # here, not at the top: storage runs are synchronous and skip its import

        for n in range(self.attempts):
            try:
                return await fn()
            except RtcSnapError as exc:
                wait = self.wait_before(n, exc)
                if self._give_up(n, exc, wait, deadline):
                    raise
                if on_retry is not None:
                    on_retry(n + 1, exc)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["RETRY_AFTER_CAP", "RetryPolicy", "is_retryable", "retry_after", "set_retry_after"]
