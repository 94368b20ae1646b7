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


def test_clients_have_explicit_documented_signatures() -> None:
    import inspect

    import pytest
    from rtcsnap import AsyncSnapshotClient, SnapshotClient, StorageTarget

    for cls in (SnapshotClient, AsyncSnapshotClient):
        params = inspect.signature(cls).parameters
        assert {"access_key", "secret_key", "endpoint", "api_version", "transport", "task_log"} <= set(params)
        assert all(p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params.values())
        for name in ("start", "update", "stop", "get_task"):
            assert inspect.getdoc(getattr(cls, name)), f"{cls.__name__}.{name} has no docstring"
    assert inspect.getdoc(StorageTarget.parse)
    with pytest.raises(TypeError, match="endpont"):
        SnapshotClient("AKLTx", "secret-for-a-typo-test", endpont="cn")  # type: ignore[call-arg]


def test_task_status_prints_its_name_and_stays_an_integer_on_the_wire() -> None:
    import json

    from rtcsnap.models.types import TaskStatus

    assert str(TaskStatus.RUNNING) == "RUNNING" and f"{TaskStatus.STOPPED}" == "STOPPED"
    assert f"{TaskStatus.RUNNING:d}" == "2" and json.dumps({"s": TaskStatus.RUNNING}) == '{"s": 2}'
