"""Issue 11 §4: what a new user reaches for is importable from `rtcsnap` itself, and every name
`__all__` promises resolves (lazily, so a plain `import rtcsnap` stays light)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def test_request_keywords_are_the_models_fields() -> None:
    """The clients' typed ``**fields`` list exactly the fields each request model has."""
    from rtcsnap.models import (
        GetSnapshotTaskRequest,
        StartSnapshotRequest,
        StopSnapshotRequest,
        UpdateSnapshotRequest,
    )
    from rtcsnap.models.fields import GetTaskFields, StartFields, TaskFields, UpdateFields
    from rtcsnap.models.requests import RequestModel

    pairs: list[tuple[type, type[RequestModel]]] = [
        (StartFields, StartSnapshotRequest),
        (UpdateFields, UpdateSnapshotRequest),
        (TaskFields, StopSnapshotRequest),
        (GetTaskFields, GetSnapshotTaskRequest),
    ]
    for fields, model in pairs:
        keys = fields.__required_keys__ | fields.__optional_keys__  # type: ignore[attr-defined]
        assert keys == set(model.model_fields) - {"api_version"}, model.__name__


def test_mypy_catches_a_misspelt_option_or_field(tmp_path: Path) -> None:
    """What a user's type checker says about typos in calls to the client (mypy --strict)."""
    snippet = tmp_path / "user_code.py"
    snippet.write_text(
        "from rtcsnap import SnapshotClient\n"
        'client = SnapshotClient("AK", "SK", endpont="cn")\n'
        'client.start(app_idd="a", room_id="r", task_id="t", storage="s3://b?region=us-east-1")\n'
        'client.stop(app_id="a", room_id="r", task_id=1)\n'
        'client.update(app_id="a", room_id="r", task_id="t", image_config={"interval": 1})\n'
        'client.get_task(app_id="a", room_id="r", task_id="t")\n'
    )
    mypy = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--follow-imports=silent"]
    r = subprocess.run(
        [*mypy, "--cache-dir", str(tmp_path / "cache"), str(snippet)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    errors = [line for line in r.stdout.splitlines() if ": error:" in line]
    assert [int(line.split(":")[1]) for line in errors] == [2, 3, 4], r.stdout
    assert '"endpont"' in errors[0] and '"app_idd"' in errors[1] and '"task_id"' in errors[2]
