"""The download journal: what rtcsnap wrote into a destination folder, and how it was checked.

Why a journal rather than "same size and mtime": a file that is the right size and has the
right time can still hold the wrong bytes (a corrupted download of an older version, a file some
other tool left). A file is skipped on a re-run only when this journal says rtcsnap itself wrote
it, from the same object version (size + ETag or Last-Modified), verified by a recorded rule, and
the file on disk is still the one it wrote (size, mtime in ns, inode).

It also records every temp file before it is created, so a killed run's leftovers are removed
on the next run and nothing else ever is.

The schema carries a version (`PRAGMA user_version`); a journal of another version is dropped
and rebuilt, which only costs one re-download.

One SQLite file per destination, `DEST/.rtcsnap/journal.sqlite3` (WAL; shared by concurrent
runs through SQLite's own locking). Losing a record is always safe: the object is fetched again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

VERSION = 1
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
CREATE TABLE IF NOT EXISTS temps (
    name TEXT PRIMARY KEY,      -- file name inside DEST/.rtcsnap/tmp
    pid INTEGER NOT NULL,
    created REAL NOT NULL
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

    @property
    def verified(self) -> bool:
        return self.algorithm is not None


class Journal:
    """Thread-safe (one connection behind a lock: statements take microseconds)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version != VERSION:
            self._db.executescript("DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS temps;")
        self._db.executescript(SCHEMA)
        self._db.execute(f"PRAGMA user_version = {VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def entry(self, path: str) -> Entry | None:
        with self._lock:
            row = self._db.execute(
                "SELECT path, key, size, etag, modified, algorithm, value, st_size, st_mtime_ns, st_ino, st_ctime_ns "
                "FROM files WHERE path = ?",
                (path,),
            ).fetchone()
        return Entry(*row) if row else None

    def record(self, entry: Entry, temp: str) -> None:
        """The file is in place: remember it, and forget its temp file, in one transaction."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute(
                "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
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
                    time.time(),
                ),
            )
            self._db.execute("DELETE FROM temps WHERE name = ?", (temp,))
            self._db.execute("COMMIT")

    def forget(self, path: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM files WHERE path = ?", (path,))

    def add_temp(self, name: str) -> None:
        with self._lock:
            self._db.execute("INSERT INTO temps VALUES (?, ?, ?)", (name, os.getpid(), time.time()))

    def drop_temp(self, name: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM temps WHERE name = ?", (name,))

    def stale_temps(self) -> list[str]:
        """Temp files of runs that are no longer alive (a concurrent run's are left alone)."""
        with self._lock:
            rows = self._db.execute("SELECT name, pid FROM temps").fetchall()
        return [name for name, pid in rows if not _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


__all__ = ["Entry", "Journal"]
