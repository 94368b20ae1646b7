"""Load each model once per process, on first use, and never share one across a fork.

A moderation worker pool is a pool of processes: each loads its own ONNX sessions when it first
moderates (a parent that never moderates loads nothing). Should a parent load a model and then
fork, the child starts with an empty cache and its own lock (`os.register_at_fork`): an ONNX
Runtime session's thread pool does not survive a fork, and a lock held at fork time would never
be released in the child.

Thread safety: building is serialised by one lock, so two threads asking for the same model at once
load it once. What is cached is a `Loaded` pair of the model and a lock of its own, which the
detectors hold around every inference call: ONNX Runtime's ``run`` is thread-safe, but NudeNet's and
RapidOCR's Python wrappers keep per-call state on the object, and a thread per core would only
oversubscribe the cores anyway. Threads in one process therefore take turns; run processes in parallel.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class Loaded(Generic[T]):
    """A loaded model, the lock to hold while calling it, and how long loading took."""

    model: T
    load_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)


_cache: dict[Hashable, Loaded[Any]] = {}
_lock = threading.Lock()


def _after_fork_in_child() -> None:
    global _lock
    _cache.clear()
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)


def load(key: Hashable, build: Callable[[], T]) -> Loaded[T]:
    """The model cached under `key` in this process, built by `build()` on first call. A `build`
    that raises caches nothing: the next call tries again (and fails again, with the same reason)."""
    with _lock:
        hit = _cache.get(key)
        if hit is None:
            start = time.perf_counter()
            model = build()
            hit = _cache[key] = Loaded(model, time.perf_counter() - start)
        return hit


def is_loaded(key: Hashable) -> bool:
    return key in _cache


def forget(key: Hashable | None = None) -> None:
    """Drop one cached model (or all): tests measuring a cold load, or freeing memory."""
    with _lock:
        if key is None:
            _cache.clear()
        else:
            _cache.pop(key, None)


__all__ = ["Loaded", "forget", "is_loaded", "load"]
