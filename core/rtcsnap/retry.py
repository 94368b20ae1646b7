"""Retry with exponential backoff and full jitter, for storage and OpenAPI calls alike.

What is retried is decided by the error alone (`StorageError.retryable` from its `Reason`,
`OpenAPIError.retryable` from its code family): callers never list exception types.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from rtcsnap.errors import RtcSnapError

T = TypeVar("T")


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RtcSnapError) and bool(getattr(exc, "retryable", False))


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` counts the first try; delays are uniform in [0, min(cap, base * 2**n)] (full jitter)."""

    attempts: int = 5
    base: float = 0.2
    cap: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, retry_number: int) -> float:
        return random.uniform(0.0, min(self.cap, self.base * (2**retry_number)))

    def call(self, fn: Callable[[], T], on_retry: Callable[[int, RtcSnapError], None] | None = None) -> T:
        for n in range(self.attempts):
            try:
                return fn()
            except RtcSnapError as exc:
                if not is_retryable(exc) or n + 1 >= self.attempts:
                    raise
                if on_retry is not None:
                    on_retry(n + 1, exc)
                self.sleep(self.delay(n))
        raise AssertionError("unreachable")  # pragma: no cover

    async def acall(
        self, fn: Callable[[], Awaitable[T]], on_retry: Callable[[int, RtcSnapError], None] | None = None
    ) -> T:
        """`call` for coroutines: waits with `asyncio.sleep`, never blocking the event loop."""
        for n in range(self.attempts):
            try:
                return await fn()
            except RtcSnapError as exc:
                if not is_retryable(exc) or n + 1 >= self.attempts:
                    raise
                if on_retry is not None:
                    on_retry(n + 1, exc)
                await asyncio.sleep(self.delay(n))
        raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["RetryPolicy", "is_retryable"]
