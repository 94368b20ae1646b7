"""Retry with exponential backoff and full jitter, decided by `Reason.retryable` alone."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from rtcsnap.errors import StorageError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` counts the first try; delays are uniform in [0, min(cap, base * 2**n)] (full jitter)."""

    attempts: int = 5
    base: float = 0.2
    cap: float = 10.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)

    def delay(self, retry_number: int) -> float:
        return random.uniform(0.0, min(self.cap, self.base * (2**retry_number)))

    def call(self, fn: Callable[[], T], on_retry: Callable[[int, StorageError], None] | None = None) -> T:
        for n in range(self.attempts):
            try:
                return fn()
            except StorageError as exc:
                if not exc.retryable or n + 1 >= self.attempts:
                    raise
                if on_retry is not None:
                    on_retry(n + 1, exc)
                self.sleep(self.delay(n))
        raise AssertionError("unreachable")  # pragma: no cover


NO_RETRY = RetryPolicy(attempts=1)

__all__ = ["NO_RETRY", "RetryPolicy"]
