"""Downloads and uploads, once for every provider.

Guarantees of `download`:
* never a partial file under a final name — bytes go to ``.NAME.rtcsnap-part-XXXX`` beside the
  destination, are checked (size, provider checksum), fsynced and renamed into place;
* a re-run skips files already complete (same size and checksum, or same size and mtime when the
  provider offers no checksum), so an interrupted run resumes where it stopped;
* bounded concurrency with a lazy listing: memory does not grow with the object count;
* transient failures retried with backoff and jitter; each failure reported with its reason.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rtcsnap.errors import ChecksumMismatchError, Reason, StorageError
from rtcsnap.providers.contract import Body, ObjectInfo, Provider, Session
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import checksums
from rtcsnap.storage.listing import DEFAULT_PAGE_SIZE, iter_session
from rtcsnap.storage.resolve import TargetLike, resolve
from rtcsnap.target import StorageTarget

log = logging.getLogger(__name__)

PART_MARK = ".rtcsnap-part-"
DEFAULT_CONCURRENCY = 8

EventKind = Literal["listed", "bytes", "done", "skipped", "failed"]


@dataclass(frozen=True)
class ProgressEvent:
    """Sent to the progress callback (from worker threads): what happened to which key."""

    kind: EventKind
    key: str
    size: int = 0
    """`listed`: object size; `bytes`: bytes just written; `done`: final size."""
    reason: Reason | None = None


ProgressCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class FailedItem:
    key: str
    reason: Reason
    message: str


@dataclass
class DownloadReport:
    downloaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[FailedItem] = field(default_factory=list)
    bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


class _SessionPool:
    """One session per worker thread; sessions are not required to be thread-safe."""

    def __init__(self, provider: Provider, target: StorageTarget) -> None:
        self._provider, self._target = provider, target
        self._local = threading.local()
        self._all: list[Session] = []
        self._lock = threading.Lock()

    def get(self) -> Session:
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


def local_path(dest: Path, target: StorageTarget, key: str) -> Path:
    """Where `key` lands under `dest`: the key relative to the target's prefix, never outside `dest`."""
    rel = key
    p = target.prefix
    if p and key.startswith(p) and (p.endswith("/") or key[len(p) :].startswith("/")):
        rel = key[len(p) :]
    rel = rel.lstrip("/")
    parts = rel.split("/")
    if not rel or any(s in ("", ".", "..") for s in parts) or "\\" in rel or "\x00" in rel:
        raise StorageError(
            Reason.OTHER, f"key {key!r} cannot be mapped to a safe local path", operation="download"
        )
    return dest.joinpath(*parts)


def _is_complete(path: Path, info: ObjectInfo, expected: tuple[str, str] | None) -> bool:
    try:
        st = path.stat()
    except FileNotFoundError:
        return False
    if st.st_size != info.size:
        return False
    if expected is not None:
        algo, value = expected
        return checksums.same(algo, value, checksums.file_checksum(str(path), algo))
    if info.last_modified is not None:
        return int(st.st_mtime) == int(info.last_modified.timestamp())
    return True


class _StaleParts:
    """Temp files left by a killed run, found with one directory scan per directory (not per file:
    a glob per file is quadratic in a directory of thousands of snapshots)."""

    def __init__(self) -> None:
        self._by_dir: dict[Path, dict[str, list[Path]]] = {}
        self._lock = threading.Lock()

    def remove(self, path: Path) -> None:
        with self._lock:
            found = self._by_dir.get(path.parent)
            if found is None:
                found = self._by_dir[path.parent] = self._scan(path.parent)
            stale = found.pop(path.name, [])
        for p in stale:
            p.unlink(missing_ok=True)

    @staticmethod
    def _scan(directory: Path) -> dict[str, list[Path]]:
        found: dict[str, list[Path]] = {}
        try:
            entries = list(os.scandir(directory))
        except FileNotFoundError:
            return found
        for entry in entries:
            name, mark, _ = entry.name.rpartition(PART_MARK)
            if mark and name.startswith("."):
                found.setdefault(name[1:], []).append(Path(entry.path))
        return found


def _fetch(
    session: Session,
    key: str,
    path: Path,
    listed: ObjectInfo | None,
    progress: ProgressCallback | None,
    stale: _StaleParts,
) -> int | None:
    """One attempt: GET into a temp file, verify, rename. Returns bytes written, None if already complete."""
    with session.get(key) as stream:
        info = listed or stream.info
        # the GET's own headers decide (e.g. S3 SSE-KMS objects have an ETag that is not an MD5)
        expected = session.checksum(stream.info)
        if listed is None and _is_complete(path, info, expected):
            return None
        path.parent.mkdir(parents=True, exist_ok=True)
        stale.remove(path)
        tmp = path.with_name(f".{path.name}{PART_MARK}{uuid.uuid4().hex[:8]}")
        hasher = checksums.new_hasher(expected[0]) if expected else None
        written = 0
        try:
            with open(tmp, "wb") as f:
                for chunk in stream:
                    f.write(chunk)
                    written += len(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    if progress is not None:
                        progress(ProgressEvent("bytes", key, len(chunk)))
                size = stream.info.size
                if size >= 0 and written != size:
                    raise StorageError(
                        Reason.TRANSIENT,
                        f"{key}: connection ended after {written} of {size} bytes",
                        provider=session.provider.name,
                        operation="get",
                    )
                if expected is not None and hasher is not None:
                    actual = hasher.value()
                    if not checksums.same(expected[0], expected[1], actual):
                        raise ChecksumMismatchError(
                            key, expected[0], expected[1], actual, provider=session.provider.name
                        )
                f.flush()
                os.fsync(f.fileno())
            modified = stream.info.last_modified or info.last_modified
            if modified is not None:
                ts = modified.timestamp()
                os.utime(tmp, (ts, ts))
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return written


def download(
    target: TargetLike,
    dest: str | os.PathLike[str],
    *,
    keys: Iterable[str] | None = None,
    prefix: str = "",
    concurrency: int = DEFAULT_CONCURRENCY,
    retry: RetryPolicy | None = None,
    progress: ProgressCallback | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    manager: ProviderManager | None = None,
) -> DownloadReport:
    """Download `keys` (full object keys), or everything under the target prefix + `prefix`, into `dest`."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    provider, t = resolve(target, manager)
    policy = retry or RetryPolicy()
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    pool = _SessionPool(provider, t)
    report = DownloadReport()
    lock = threading.Lock()
    stale = _StaleParts()

    def items() -> Iterator[tuple[str, ObjectInfo | None]]:
        if keys is not None:
            for k in keys:
                yield k, None
            return
        listing_prefix = t.key(prefix) if prefix else t.prefix
        for info in iter_session(pool.get(), listing_prefix, page_size=page_size, retry=policy):
            if info.key.endswith("/"):
                continue  # "directory" placeholder objects
            if progress is not None:
                progress(ProgressEvent("listed", info.key, info.size))
            yield info.key, info

    def work(key: str, listed: ObjectInfo | None) -> None:
        try:
            path = local_path(root, t, key)
            session = pool.get()
            if listed is not None and _is_complete(path, listed, session.checksum(listed)):
                result: int | None = None
            else:
                result = policy.call(lambda: _fetch(session, key, path, listed, progress, stale))
        except StorageError as exc:
            with lock:
                report.failed.append(FailedItem(key, exc.reason, str(exc)))
            if progress is not None:
                progress(ProgressEvent("failed", key, reason=exc.reason))
            return
        except OSError as exc:  # local disk trouble: report, keep going
            with lock:
                report.failed.append(FailedItem(key, Reason.OTHER, f"{key}: local write failed: {exc}"))
            if progress is not None:
                progress(ProgressEvent("failed", key, reason=Reason.OTHER))
            return
        with lock:
            if result is None:
                report.skipped.append(key)
            else:
                report.downloaded.append(key)
                report.bytes += result
        if progress is not None:
            if result is None:
                progress(ProgressEvent("skipped", key, listed.size if listed else 0))
            else:
                progress(ProgressEvent("done", key, result))

    try:
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rtcsnap-dl") as ex:
            pending: set[Future[None]] = set()
            try:
                for key, info in items():
                    if len(pending) >= concurrency * 2:
                        done, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for fut in done:
                            fut.result()
                    pending.add(ex.submit(work, key, info))
                for fut in pending:
                    fut.result()
            except BaseException:
                for fut in pending:
                    fut.cancel()
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
    "DEFAULT_CONCURRENCY",
    "PART_MARK",
    "DownloadReport",
    "FailedItem",
    "ProgressCallback",
    "ProgressEvent",
    "download",
    "local_path",
    "upload",
]
