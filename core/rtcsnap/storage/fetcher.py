"""One object's bytes in memory, verified like a download: for code that looks at an image
rather than keeps it (moderation, thumbnails), so no plugin writes its own GET-and-check loop.

The same rule as `download` accepts the bytes (`storage.verified`): the size always, and the
strongest checksum the storage offers; transient failures and checksum mismatches are retried with
the same policy. `max_bytes` bounds memory: a larger object fails `too_large` before its body is
read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from rtcsnap.providers.contract import ObjectInfo, Session
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage.resolve import TargetLike, resolve
from rtcsnap.storage.sessions import SessionPool
from rtcsnap.storage.verified import copy_verified

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
"""Snapshots are JPEG/PNG frames of at most 1920x1920 (spec §3.2): far below this."""


@dataclass(frozen=True)
class Fetched:
    """An object's bytes and what was known of it when they were accepted."""

    key: str
    data: bytes
    info: ObjectInfo
    checksum: str | None
    """The algorithm the bytes were verified with; None: the storage offers none (size only)."""

    @property
    def verified(self) -> bool:
        return self.checksum is not None


def fetch_with(
    session: Session, key: str, *, retry: RetryPolicy | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Fetched:
    """`fetch` over an open session (a caller fetching many objects keeps one open)."""

    def attempt() -> Fetched:
        buffer = io.BytesIO()
        with session.get(key) as stream:
            _, rule = copy_verified(session, stream, key, buffer, max_bytes=max_bytes)
            return Fetched(key, buffer.getvalue(), stream.info, rule.algorithm if rule else None)

    return (retry or RetryPolicy()).call(attempt)


class Fetcher:
    """`fetch` for many keys of one target from many threads, reusing sessions (`SessionPool`):
    what a hook or a bucket review calls per image. Close it (or use ``with``) when done."""

    def __init__(
        self,
        target: TargetLike,
        *,
        retry: RetryPolicy | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        manager: ProviderManager | None = None,
    ) -> None:
        provider, self.target = resolve(target, manager)
        self._sessions = SessionPool(provider, self.target)
        self._retry = retry
        self._max_bytes = max_bytes

    def fetch(self, key: str) -> Fetched:
        """The verified bytes of `key` (a full object key); `StorageError` as `fetch` raises."""
        return fetch_with(self._sessions.get(), key, retry=self._retry, max_bytes=self._max_bytes)

    def close(self) -> None:
        self._sessions.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def fetch(
    target: TargetLike,
    key: str,
    *,
    retry: RetryPolicy | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    manager: ProviderManager | None = None,
) -> Fetched:
    """The bytes of `key` (a full object key) in `target`'s bucket, verified.

    Raises `StorageError` with the provider's reason (`not_found`, `bad_secret`, …, `too_large`,
    `checksum_mismatch` after the retries)."""
    provider, t = resolve(target, manager)
    with provider.open(t) as session:
        return fetch_with(session, key, retry=retry, max_bytes=max_bytes)


__all__ = ["DEFAULT_MAX_BYTES", "Fetched", "Fetcher", "fetch", "fetch_with"]
