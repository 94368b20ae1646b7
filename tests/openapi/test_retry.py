"""`RetryPolicy`: full jitter that really is jitter, Retry-After hints, and call deadlines.

The jitter check is statistical on purpose: a test that only checks `0 <= d <= bound` passes for
a `delay()` that always returns 0 (no backoff at all) or always the bound (synchronised retry
storms), the two failures full jitter exists to prevent.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from rtcsnap.errors import Reason, StorageError, ThrottledError
from rtcsnap.retry import RetryPolicy

SAMPLES = 400  # per retry number: P(min > 10 % of the bound) = 0.9**400 ~ 5e-19


def _slept(policy_type: type[RetryPolicy], calls: int = SAMPLES) -> list[list[float]]:
    """Delays the policy slept, by retry number, over `calls` calls that always fail retryably."""
    slept: list[float] = []
    policy = policy_type(attempts=6, base=0.5, cap=2.0, sleep=slept.append)

    def fail() -> None:
        raise StorageError(Reason.TRANSIENT)

    for _ in range(calls):
        with pytest.raises(StorageError):
            policy.call(fail)
    retries = policy.attempts - 1
    assert len(slept) == calls * retries
    return [slept[n::retries] for n in range(retries)]


def assert_full_jitter(policy_type: type[RetryPolicy]) -> None:
    """Delays of retry n spread uniformly over [0, min(cap, base * 2**n)]."""
    for n, delays in enumerate(_slept(policy_type)):
        bound = min(2.0, 0.5 * 2**n)
        assert all(0.0 <= d <= bound for d in delays), f"retry {n}: outside [0, {bound}]"
        assert min(delays) < 0.1 * bound, f"retry {n}: never near 0 (min {min(delays):.3f})"
        assert max(delays) > 0.9 * bound, f"retry {n}: never near {bound} (max {max(delays):.3f})"
        mean = sum(delays) / len(delays)
        assert abs(mean - bound / 2) < 0.1 * bound, f"retry {n}: mean {mean:.3f}, expected ~{bound / 2}"


def test_retry_policy_backoff_is_bounded_full_jitter() -> None:
    assert_full_jitter(RetryPolicy)


class _NoDelay(RetryPolicy):
    def delay(self, retry_number: int) -> float:
        return 0.0


class _NoJitter(RetryPolicy):
    def delay(self, retry_number: int) -> float:
        return float(min(self.cap, self.base * 2.0**retry_number))


class _HalfJitter(RetryPolicy):
    def delay(self, retry_number: int) -> float:
        return super().delay(retry_number) / 2


@pytest.mark.parametrize("degenerate", [_NoDelay, _NoJitter, _HalfJitter])
def test_the_jitter_check_rejects_degenerate_delays(degenerate: type[RetryPolicy]) -> None:
    with pytest.raises(AssertionError):
        assert_full_jitter(degenerate)


def _throttled(after: float | None) -> ThrottledError:
    from rtcsnap.retry import set_retry_after

    exc = ThrottledError("slow down", code="FlowLimitExceeded.QPSOverLimit", http_status=429)
    set_retry_after(exc, after)
    return exc


def test_retry_after_is_a_floor_under_the_backoff_and_is_capped() -> None:
    slept: list[float] = []
    policy = RetryPolicy(attempts=3, base=0.001, cap=0.001, sleep=slept.append, retry_after_cap=5.0)
    hints = iter([2.0, 3600.0])

    def fail() -> None:
        raise _throttled(next(hints, None))

    with pytest.raises(ThrottledError):
        policy.call(fail)
    assert slept == [2.0, 5.0]


def test_without_a_hint_nothing_changes_for_existing_callers() -> None:
    """Storage errors carry no hint: delays stay pure full jitter, sleep is still the policy's."""
    slept: list[float] = []
    policy = RetryPolicy(attempts=4, base=0.5, cap=2.0, sleep=slept.append)
    with pytest.raises(StorageError):
        policy.call(lambda: (_ for _ in ()).throw(StorageError(Reason.THROTTLED)))
    assert len(slept) == 3 and all(0 <= d <= min(2.0, 0.5 * 2**i) for i, d in enumerate(slept))
    assert RetryPolicy(5, 0.2, 10.0) == RetryPolicy(attempts=5, base=0.2, cap=10.0)


def test_a_wait_past_the_deadline_is_not_made() -> None:
    slept: list[float] = []
    calls: list[int] = []
    policy = RetryPolicy(attempts=5, base=0.001, cap=0.001, sleep=slept.append)

    def fail() -> None:
        calls.append(1)
        raise _throttled(10.0)

    with pytest.raises(ThrottledError):
        policy.call(fail, deadline=time.monotonic() + 5.0)
    assert (len(calls), slept) == (1, [])


def test_acall_honours_hints_and_deadlines() -> None:
    calls: list[float] = []
    policy = RetryPolicy(attempts=3, base=0.001, cap=0.001, retry_after_cap=0.2)

    async def fail() -> None:
        calls.append(time.monotonic())
        raise _throttled(60.0)

    async def run() -> None:
        with pytest.raises(ThrottledError):
            await policy.acall(fail, deadline=time.monotonic() + 0.3)

    asyncio.run(run())
    assert len(calls) == 2, "one capped 0.2 s wait fits before the deadline, a second does not"
    assert calls[1] - calls[0] >= 0.19
