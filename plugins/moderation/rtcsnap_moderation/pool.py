"""Moderation in worker processes: the models are CPU-bound and take turns inside one process
(`rtcsnap_moderation.lazy`), so parallelism comes from processes, one `Moderator` each.

Why it looks like this:
* Workers are *spawned*, never forked: ONNX Runtime's thread pools do not survive a fork, and a
  receiver forking with its event loop and commit thread running would copy locks held mid-call.
* Each worker builds its `Moderator` from the rules once (in the pool's initializer) and loads the
  models then (`warm_up`), so the first image does not pay the ~1 s of imports and model loads.
* A worker that dies (out of memory, a native crash in a model) breaks the whole
  `ProcessPoolExecutor`: the image it held gets an ``error`` verdict naming the crash, the pool is
  rebuilt, and the next image runs on fresh workers — an event is never lost to a crash.
* Only bytes and JSON cross the process boundary (the verdict comes back as its JSON), so a
  third-party detector's objects never need to be picklable.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from rtcsnap_moderation.rules import ModerationRules
from rtcsnap_moderation.verdict import Verdict

BACKGROUND = 19
"""The workers' nice value beside a receiver: measured on 2 cores, a busy worker at nice 0 cut the
receiver's callbacks/s to 0.45–0.67 of its alone figure, at nice 19 to 0.87–1.01
(docs/benchmarks.md, Moderation)."""

_moderator: Any = None  # the worker process's Moderator (set by `_start`)


def _start(rules: dict[str, Any], nice: int) -> None:
    """Pool initializer, in each worker: lower its priority, build the moderator, load its models."""
    from rtcsnap_moderation.moderator import Moderator

    global _moderator
    if nice:
        os.nice(nice)
    _moderator = Moderator(rules)
    _moderator.warm_up()


def _moderate(data: bytes, app_id: str | None) -> str:
    assert _moderator is not None, "worker not initialised"
    verdict: Verdict = _moderator.moderate(data, app_id)
    return verdict.model_dump_json()


class ModerationPool:
    """`moderate(bytes, app_id) -> Verdict` on `workers` processes; thread-safe (a hook lane with
    several threads, or a CLI thread pool, shares one pool)."""

    def __init__(self, rules: ModerationRules, workers: int = 1, *, nice: int = 0) -> None:
        """`nice` lowers the workers' CPU priority (0–19): the receiver's hook uses `BACKGROUND`, so
        judging images never takes the CPU from acknowledging callbacks."""
        if not 1 <= workers <= 64:
            raise ValueError(f"workers: must be between 1 and 64 (got {workers})")
        if not 0 <= nice <= 19:
            raise ValueError(f"nice: must be between 0 and 19 (got {nice})")
        self.rules = rules
        self.workers = workers
        self.nice = nice
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self.restarts = 0
        """How many times a dead worker forced a new pool."""

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start,
                    initargs=(self.rules.model_dump(mode="json"), self.nice),
                )
            return self._pool

    def _broken(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:  # the first thread to see it rebuilds; the others reuse
                self._pool = None
                self.restarts += 1
        pool.shutdown(wait=False, cancel_futures=True)

    def moderate(self, data: bytes, app_id: str | None = None, timeout: float | None = None) -> Verdict:
        """The verdict of one image. A dead worker costs one retry on a fresh pool (the crash may
        have been another image's); dying again gives an ``error`` verdict, never an exception."""
        reason = ""
        for _ in range(2):
            pool = self._executor()
            try:
                future = pool.submit(_moderate, bytes(data), app_id)
                return Verdict.model_validate_json(future.result(timeout))
            except BrokenProcessPool as exc:
                self._broken(pool)
                reason = " ".join(str(exc).split()) or "a worker process died"
        return Verdict(app_id=app_id, flagged=False, status="error", error=f"worker crashed: {reason}")

    def warm_up(self) -> None:
        """Start every worker now (each loads its models), rather than on the first images."""
        pool = self._executor()
        for future in [pool.submit(_ready) for _ in range(self.workers)]:
            future.result()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ModerationPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ready() -> bool:
    return _moderator is not None


__all__ = ["ModerationPool"]
