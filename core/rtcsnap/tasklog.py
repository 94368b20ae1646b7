"""The local task log: which storage target rtcsnap's client started each task with.

Why: a callback names the bucket and key of each image but not the endpoint, region or vendor
options the task was started with, and RTC has no API that returns them. The client knows — it
built the StorageConfig from that target — so it appends one JSON line per started task here,
and `rtcsnap snapshots manifest|download --task A/R/T` can then find the storage without
`--storage`. The target URL is stored as `StorageTarget.url` gives it: never with credentials
(they come from the environment or the provider's chain again, as for any target URL).

Where: ``$RTCSNAP_TASK_LOG`` if set (``off`` disables it), else
``$XDG_STATE_HOME/rtcsnap/tasks.jsonl`` (``~/.local/state/rtcsnap/tasks.jsonl``). Append-only, one
``write`` per line (O_APPEND), mode 0600; the latest line for a task wins; a torn line is skipped.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

log = logging.getLogger(__name__)

ENV = "RTCSNAP_TASK_LOG"
DISABLED = ("off", "none", "0", "false", "no")


@dataclass(frozen=True)
class TaskLogEntry:
    app_id: str
    room_id: str
    task_id: str
    storage: str
    """The storage target URL (no credentials)."""
    endpoint: str
    """The OpenAPI endpoint the task was started on."""
    request_id: str
    started_at: float


class TaskLog:
    """One task-log file. `default()` honours ``RTCSNAP_TASK_LOG``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"TaskLog({str(self.path)!r})"

    @staticmethod
    def default_path() -> Path | None:
        """The configured file, or None when the log is turned off."""
        configured = os.environ.get(ENV)
        if configured is not None:
            if configured.strip().lower() in DISABLED or not configured.strip():
                return None
            return Path(configured).expanduser()
        state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        return Path(state) / "rtcsnap" / "tasks.jsonl"

    @classmethod
    def default(cls) -> TaskLog | None:
        path = cls.default_path()
        return None if path is None else cls(path)

    def record(
        self, *, app_id: str, room_id: str, task_id: str, storage: str, endpoint: str, request_id: str
    ) -> TaskLogEntry:
        entry = TaskLogEntry(app_id, room_id, task_id, storage, endpoint, request_id, time.time())
        line = (json.dumps(asdict(entry), ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)  # one write: concurrent appenders never interleave within a line
        finally:
            os.close(fd)
        return entry

    def lookup(self, app_id: str, room_id: str, task_id: str) -> TaskLogEntry | None:
        """The latest entry for the task, or None (also when there is no log yet)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return None
        found: TaskLogEntry | None = None
        for line in text.splitlines():
            try:
                data = json.loads(line)
                entry = TaskLogEntry(**data)
            except (ValueError, TypeError):
                continue  # a torn or foreign line: the others still count
            if (entry.app_id, entry.room_id, entry.task_id) == (app_id, room_id, task_id):
                found = entry
        return found


__all__ = ["DISABLED", "ENV", "TaskLog", "TaskLogEntry"]
