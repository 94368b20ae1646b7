"""Issue 11 §4: what a new user reaches for is importable from `rtcsnap` itself, and every name
`__all__` promises resolves (lazily, so a plain `import rtcsnap` stays light)."""

from __future__ import annotations

import rtcsnap


def test_the_request_models_and_resolve_are_top_level() -> None:
    from rtcsnap import ApiVersion, StartSnapshotRequest, TaskLog, resolve
    from rtcsnap.models import StartSnapshotRequest as FromModels
    from rtcsnap.storage import resolve as from_storage
    from rtcsnap.tasklog import TaskLog as FromTaskLog

    assert StartSnapshotRequest is FromModels and resolve is from_storage and TaskLog is FromTaskLog
    assert ApiVersion("2023-11-01").value == "2023-11-01"


def test_every_promised_name_resolves() -> None:
    missing = [name for name in rtcsnap.__all__ if getattr(rtcsnap, name, None) is None]
    assert missing == []
