"""Sessions for many threads: one per worker thread (a `Session` need not be thread-safe), or one
for all when the provider declares `thread_safe_sessions` (boto3's clients are; opening one costs
~0.2 s of CPU, so 16 threads should not each pay it for nothing).
"""

from __future__ import annotations

import threading

from rtcsnap.providers.contract import Provider, Session
from rtcsnap.target import StorageTarget


class SessionPool:
    """One session per worker thread (sessions need not be thread-safe), or one for all when the
    provider declares `thread_safe_sessions`."""

    def __init__(self, provider: Provider, target: StorageTarget) -> None:
        self._provider, self._target = provider, target
        self._local = threading.local()
        self._all: list[Session] = []
        self._lock = threading.Lock()
        self._shared = provider.thread_safe_sessions

    def get(self) -> Session:
        if self._shared:
            with self._lock:
                if not self._all:
                    self._all.append(self._provider.open(self._target))
                return self._all[0]
        s: Session | None = getattr(self._local, "session", None)
        if s is None:
            s = self._provider.open(self._target)
            self._local.session = s
            with self._lock:
                self._all.append(s)
        return s

    def close(self) -> None:
        with self._lock:
            for s in self._all:
                s.close()
            self._all.clear()

    def __enter__(self) -> SessionPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["SessionPool"]
