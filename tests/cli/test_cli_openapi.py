"""`rtcsnap start|update|stop|status` and `rtcsnap emulator serve`, run as a user would (subprocesses)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from rtcsnap.emulator import Emulator, EmulatorServer
from rtcsnap.testing import new_bucket_name

from tests.conftest import run_cli

STORAGE_SECRET = "storage-Secret-0123456789abcdef"
IDS = ["--app-id", "app1", "--room-id", "room1", "--task-id", "task1"]


@pytest.fixture
def env(emulator: Emulator, emulator_server: EmulatorServer, tmp_path: Path) -> dict[str, str]:
    ak, sk = next(iter(emulator.config.keys.items()))
    return {
        "VOLC_ACCESSKEY": ak,
        "VOLC_SECRETKEY": sk,
        "RTCSNAP_ENDPOINT": emulator_server.url,
        "RTCSNAP_ACCESS_KEY": "AKIASTORAGEKEY",
        "RTCSNAP_SECRET_KEY": STORAGE_SECRET,
        "HOME": str(tmp_path),
    }


def storage() -> list[str]:
    return ["--storage", "s3://snaps-bucket/rtc?region=us-east-1"]


def clean(r: subprocess.CompletedProcess[str], *secrets: str) -> None:
    for s in secrets:
        assert s not in r.stdout and s not in r.stderr


def test_full_lifecycle(env: dict[str, str], emulator: Emulator) -> None:
    secrets = (env["VOLC_SECRETKEY"], STORAGE_SECRET)
    r = run_cli(
        "start", *IDS, "--stream", "alice", "--stream", "bob:screen", "--interval", "5", *storage(), env=env
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("started: app1/room1/task1") and "RequestId=" in r.stdout
    again = run_cli(
        "start", *IDS, "--stream", "alice", "--stream", "bob:screen", "--interval", "5", *storage(), env=env
    )
    assert again.returncode == 0 and again.stdout.startswith("already_started")
    assert "differs" not in again.stderr  # the same config (defaults left out): nothing to say
    other = run_cli("start", *IDS, *storage(), "--interval", "7", "--api-version", "2023-11-01", env=env)
    assert other.returncode == 0 and other.stdout.startswith("already_started")
    assert (
        "warning: the running task differs" in other.stderr
        and "ImageConfig.Interval: running 5, asked 7" in (other.stderr)
    )
    st = run_cli("status", *IDS, "--json", env=env)
    wire = json.loads(st.stdout)
    assert wire["Status"] == 2 and wire["ImageConfig"]["Interval"] == 5
    assert wire["TargetStreams"]["StreamList"][1] == {"UserId": "bob", "StreamType": 1}
    assert wire["StorageConfig"]["CustomConfig"]["SecretKey"] != STORAGE_SECRET
    up = run_cli("update", *IDS, "--interval", "9", env=env)
    assert up.returncode == 0 and "interval=9s" in up.stdout
    stop = run_cli("stop", *IDS, env=env)
    assert stop.returncode == 0 and stop.stdout.startswith("stopped:")
    st2 = run_cli("status", *IDS, env=env)
    assert "stopped (StopByAPI)" in st2.stdout
    # times as ISO 8601 UTC (issue 11 §2), the same instants --json gives in epoch ms
    started = datetime.fromtimestamp(wire["StartTime"] / 1000, UTC).isoformat(timespec="milliseconds")
    assert f"started {started.replace('+00:00', 'Z')}, ended 20" in st2.stdout and " ms," not in st2.stdout
    for res in (r, again, other, st, up, stop, st2):
        clean(res, *secrets)
    # two GetSnapshotTask calls compared the running task (one per already_started), two statuses
    assert emulator.faults.count("GetSnapshotTask", "OK") == 4
    assert emulator.faults.count("StartSnapshot") == 3


def test_dry_run_prints_the_signed_request_and_sends_nothing(env: dict[str, str], emulator: Emulator) -> None:
    r = run_cli("start", *IDS, *storage(), "--dry-run", env=env)
    assert r.returncode == 0, r.stderr
    head, _, body = r.stdout.partition("\n\n")
    lines = head.splitlines()
    assert lines[0] == f"POST {env['RTCSNAP_ENDPOINT']}/?Action=StartSnapshot&Version=2022-06-01"
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert headers["Content-Type"] == "application/json"
    assert headers["Authorization"].startswith(f"HMAC-SHA256 Credential={env['VOLC_ACCESSKEY']}/")
    assert json.loads(body)["StorageConfig"]["CustomConfig"]["SecretKey"] == "******"
    clean(r, env["VOLC_SECRETKEY"], STORAGE_SECRET)
    assert sum(emulator.faults.requests.values()) == 0
    g = run_cli("status", *IDS, "--dry-run", env=env)
    assert g.stdout.splitlines()[0].startswith("GET ") and "AppId=app1" in g.stdout


def test_dry_run_json_is_the_signed_request_as_one_object(env: dict[str, str], emulator: Emulator) -> None:
    r = run_cli("start", *IDS, *storage(), "--business-id", "biz1", "--dry-run", "--json", env=env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["dry_run"] is True and doc["method"] == "POST"
    assert doc["url"] == f"{env['RTCSNAP_ENDPOINT']}/?Action=StartSnapshot&Version=2022-06-01"
    assert doc["headers"]["Authorization"].startswith(f"HMAC-SHA256 Credential={env['VOLC_ACCESSKEY']}/")
    assert doc["body"]["BusinessId"] == "biz1"
    assert doc["body"]["StorageConfig"]["CustomConfig"]["SecretKey"] == "******"
    clean(r, env["VOLC_SECRETKEY"], STORAGE_SECRET)
    g = json.loads(run_cli("status", *IDS, "--dry-run", "--json", env=env).stdout)
    assert g["method"] == "GET" and "AppId=app1" in g["url"] and g["body"] is None
    assert sum(emulator.faults.requests.values()) == 0


def test_remote_failure_exit_1_with_request_id(env: dict[str, str]) -> None:
    r = run_cli("stop", *IDS, env=env)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1
    assert "InvalidParameter.ErrorActiveTaskNotFound" in r.stderr and "RequestId=" in r.stderr


def test_wrong_secret_exit_1(env: dict[str, str]) -> None:
    r = run_cli("status", *IDS, env={**env, "VOLC_SECRETKEY": "wrong-secret-value"})
    assert r.returncode == 1 and "SignatureDoesNotMatch (100010)" in r.stderr and "RequestId=" in r.stderr
    clean(r, "wrong-secret-value")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["start", *IDS, "--interval", "0", *storage()], "ImageConfig.Interval"),
        (["start", *IDS, "--stream", "bob:2", *storage()], "--stream[0]"),
        (["start", "--app-id", "a b", "--room-id", "r", "--task-id", "t", *storage()], "AppId"),
        (["start", *IDS, "--storage", "s3://b?region=eu-central-1"], "Region"),
        (["update", *IDS], "--interval"),
        (["status", *IDS, "--api-version", "2099-01-01"], "--api-version"),
    ],
)
def test_validation_errors_exit_2_and_send_nothing(
    env: dict[str, str], emulator: Emulator, args: list[str], needle: str
) -> None:
    r = run_cli(*args, env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and needle in r.stderr and "Traceback" not in r.stderr
    assert sum(emulator.faults.requests.values()) == 0


def test_missing_credentials_exit_2(env: dict[str, str]) -> None:
    e = {k: v for k, v in env.items() if not k.startswith("VOLC_")}
    r = subprocess.run(
        [str(Path(sys.executable).with_name("rtcsnap")), "status", *IDS],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("VOLC_")} | e,
    )
    assert r.returncode == 2 and "VOLC_ACCESSKEY" in r.stderr


def test_volc_credentials_file_is_read(env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / ".volc").mkdir()
    (tmp_path / ".volc" / "credentials").write_text(
        f"[default]\naccess_key_id = {env['VOLC_ACCESSKEY']}\nsecret_access_key = {env['VOLC_SECRETKEY']}\n"
    )
    e = {k: v for k, v in env.items() if not k.startswith("VOLC_")}
    r = subprocess.run(
        [str(Path(sys.executable).with_name("rtcsnap")), "start", *IDS, *storage()],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("VOLC_")} | e,
    )
    assert r.returncode == 0, r.stderr


def test_verify_storage_fails_fast_before_sending(
    env: dict[str, str], emulator: Emulator, local_s3: Any
) -> None:
    bucket = new_bucket_name("rtc")
    local_s3.create_bucket(bucket)
    writer = local_s3.create_user(
        f"w-{bucket}",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
        },
    )
    target = [
        "--storage",
        f"s3://{bucket}/rtc?region=us-east-1&endpoint={local_s3.endpoint}",
        "--verify-storage",
    ]
    good = {**env, "RTCSNAP_ACCESS_KEY": writer[0], "RTCSNAP_SECRET_KEY": writer[1]}
    ok = run_cli("start", *IDS, *target, env=good)
    assert ok.returncode == 0, ok.stderr
    bad = run_cli(
        "start", *IDS[:4], "--task-id", "task2", *target, env={**good, "RTCSNAP_SECRET_KEY": "nope-nope"}
    )
    assert bad.returncode == 1 and "bad_secret" in bad.stderr and "StartSnapshot not sent" in bad.stderr
    assert emulator.faults.requests["StartSnapshot"] == 1


def test_start_warns_once_that_the_prefix_is_not_sent(env: dict[str, str], emulator: Emulator) -> None:
    r = run_cli("start", *IDS, *storage(), env=env)
    assert r.returncode == 0, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert (
        line.startswith("warning: prefix 'rtc' is not sent") and "StorageConfig has no prefix field" in line
    )
    assert "bucket root" in line and "ls/download" in line
    bare = run_cli(
        "start", *IDS[:4], "--task-id", "task2", "--storage", "s3://snaps-bucket?region=us-east-1", env=env
    )
    assert bare.returncode == 0 and bare.stderr == ""
    dry = run_cli("start", *IDS, *storage(), "--dry-run", env=env)
    assert "warning: prefix 'rtc'" in dry.stderr and '"Prefix"' not in dry.stdout
    bad = run_cli("start", *IDS, "--interval", "0", *storage(), env=env)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, "a usage error stays one line"
    assert emulator.faults.count("StartSnapshot", "OK") == 2


def test_verify_storage_failure_names_the_target_tried_and_why(
    env: dict[str, str], emulator: Emulator
) -> None:
    url = f"s3://snaps-bucket/rtc?region=us-east-1&endpoint=http://127.0.0.1:{free_port()}"
    r = run_cli("start", *IDS, "--storage", url, "--verify-storage", env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    (error_line,) = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert url in error_line and "network" in error_line and "StartSnapshot not sent" in error_line
    clean(r, env["VOLC_SECRETKEY"], STORAGE_SECRET)
    assert emulator.faults.requests["StartSnapshot"] == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_emulator_serve_command(tmp_path: Path) -> None:
    port = free_port()
    exe = str(Path(sys.executable).with_name("rtcsnap"))
    base = {k: v for k, v in os.environ.items() if not k.startswith(("VOLC_", "RTCSNAP_"))}
    proc = subprocess.Popen(
        [
            exe,
            "emulator",
            "serve",
            "--port",
            str(port),
            "--access-key",
            "AKLTcli",
            "--secret-key",
            "cli-secret",
            "--quiet",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=base,
    )
    try:
        assert proc.stderr is not None
        banner = next(line for line in proc.stderr if line.startswith("rtcsnap emulator on"))
        assert f"http://127.0.0.1:{port}" in banner and "cli-secret" not in banner
        url = f"http://127.0.0.1:{port}"
        for _ in range(200):  # wait on state: the port accepts connections
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.TransportError:
                continue
        env = {
            **base,
            "VOLC_ACCESSKEY": "AKLTcli",
            "VOLC_SECRETKEY": "cli-secret",
            "RTCSNAP_ACCESS_KEY": "a",
            "RTCSNAP_SECRET_KEY": STORAGE_SECRET,
            "HOME": str(tmp_path),
        }
        r = subprocess.run(
            [exe, "start", *IDS, *storage(), "--endpoint", url], capture_output=True, text=True, env=env
        )
        assert r.returncode == 0 and r.stdout.startswith("started:"), r.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_start_update_stop_json_share_one_schema(env: dict[str, str], emulator: Emulator) -> None:
    ids = ["--app-id", "app1", "--room-id", "room1", "--task-id", "json1"]
    keys = {"outcome", "app_id", "room_id", "task_id", "business_id", "request_id", "action", "version"}
    keys.add("attempts")
    start = run_cli("start", *ids, *storage(), "--business-id", "biz7", "--json", env=env)
    again = run_cli("start", *ids, *storage(), "--interval", "9", "--json", env=env)
    update = run_cli("update", *ids, "--interval", "7", "--json", env=env)
    stop = run_cli("stop", *ids, "--json", env=env)
    docs = [json.loads(r.stdout) for r in (start, again, update, stop)]
    assert all(keys <= set(d) for d in docs), docs
    assert [d["outcome"] for d in docs] == ["started", "already_started", "updated", "stopped"]
    assert [d["action"] for d in docs] == ["StartSnapshot", "StartSnapshot", "UpdateSnapshot", "StopSnapshot"]
    assert docs[0]["differences"] == [] and any("Interval" in d for d in docs[1]["differences"])
    assert docs[2]["interval"] == 7 and all(d["task_id"] == "json1" for d in docs)
    assert [d["business_id"] for d in docs] == ["biz7", None, None, None]
    assert all(r.returncode == 0 and r.stdout.count("\n") == 1 for r in (start, again, update, stop))
