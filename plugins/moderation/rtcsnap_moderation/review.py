"""Evidence review after the fact: the same detectors over images already in a bucket.

Every key handed in is accounted for exactly once — judged (flagged or not) or failed with a
reason (the storage's, e.g. ``not_found``, or the verdict's ``error``) — so a review of 10,000
images says what happened to each. The bytes come through the target's storage provider
(`rtcsnap.storage.Fetcher`: verified like a download, sessions reused), never a second copy of
the bucket logic; judging runs on a `ModerationPool`, so fetching the next images overlaps
judging the current ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from rtcsnap import StorageError
from rtcsnap.storage import Fetcher
from rtcsnap.storage.resolve import TargetLike

from rtcsnap_moderation.pool import ModerationPool
from rtcsnap_moderation.verdict import Verdict


@dataclass(frozen=True)
class Reviewed:
    """One key's outcome: its verdict, or why there is none."""

    key: str
    verdict: Verdict | None = None
    reason: str | None = None
    """Why the image was not judged: a storage `Reason` value, or ``error`` (see `message`)."""
    message: str | None = None

    @property
    def flagged(self) -> bool:
        return self.verdict is not None and self.verdict.flagged

    @property
    def failed(self) -> bool:
        return self.verdict is None or self.verdict.status == "error"


@dataclass
class ReviewSummary:
    """Counts over every key: ``judged + failed == listed``."""

    listed: int = 0
    judged: int = 0
    flagged: int = 0
    partial: int = 0
    """Judged, but some detector errored (the verdict says which)."""
    failed: int = 0
    flagged_keys: list[str] = field(default_factory=list)

    @property
    def accounted(self) -> bool:
        return self.judged + self.failed == self.listed


def review(
    target: TargetLike,
    keys: Iterable[str],
    pool: ModerationPool,
    *,
    app_id: str | None = None,
    on_result: Callable[[Reviewed], None] | None = None,
    in_flight: int | None = None,
) -> ReviewSummary:
    """Judge the image at each of `keys` (full object keys) in `target`'s bucket.

    `in_flight` bounds the images fetched or being judged at once (default: twice the pool's
    workers, so a worker never waits for a download); `keys` is consumed lazily, so a listing of
    any size keeps memory flat. `on_result` is called once per key, from one thread at a time.
    """
    bound = in_flight or 2 * pool.workers
    summary = ReviewSummary()
    lock = threading.Lock()

    def judge(fetcher: Fetcher, key: str) -> Reviewed:
        try:
            data = fetcher.fetch(key).data
        except StorageError as exc:
            return Reviewed(key, reason=exc.reason.value, message=str(exc))
        verdict = pool.moderate(data, app_id)
        if verdict.status == "error":
            return Reviewed(key, verdict, reason="error", message=verdict.error)
        return Reviewed(key, verdict)

    def settle(result: Reviewed) -> None:
        with lock:
            summary.listed += 1
            if result.failed:
                summary.failed += 1
            else:
                summary.judged += 1
                summary.partial += result.verdict is not None and result.verdict.status == "partial"
                if result.flagged:
                    summary.flagged += 1
                    summary.flagged_keys.append(result.key)
            if on_result is not None:
                on_result(result)

    with Fetcher(target) as fetcher, ThreadPoolExecutor(bound) as threads:
        window = threading.BoundedSemaphore(bound)
        futures: list[Future[None]] = []

        def run(key: str) -> None:
            try:
                settle(judge(fetcher, key))
            finally:
                window.release()

        for key in keys:
            window.acquire()
            futures.append(threads.submit(run, key))
            pending = []
            for f in futures:
                if f.done():
                    f.result()  # an unexpected exception in a worker surfaces here, not silently
                else:
                    pending.append(f)
            futures = pending
        for f in futures:
            f.result()
    return summary


__all__ = ["ReviewSummary", "Reviewed", "review"]
