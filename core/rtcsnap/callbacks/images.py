"""Where a snapshot hook reads the image a callback announced: the hook's ``images`` argument.

Why core owns this: every analysis plugin (moderation, thumbnails, OCR archives) needs the bytes
of each new image, and the callback names only a bucket and key, never a credential. Which read
key serves which task is the embedder's knowledge — `rtcsnap callbacks serve` knows what this
machine's ``rtcsnap start`` recorded in the task log, the demo knows the read key it minted — so
the one who runs the receiver says it once here, and every plugin reads through the same verified
`Fetcher` (one per target, its sessions pooled) instead of each keeping a copy of that logic.

Resolution, first match wins: the task's own target (`tasks`), the `default` target, the task log
(`rtcsnap.tasklog`: the target ``rtcsnap start --storage`` used for the task, resolved as a read
target, so an ``@NAME`` uses its read key). A record whose bucket is not the target's is refused,
not read from the wrong bucket.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING

from rtcsnap.errors import ConfigurationError
from rtcsnap.target import StorageTarget

if TYPE_CHECKING:
    from rtcsnap.callbacks.records import SnapshotRecord
    from rtcsnap.storage import Fetched, Fetcher
    from rtcsnap.tasklog import TaskLog

TaskKey = tuple[str, str, str]
"""(app_id, room_id, task_id)."""
_FROM_ENV = object()


class ImageSource:
    """The image of each record, fetched and verified; thread-safe (hooks call it from their lanes).

    `tasks`: read targets by task; `default`: the target of every other task; `task_log`: where
    tasks started on this machine are looked up last (default `TaskLog.default()`, None: not at
    all). Targets may be `StorageTarget`s or target strings (a URL or ``@NAME``, read key)."""

    def __init__(
        self,
        default: StorageTarget | str | None = None,
        *,
        tasks: Mapping[TaskKey, StorageTarget | str] | None = None,
        task_log: TaskLog | object | None = _FROM_ENV,
    ) -> None:
        self._default = default
        self._tasks = dict(tasks or {})
        self._task_log = task_log
        self._fetchers: dict[str, Fetcher] = {}
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:  # targets hold keys: name only what is safe
        return f"ImageSource(tasks={len(self._tasks)}, default={self._default is not None})"

    def target_spec(self, record: SnapshotRecord) -> StorageTarget | str:
        """The target `record`'s image is read from; `ConfigurationError` when none is known."""
        key = (record.app_id or "", record.room_id or "", record.task_id or "")
        if key in self._tasks:
            return self._tasks[key]
        if self._default is not None:
            return self._default
        log = self._log()
        entry = log.lookup(*key) if log is not None else None
        if entry is None:
            raise ConfigurationError(
                f"task {'/'.join(key)}: no storage known to read its images from (it was not started "
                "with `rtcsnap start` on this machine, so the task log has no entry)"
            )
        return entry.storage

    def fetcher(self, record: SnapshotRecord) -> Fetcher:
        """The `Fetcher` of `record`'s target, made on first use; refuses a record of another bucket."""
        spec = self.target_spec(record)
        name = spec if isinstance(spec, str) else spec.url
        with self._lock:
            if self._closed:
                raise RuntimeError("ImageSource is closed")
            fetcher = self._fetchers.get(name)
            if fetcher is None:
                fetcher = self._open(spec)
                self._fetchers[name] = fetcher
        if record.bucket and fetcher.target.bucket and fetcher.target.bucket != record.bucket:
            raise ConfigurationError(
                f"event {record.event_id}: the image is in bucket {record.bucket!r}, but the storage "
                f"known for task {record.app_id}/{record.room_id}/{record.task_id} is bucket "
                f"{fetcher.target.bucket!r}"
            )
        return fetcher

    def fetch(self, record: SnapshotRecord) -> Fetched:
        """The verified bytes of `record`'s image (`StorageError` as `rtcsnap.storage.fetch` raises).
        The key is the one a download uses (`manifest.record_key`: a veImageX URI's key part)."""
        from rtcsnap.callbacks.manifest import record_key

        key = record_key({"object_key": record.object_key, "veimagex_uri": record.veimagex_uri})
        if not key:
            raise ValueError(f"event {record.event_id}: the callback names no object key")
        return self.fetcher(record).fetch(key)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            fetchers, self._fetchers = list(self._fetchers.values()), {}
        for fetcher in fetchers:
            fetcher.close()

    def __enter__(self) -> ImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _log(self) -> TaskLog | None:
        if self._task_log is _FROM_ENV:
            from rtcsnap.tasklog import TaskLog

            return TaskLog.default()
        return self._task_log  # type: ignore[return-value]

    @staticmethod
    def _open(spec: StorageTarget | str) -> Fetcher:
        from rtcsnap.storage import Fetcher

        if isinstance(spec, str):
            from rtcsnap.profiles import resolve_target

            return Fetcher(resolve_target(spec, "read"))
        return Fetcher(spec)


__all__ = ["ImageSource", "TaskKey"]
