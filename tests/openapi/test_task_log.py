"""The local task log (`rtcsnap.tasklog`): `start(storage=…)` records the target it started the task
with — without credentials — so `snapshots manifest|download` can find it; the log never fails a
start, and it can be turned off or pointed elsewhere."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest
from rtcsnap import StorageTarget
from rtcsnap.openapi.client import SnapshotClient
from rtcsnap.tasklog import TaskLog

from tests.conftest import run_cli
from tests.openapi.conftest import BODY, MakeClient

SECRET = "storage-secret-1f9e8d7c"
URL = "s3://snaps/rtc?region=us-east-1&endpoint=http://127.0.0.1:9"


def target() -> StorageTarget:
    return StorageTarget.parse(URL, access_key="AKIASTORAGE", secret_key=SECRET)


def ids(task: str) -> dict[str, Any]:
    return {"app_id": "app1", "room_id": "room1", "task_id": task}


def test_start_with_storage_records_the_target_without_credentials(
    client: SnapshotClient, task_log_path: Path
) -> None:
    first = client.start(storage=target(), **ids("t1"))
    again = client.start(storage=target(), **ids("t1"))  # a retry: already started, logged again
    assert (first.outcome, again.outcome) == ("started", "already_started")
    log = TaskLog(task_log_path)
    entry = log.lookup("app1", "room1", "t1")
    assert entry is not None and entry.storage == target().url and entry.endpoint == client.endpoint
    assert entry.request_id == again.request_id  # the latest line wins
    text = task_log_path.read_text()
    assert SECRET not in text and "AKIASTORAGE" not in text
    assert stat.S_IMODE(task_log_path.stat().st_mode) == 0o600
    assert log.lookup("app1", "room1", "other") is None


def test_a_start_with_a_storage_config_only_records_nothing(
    client: SnapshotClient, task_log_path: Path
) -> None:
    client.start(**BODY)
    assert not task_log_path.exists()


def test_task_log_none_or_off_records_nothing(
    make_client: MakeClient, task_log_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client(task_log=None).start(storage=target(), **ids("t2"))
    monkeypatch.setenv("RTCSNAP_TASK_LOG", "off")
    off = make_client()
    assert off.task_log is None
    off.start(storage=target(), **ids("t3"))
    assert not task_log_path.exists()


def test_an_unwritable_log_is_a_warning_not_a_failed_start(
    make_client: MakeClient, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    client = make_client(task_log=TaskLog(blocker / "tasks.jsonl"))  # its parent is a file
    with caplog.at_level(logging.WARNING, logger="rtcsnap.openapi.client"):
        assert client.start(storage=target(), **ids("t4")).outcome == "started"
    assert any("task log" in r.getMessage() for r in caplog.records)


def test_torn_and_foreign_lines_are_skipped(tmp_path: Path) -> None:
    log = TaskLog(tmp_path / "t.jsonl")
    log.record(app_id="a", room_id="r", task_id="t", storage="s3://one/", endpoint="e", request_id="1")
    with log.path.open("a") as f:
        f.write('{"app_id": "a", "room_id": "r"\n')  # torn
        f.write(json.dumps({"something": "else"}) + "\n")
        f.write("not json\n")
    entry = log.lookup("a", "r", "t")
    assert entry is not None and entry.storage == "s3://one/"
    log.record(app_id="a", room_id="r", task_id="t", storage="s3://two/", endpoint="e", request_id="2")
    assert (log.lookup("a", "r", "t") or entry).storage == "s3://two/"


def test_default_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RTCSNAP_TASK_LOG")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert TaskLog.default_path() == tmp_path / "state" / "rtcsnap" / "tasks.jsonl"
    monkeypatch.setenv("RTCSNAP_TASK_LOG", "OFF")
    assert TaskLog.default() is None


def test_cli_without_storage_and_without_a_log_entry_is_one_line_exit_2(tmp_path: Path) -> None:
    for command in (["manifest"], ["download", str(tmp_path / "dest")]):
        r = run_cli(
            "snapshots",
            *command[:1],
            "--db",
            str(tmp_path / "i.db"),
            "--task",
            "app1/room1/nope",
            *command[1:],
        )
        assert r.returncode == 2, r.stderr
        assert "--storage is required" in r.stderr and "app1/room1/nope" in r.stderr
        assert "Traceback" not in r.stderr and not (tmp_path / "dest").exists()
