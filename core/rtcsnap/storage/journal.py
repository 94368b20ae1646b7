"""The download journal: what rtcsnap wrote into a destination folder, and how it was checked.

Why a journal rather than "same size and mtime": a file that is the right size and has the
right time can still hold the wrong bytes (a corrupted download of an older version, a file some
other tool left). A file is skipped on a re-run only when this journal says rtcsnap itself wrote
it, from the same object version (size + ETag or Last-Modified), verified by a recorded rule, and
the file on disk is still the one it wrote (size, mtime in ns, inode).

It also records each run (an id and its pid) before the run creates a temp file; temp names
start with the run's id, so a killed run's leftovers are removed on the next run — and nothing
that no run of ours recorded ever is.

Built for 16 download threads, where every call that releases the GIL (SQLite, a syscall)
may wait a switch interval to get it back — measured, a lock held across SQLite calls was 60 %
of a download's thread-time, and waiting for each commit still 25 %. So the journal is read
once, at open, into a dict (about 250 bytes per file; lookups cost no call at all), and records
go to a writer thread that commits whatever is queued in one transaction (group commit) while
the download goes on. A record still queued when the process is killed is lost, which only
means that object is fetched again on the next run.

One SQLite file per destination, `DEST/.rtcsnap/journal.sqlite3` (WAL; shared by concurrent
runs through SQLite's own locking). Losing a record is always safe: the object is fetched again.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,      -- relative POSIX path under the destination
    key TEXT NOT NULL,          -- the object key that was written there
    size INTEGER NOT NULL,
    etag TEXT,
    modified TEXT,              -- Last-Modified, ISO 8601
    algorithm TEXT,             -- the checksum rule that verified the bytes; NULL = size only
    value TEXT,
    st_size INTEGER NOT NULL,   -- the local file as written
    st_mtime_ns INTEGER NOT NULL,
    st_ino INTEGER NOT NULL,
    st_ctime_ns INTEGER NOT NULL,  -- changes on any later write, utime or chmod: cannot be faked
    recorded REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,        -- the prefix of the run's temp file names in DEST/.rtcsnap/tmp
    pid INTEGER NOT NULL,
    started REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    path: str
    key: str
    size: int
    etag: str | None
    modified: str | None
    algorithm: str | None
    value: str | None
    st_size: int
    st_mtime_ns: int
    st_ino: int
    st_ctime_ns: int

    def matches_file(self, st: os.stat_result) -> bool:
        """The file on disk is still the one rtcsnap wrote: same inode, untouched since (ctime)."""
        return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns) == (
            self.st_size,
            self.st_mtime_ns,
            self.st_ino,
            self.st_ctime_ns,
        )


class Journal:
    """Thread-safe; see the module docstring for how threads share it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()  # the one connection: writer thread and the rare run rows
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version != VERSION:
            self._db.executescript(
                "DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS temps; DROP TABLE IF EXISTS runs;"
            )
        self._db.executescript(SCHEMA)
        self._db.execute(f"PRAGMA user_version = {VERSION}")
        self.run_id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._index: dict[str, tuple[object, ...]] = {
            row[0]: row
            for row in self._db.execute(
                "SELECT path, key, size, etag, modified, algorithm, value, st_size, st_mtime_ns, st_ino, "
                "st_ctime_ns FROM files"
            )
        }
        self._queue: queue.SimpleQueue[tuple[object, ...] | None] = queue.SimpleQueue()
        self.failure: BaseException | None = None
        """A failed journal write (disk full): the files are in place, only re-runs fetch again."""
        self._writer = threading.Thread(target=self._write_loop, name="rtcsnap-journal", daemon=True)
        self._writer.start()

    def close(self) -> None:
        """Commit what is queued, then close."""
        self._queue.put(None)
        self._writer.join()
        with self._lock:
            self._db.execute("DELETE FROM runs WHERE id = ?", (self.run_id,))
            self._db.close()

    def entry(self, path: str) -> Entry | None:
        row = self._index.get(path)
        return Entry(*row) if row else None  # type: ignore[arg-type]

    def record(self, entry: Entry) -> None:
        """The file is in place: remember it (committed by the writer thread, in order)."""
        row = (
            entry.path,
            entry.key,
            entry.size,
            entry.etag,
            entry.modified,
            entry.algorithm,
            entry.value,
            entry.st_size,
            entry.st_mtime_ns,
            entry.st_ino,
            entry.st_ctime_ns,
        )
        self._index[entry.path] = row
        self._queue.put((*row, time.time()))

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while True:  # everything queued meanwhile joins this transaction
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = [row for row in batch if row is not None]
            if rows and self.failure is None:
                try:
                    with self._lock:
                        self._db.execute("BEGIN")
                        self._db.executemany(
                            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
                        )
                        self._db.execute("COMMIT")
                except sqlite3.Error as exc:
                    self.failure = exc
            if len(rows) < len(batch):
                return

    def start_run(self) -> None:
        """Record this run before its first temp file exists (see the module docstring)."""
        with self._lock:
            self._db.execute("INSERT INTO runs VALUES (?, ?, ?)", (self.run_id, os.getpid(), time.time()))

    def dead_runs(self) -> list[str]:
        """Ids of recorded runs whose process is gone (a concurrent run's temp files are left alone)."""
        with self._lock:
            rows = self._db.execute("SELECT id, pid FROM runs").fetchall()
        return [run for run, pid in rows if not _alive(pid)]

    def forget_run(self, run: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM runs WHERE id = ?", (run,))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["Entry", "Journal"]
