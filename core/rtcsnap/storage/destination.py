"""Where downloads land: the key → local path mapping, and writing files that never escape DEST.

Rules (each one closes a way an object was silently lost or a file clobbered):
* the mapping is injective: `map_key` strips the target prefix and leading/empty segments, and
  `Claims` refuses a second key that lands on a path (or on a directory, or a directory on its
  file) already taken in this run — that key fails with `path_collision` naming the first;
* keys that cannot be a file name fail with `unmappable_key` instead of being dropped: ``.``/``..``
  segments, NUL, a segment over the file-system name limit, or a path inside the reserved folder;
* temp files live in the reserved folder `DEST/.rtcsnap/tmp/` under short names (run id and a
  counter), so no key can collide with one and a 255-byte final name still fits;
* no symbolic link is followed below DEST: directories are walked with ``O_NOFOLLOW`` from a
  descriptor of DEST, and the final rename is relative to the parent's descriptor.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rtcsnap.errors import LocalPathError, Reason, StorageError
from rtcsnap.storage.journal import Journal

RESERVED = ".rtcsnap"
"""The destination's own folder (journal, temp files); no key may map into it."""
TMP = "tmp"
JOURNAL = "journal.sqlite3"
NAME_MAX = 255
"""Bytes in one path segment on ext4, xfs, btrfs and APFS."""

_DIR_CACHE = 256
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


@dataclass(frozen=True)
class LocalName:
    """A key's place under DEST. `canonical` is False when the mapping dropped something
    (a leading ``/``, an empty segment), which makes collisions with other keys possible."""

    parts: tuple[str, ...]
    canonical: bool

    @property
    def rel(self) -> str:
        return "/".join(self.parts)


def _unmappable(shown: str, why: str) -> StorageError:
    return StorageError(Reason.UNMAPPABLE_KEY, f"{shown}: {why}", operation="download")


def map_key(key: str, prefix: str = "") -> LocalName:
    """The local name of `key`: relative to `prefix` when the key is under it at a ``/`` boundary."""
    rel = key
    if prefix and key.startswith(prefix):
        rest = key[len(prefix) :]
        if prefix.endswith("/"):
            rel = rest
        elif rest.startswith("/"):
            rel = rest[1:]
    return _local_name(repr(key), rel)


def map_path(key: str, rel: str) -> LocalName:
    """The local name a caller chose for `key` (a relative POSIX path, e.g. a task download's
    ``USER/STREAMTYPE/TIMESTAMP.EXT``), held to the same rules as a mapped key, so a chosen path can
    no more leave DEST or enter the reserved folder than a key can."""
    return _local_name(f"{key!r} (as {rel!r})", rel)


def _local_name(shown: str, rel: str) -> LocalName:
    segments = rel.split("/")
    parts = tuple(s for s in segments if s)
    if not parts:
        raise _unmappable(shown, "maps to no file name")
    for seg in parts:
        if seg in (".", ".."):
            raise _unmappable(shown, f"has a {seg!r} path segment")
        if "\x00" in seg:
            raise _unmappable(shown, "contains a NUL character")
        try:
            size = len(os.fsencode(seg))
        except UnicodeError:
            raise _unmappable(shown, "is not encodable as a file name") from None
        if size > NAME_MAX:
            raise _unmappable(shown, f"has a {size}-byte segment; file names are limited to {NAME_MAX} bytes")
    if parts[0] == RESERVED:
        raise _unmappable(shown, f"maps into {RESERVED}/, which rtcsnap reserves for its own state")
    return LocalName(parts, canonical=len(parts) == len(segments))


class Claims:
    """Which key owns which local path in this run: first come, first served.

    Holds one entry per key and directory (about 100 bytes each), the price of refusing
    collisions without listing twice.
    """

    def __init__(self) -> None:
        self._files: dict[str, str] = {}
        self._dirs: dict[str, str] = {}

    def claim(self, key: str, name: LocalName) -> str | None:
        """Take `name` for `key`; on a collision, the key that holds it (and nothing is taken)."""
        rel = name.rel
        for holder in (self._files.get(rel), self._dirs.get(rel)):
            if holder is not None and holder != key:
                return holder
        dirs = ["/".join(name.parts[:i]) for i in range(1, len(name.parts))]
        for d in dirs:
            holder = self._files.get(d)
            if holder is not None and holder != key:
                return holder
        self._files[rel] = key
        for d in dirs:
            self._dirs.setdefault(d, key)
        return None


class TempFile:
    """An open temp file in DEST/.rtcsnap/tmp, named after a run recorded in the journal."""

    def __init__(self, fd: int, name: str) -> None:
        self.fd = fd
        self.name = name
        self.committed = False

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]


class Destination:
    """A download folder: safe writes below it, its journal, and its temp files."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._names = itertools.count(1)
        self._dirs: dict[tuple[str, ...], int] = {}
        self._dirs_lock = threading.Lock()
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._root_fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise LocalPathError(
                f"destination {str(self.root)!r}: cannot create or open it: {_why(exc)}"
            ) from None
        tmp_fd: int | None = None
        journal: Journal | None = None
        try:
            state = self._subdir(self._root_fd, RESERVED, create=True)
            try:
                tmp_fd = self._tmp_fd = self._subdir(state, TMP, create=True)
            finally:
                os.close(state)
            journal = self.journal = Journal(self.root / RESERVED / JOURNAL)
            self.journal.start_run()
            self._probe_write()
        except (OSError, StorageError, sqlite3.Error) as exc:
            if journal is not None:
                with contextlib.suppress(sqlite3.Error):
                    journal.close()
            for fd in (tmp_fd, self._root_fd):
                if fd is not None:
                    os.close(fd)
            why = (
                exc.message
                if isinstance(exc, StorageError)
                else _why(exc)
                if isinstance(exc, OSError)
                else str(exc)
            )
            raise LocalPathError(f"destination {str(self.root)!r}: not writable: {why}") from None
        self._clean_stale_temps()

    def close(self) -> None:
        self.journal.close()
        self._forget_dirs()
        os.close(self._tmp_fd)
        os.close(self._root_fd)

    def __enter__(self) -> Destination:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ------------------------------------------------------------------------------

    def stat(self, name: LocalName) -> os.stat_result | None:
        """The file at `name` (never following a link), or None if there is none."""
        try:
            with self._directory(name.parts[:-1], create=False) as parent:
                return os.stat(name.parts[-1], dir_fd=parent, follow_symlinks=False)
        except FileNotFoundError:
            return None

    def path(self, name: LocalName) -> Path:
        return self.root.joinpath(*name.parts)

    # -- writing ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def temp(self) -> Iterator[TempFile]:
        """A new temp file, named after this run (recorded in the journal); removed unless
        `commit` moved it into place."""
        name = f"{self.journal.run_id}.{next(self._names)}"
        fd = os.open(name, _NEW_FILE, 0o644, dir_fd=self._tmp_fd)
        tmp = TempFile(fd, name)
        try:
            yield tmp
        finally:
            os.close(fd)
            if not tmp.committed:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=self._tmp_fd)

    def commit(self, tmp: TempFile, name: LocalName, mtime_ns: int | None) -> os.stat_result:
        """Stamp, fsync and rename the temp file to `name`; returns the final file's stat (taken
        after the rename, which changes its ctime).

        Few system calls on purpose: each releases and retakes the GIL, and with 16 threads
        every retake can wait a switch interval — so no existence check before the rename (its
        error says the same) and an `fstat` of the open descriptor after it."""
        if mtime_ns is not None:
            os.utime(tmp.fd, ns=(mtime_ns, mtime_ns))
        _datasync(tmp.fd)
        try:
            with self._directory(name.parts[:-1], create=True) as parent:
                os.replace(tmp.name, name.parts[-1], src_dir_fd=self._tmp_fd, dst_dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise StorageError(
                    Reason.LOCAL_IO, f"{self.path(name)} exists and is not a file", operation="download"
                ) from None
            raise
        tmp.committed = True
        return os.fstat(tmp.fd)

    # -- internals ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _directory(self, parts: tuple[str, ...], *, create: bool) -> Iterator[int]:
        """A descriptor of DEST/`parts`, walked from DEST without following links.

        Descriptors are cached (up to `_DIR_CACHE` directories, never evicted during a run, so
        no thread can find one closed under it): the next file in the same directory costs no
        system call. A directory is opened through its parent's descriptor, so a link put in
        its place later cannot redirect a write — the descriptor still names the directory."""
        if not parts:
            yield self._root_fd
            return
        fd = self._dirs.get(parts)
        owned = False
        if fd is None:
            fd, owned = self._open_dir(parts, create)
        try:
            yield fd
        finally:
            if owned:
                os.close(fd)

    def _open_dir(self, parts: tuple[str, ...], create: bool) -> tuple[int, bool]:
        """(descriptor, owned by the caller); a cached descriptor belongs to the cache."""
        up = parts[:-1]
        parent, parent_owned = (self._root_fd, False) if not up else (self._dirs.get(up), False)
        if parent is None:
            parent, parent_owned = self._open_dir(up, create)
        try:
            fd = self._subdir(parent, parts[-1], create=create, shown=parts)
        finally:
            if parent_owned:
                os.close(parent)
        with self._dirs_lock:
            cached = self._dirs.get(parts)
            if cached is None and len(self._dirs) < _DIR_CACHE:
                self._dirs[parts] = fd
                return fd, False
        if cached is not None:  # another thread cached it meanwhile
            os.close(fd)
            return cached, False
        return fd, True

    def _forget_dirs(self) -> None:
        with self._dirs_lock:
            for fd in self._dirs.values():
                os.close(fd)
            self._dirs.clear()

    def _subdir(self, fd: int, seg: str, *, create: bool, shown: tuple[str, ...] = ()) -> int:
        for attempt in (1, 2):
            try:
                return os.open(seg, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create or attempt == 2:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(seg, dir_fd=fd)
            except OSError as exc:
                where = self.root.joinpath(*(shown or (seg,)))
                if exc.errno == errno.ELOOP or (exc.errno == errno.ENOTDIR and os.path.islink(where)):
                    raise StorageError(
                        Reason.UNSAFE_PATH,
                        f"{where} is a symbolic link; rtcsnap does not write through links",
                        operation="download",
                    ) from None
                if exc.errno == errno.ENOTDIR:
                    raise StorageError(
                        Reason.LOCAL_IO, f"{where} is a file, not a directory", operation="download"
                    ) from None
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _probe_write(self) -> None:
        """Fail now, before any GET, if nothing can be written here (read-only mount, full disk)."""
        with self.temp() as tmp:
            tmp.write(b"rtcsnap")
            _datasync(tmp.fd)

    def _clean_stale_temps(self) -> None:
        """Remove the temp files of recorded runs that died (SIGKILL, power loss)."""
        dead = self.journal.dead_runs()
        if not dead:
            return
        prefixes = tuple(f"{run}." for run in dead)
        for name in os.listdir(self._tmp_fd):
            if name.startswith(prefixes):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(name, dir_fd=self._tmp_fd)
        for run in dead:
            self.journal.forget_run(run)


def _datasync(fd: int) -> None:
    """The bytes (and size) on disk before the rename; fdatasync skips the mtime-only metadata."""
    (getattr(os, "fdatasync", None) or os.fsync)(fd)


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


__all__ = [
    "JOURNAL",
    "NAME_MAX",
    "RESERVED",
    "TMP",
    "Claims",
    "Destination",
    "LocalName",
    "TempFile",
    "map_key",
    "map_path",
]
