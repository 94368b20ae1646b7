"""Downloads and uploads, once for every provider.

Guarantees of `download` (evidence is why people keep snapshots: a silently wrong file, or an
object that silently never arrives, is the worst outcome):
* a file takes its final name only after its bytes were checked: size always, and the strongest
  checksum the storage offers for that object (`Session.checksum`); an object with none is
  reported `unverified`;
* every listed key is accounted for exactly once — downloaded, skipped (`complete`,
  `folder_marker`) or failed with a reason — so ``downloaded + skipped + failed == listed``;
* the key → path mapping is injective and never leaves DEST (`storage.destination`);
* a re-run skips a file only when the destination's journal says rtcsnap wrote it from the same
  object version, verified it, and the file is unchanged since (`storage.journal`);
* bounded concurrency over a lazy listing; transient failures (including a checksum mismatch)
  retried with backoff and jitter.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.contract import Body, ObjectInfo, Session
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage.destination import Claims, Destination, LocalName, map_key, map_path
from rtcsnap.storage.journal import Entry
from rtcsnap.storage.listing import DEFAULT_PAGE_SIZE, iter_session
from rtcsnap.storage.resolve import TargetLike, resolve
from rtcsnap.storage.sessions import SessionPool
from rtcsnap.storage.verified import copy_verified

DEFAULT_CONCURRENCY = 8
COMPLETE = "complete"
FOLDER_MARKER = "folder_marker"

EventKind = Literal["listed", "bytes", "done", "skipped", "failed"]


@dataclass(frozen=True)
class ProgressEvent:
    """Sent to the progress callback (from worker threads): what happened to which key."""

    kind: EventKind
    key: str
    size: int = 0
    """`listed`: object size; `bytes`: bytes just written; `done`/`skipped`: final size."""
    reason: Reason | None = None
    """`failed`: why."""
    detail: str = ""
    """`skipped`: ``complete`` or ``folder_marker``; `failed`: the message."""
    path: str | None = None
    """`done`/`skipped`: the local path relative to DEST."""
    checksum: str | None = None
    """`done`/`skipped`: the algorithm that verified the bytes; None = size only (unverified)."""


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class FailedItem:
    key: str
    reason: Reason
    message: str


@dataclass
class DownloadReport:
    listed: int = 0
    """Keys considered: every listed object (or explicit key), whatever became of it."""
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[FailedItem] = field(default_factory=list)
    folder_markers: list[str] = field(default_factory=list)
    """Skipped keys that were zero-byte ``…/`` folder markers (a subset of `skipped`)."""
    unverified: list[str] = field(default_factory=list)
    """Downloaded or skipped keys whose bytes were checked by size only (no checksum exists)."""
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    @property
    def accounted(self) -> bool:
        return len(self.downloaded) + len(self.skipped) + len(self.failed) == self.listed


def _same_version(entry: Entry | None, key: str, info: ObjectInfo) -> bool:
    """The journal's file was written from this very object version."""
    if entry is None or entry.key != key or entry.size != info.size:
        return False
    if info.etag is not None:
        return entry.etag == info.etag
    modified = info.last_modified.isoformat() if info.last_modified else None
    return modified is not None and entry.modified == modified


def _complete(dest: Destination, key: str, name: LocalName, info: ObjectInfo) -> Entry | None:
    """The journal entry proving the local file is this object's bytes, if there is one."""
    entry = dest.journal.entry(name.rel)
    if not _same_version(entry, key, info):
        return None
    assert entry is not None
    st = dest.stat(name)
    return entry if st is not None and entry.matches_file(st) else None


@dataclass(frozen=True)
class _Done:
    written: int | None
    """Bytes written; None when the file was already complete."""
    size: int
    algorithm: str | None


def _fetch(
    session: Session,
    dest: Destination,
    key: str,
    name: LocalName,
    listed: ObjectInfo | None,
    progress: ProgressCallback | None,
) -> _Done:
    """One attempt: GET into a temp file, verify, move into place, record in the journal."""
    with session.get(key) as stream:
        info = stream.info
        if listed is None and (entry := _complete(dest, key, name, info)) is not None:
            return _Done(None, info.size, entry.algorithm)
        on_chunk = (lambda n: progress(ProgressEvent("bytes", key, n))) if progress is not None else None
        with dest.temp() as tmp:
            written, rule = copy_verified(session, stream, key, tmp, on_chunk=on_chunk)
            modified = info.last_modified or (listed.last_modified if listed else None)
            mtime_ns = int(modified.timestamp() * 1_000_000_000) if modified else None
            st = dest.commit(tmp, name, mtime_ns)
            dest.journal.record(
                Entry(
                    path=name.rel,
                    key=key,
                    size=written,
                    etag=(listed.etag if listed is not None and listed.etag else info.etag),
                    modified=(modified.isoformat() if modified else None),
                    algorithm=rule.algorithm if rule else None,
                    value=rule.value if rule else None,
                    st_size=st.st_size,
                    st_mtime_ns=st.st_mtime_ns,
                    st_ino=st.st_ino,
                    st_ctime_ns=st.st_ctime_ns,
                ),
            )
    return _Done(written, written, rule.algorithm if rule else None)


AHEAD = 8
"""Objects in flight per worker: the listing runs at most this far ahead, so memory stays flat
on any bucket, and the producer refills the window in batches rather than once per object."""


class _Window:
    """Bounds the jobs in flight and carries a worker's unexpected exception to the producer.

    The producer is woken only when half the window has drained, not after every job: each wake
    makes it retake the GIL against every busy worker (and `concurrent.futures.wait` re-arms a
    waiter on every pending future), which with one wake per object left workers idle, waiting
    for work, for ~15 % of a 16-thread download."""

    def __init__(self, size: int) -> None:
        self.high = size
        self.low = size // 2
        self.inflight = 0
        self.error: BaseException | None = None
        self._cond = threading.Condition(threading.Lock())

    def enter(self) -> None:
        """Wait for room; raise a worker's unexpected exception as soon as one happened."""
        with self._cond:
            while self.inflight >= self.high and self.error is None:
                self._cond.wait()
            if self.error is not None:
                raise self.error
            self.inflight += 1

    def run(self, job: Callable[[], None]) -> None:
        error: BaseException | None = None
        try:
            job()
        except BaseException as exc:  # a bug, not a storage failure: the producer re-raises it
            error = exc
        with self._cond:
            self.inflight -= 1
            if error is not None and self.error is None:
                self.error = error
            if self.inflight <= self.low or error is not None:
                self._cond.notify()

    def drain(self) -> None:
        """Wait for every job; raise the first unexpected exception."""
        with self._cond:
            while self.inflight and self.error is None:
                self._cond.wait()
            if self.error is not None:
                raise self.error


def _explicit_folder(session: Session, key: str) -> int:
    """An explicitly named ``…/`` key: its size (a folder marker is empty), read from a GET."""
    with session.get(key) as stream:
        return stream.info.size


def download(
    target: TargetLike,
    dest: str | os.PathLike[str],
    *,
    keys: Iterable[str] | None = None,
    objects: Iterable[tuple[str, str]] | None = None,
    prefix: str = "",
    concurrency: int = DEFAULT_CONCURRENCY,
    retry: RetryPolicy | None = None,
    progress: ProgressCallback | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    manager: ProviderManager | None = None,
) -> DownloadReport:
    """Download `keys` (full object keys), or everything under the target prefix + `prefix`, into `dest`.

    `objects` instead names exactly which objects go where: ``(full key, relative path)`` pairs,
    e.g. a task's images as ``USER/STREAMTYPE/TIMESTAMP.EXT`` (no listing is made, so a key absent
    from storage fails as ``not_found``; paths obey the rules of `map_key` and claim like keys).
    Raises `LocalPathError` before any request when `dest` cannot be created or written.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    if objects is not None and (keys is not None or prefix):
        raise ValueError("download: objects= names every object and path; it excludes keys= and prefix=")
    provider, t = resolve(target, manager)
    policy = retry or RetryPolicy()
    report = DownloadReport()
    lock = threading.Lock()
    claims = Claims()

    def emit(ev: ProgressEvent) -> None:
        if progress is not None:
            progress(ev)

    def failed(key: str, reason: Reason, message: str) -> None:
        with lock:
            report.failed.append(FailedItem(key, reason, message))
        emit(ProgressEvent("failed", key, reason=reason, detail=message))

    def skipped(key: str, size: int, why: str, path: str | None, algorithm: str | None) -> None:
        with lock:
            report.skipped.append(key)
            if why == FOLDER_MARKER:
                report.folder_markers.append(key)
            elif algorithm is None:
                report.unverified.append(key)
        emit(ProgressEvent("skipped", key, size, detail=why, path=path, checksum=algorithm))

    with Destination(dest) as local:
        pool = SessionPool(provider, t)

        def items() -> Iterator[tuple[str, ObjectInfo | None, str | None]]:
            """(key, listed info or None for a named key, the chosen path or None: map the key)."""
            if objects is not None:
                for k, rel in objects:
                    yield k, None, rel
                return
            if keys is not None:
                for k in keys:
                    yield k, None, None
                return
            listing_prefix = t.key(prefix) if prefix else t.prefix
            for info in iter_session(pool.get(), listing_prefix, page_size=page_size, retry=policy):
                emit(ProgressEvent("listed", info.key, info.size))
                yield info.key, info, None

        def folder(key: str, info: ObjectInfo | None) -> None:
            try:
                size = (
                    info.size if info is not None else policy.call(lambda: _explicit_folder(pool.get(), key))
                )
            except StorageError as exc:
                failed(key, exc.reason, str(exc))
                return
            if size == 0:
                skipped(key, 0, FOLDER_MARKER, None, None)
            else:
                failed(
                    key,
                    Reason.UNMAPPABLE_KEY,
                    f"{key!r}: a key ending in '/' holds {size} bytes; it cannot be a file name",
                )

        def work(key: str, listed: ObjectInfo | None, name: LocalName) -> None:
            try:
                known = listed
                if known is None and local.journal.entry(name.rel) is not None:
                    # an explicit key rtcsnap wrote before: a HEAD decides, not a GET
                    known = policy.call(lambda: pool.get().stat(key))
                entry = _complete(local, key, name, known) if known is not None else None
                if entry is not None:
                    done = _Done(None, entry.size, entry.algorithm)
                else:
                    session = pool.get()
                    done = policy.call(lambda: _fetch(session, local, key, name, listed, progress))
            except StorageError as exc:
                failed(key, exc.reason, str(exc))
                return
            except OSError as exc:  # local disk trouble: report, keep going
                failed(key, Reason.LOCAL_IO, f"{local.path(name)}: {exc.strerror or exc}")
                return
            if done.written is None:
                skipped(key, done.size, COMPLETE, name.rel, done.algorithm)
                return
            with lock:
                report.downloaded.append(key)
                report.bytes += done.written
                if done.algorithm is None:
                    report.unverified.append(key)
            emit(ProgressEvent("done", key, done.written, path=name.rel, checksum=done.algorithm))

        def plan() -> Iterator[Callable[[], None]]:
            """Each key's job, in listing order; keys whose mapping dropped characters go last, so
            a key that maps to its path exactly always wins that path."""
            deferred: list[tuple[str, ObjectInfo | None, LocalName]] = []

            def claimed(key: str, info: ObjectInfo | None, name: LocalName) -> Callable[[], None] | None:
                holder = claims.claim(key, name)
                if holder is None:
                    return lambda: work(key, info, name)
                failed(
                    key,
                    Reason.PATH_COLLISION,
                    f"{key!r} maps to {name.rel!r}, which key {holder!r} already takes",
                )
                return None

            for key, info, rel in items():
                with lock:
                    report.listed += 1
                if key.endswith("/"):
                    yield lambda k=key, i=info: folder(k, i)  # type: ignore[misc]
                    continue
                try:
                    name = map_key(key, t.prefix) if rel is None else map_path(key, rel)
                except StorageError as exc:
                    failed(key, exc.reason, exc.message)
                    continue
                if not name.canonical:
                    deferred.append((key, info, name))
                    continue
                if (job := claimed(key, info, name)) is not None:
                    yield job
            for key, info, name in deferred:
                if (job := claimed(key, info, name)) is not None:
                    yield job

        window = _Window(concurrency * AHEAD)
        try:
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rtcsnap-dl") as ex:
                try:
                    for job in plan():
                        window.enter()
                        ex.submit(window.run, job)
                    window.drain()
                except BaseException:
                    ex.shutdown(wait=True, cancel_futures=True)
                    raise
        finally:
            pool.close()
    return report


def upload(
    target: TargetLike,
    key: str,
    data: Body,
    *,
    content_type: str = "application/octet-stream",
    retry: RetryPolicy | None = None,
    manager: ProviderManager | None = None,
) -> ObjectInfo:
    """Put one object at `key` (a full key; use `target.key(name)` for one under the prefix)."""
    provider, t = resolve(target, manager)
    policy = retry or RetryPolicy()
    with provider.open(t) as session:
        if isinstance(data, bytes):
            return policy.call(lambda: session.put(key, data, content_type))
        # a stream can be sent once; retrying would send a truncated body
        return session.put(key, data, content_type)


__all__ = [
    "COMPLETE",
    "DEFAULT_CONCURRENCY",
    "FOLDER_MARKER",
    "DownloadReport",
    "FailedItem",
    "ProgressCallback",
    "ProgressEvent",
    "download",
    "upload",
]
