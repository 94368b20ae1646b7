"""`rtcsnap emulator serve` with rooms, a storage endpoint and callbacks, run as a user would: the
ready line on stdout, `rtcsnap start` through it, images in the bucket, signed callbacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from rtcsnap.protocol import callback_signature
from rtcsnap.storage import iter_objects
from rtcsnap.target import StorageTarget
from rtcsnap.testing.callback_recorder import CallbackRecorder
from rtcsnap.testing.service import StoragePool, fresh_bucket

from tests.conftest import run_cli

EXE = str(Path(sys.executable).with_name("rtcsnap"))
ROOMS = """
[[room]]
app_id = "app1"
room_id = "room1"

[[room.user]]
user_id = "alice"
streams = [{ type = 0, width = 640, height = 360 }]
"""


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("VOLC_", "RTCSNAP_"))}


def test_serve_port_0_json_rooms_storage_and_callbacks(storage_pool: StoragePool, tmp_path: Path) -> None:
    s3 = storage_pool.get("s3")
    bucket = fresh_bucket(s3)
    (tmp_path / "rooms.toml").write_text(ROOMS)
    secret = "cb-Secret-9f8e7d6c5b4a"
    with CallbackRecorder() as recorder:
        proc = subprocess.Popen(
            [
                EXE,
                "emulator",
                "serve",
                "--port",
                "0",
                "--json",
                "--quiet",
                "--rooms",
                str(tmp_path / "rooms.toml"),
                "--storage-endpoint",
                f"s3={s3.endpoint}",
                "--backup-dir",
                str(tmp_path / "backup"),
                "--callback-url",
                recorder.url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={
                **base_env(),
                "RTCSNAP_EMULATOR_KEYS": "AKLTcli:cli-secret",
                "RTCSNAP_CALLBACK_SECRET": secret,
            },
        )
        try:
            assert proc.stdout is not None
            ready = json.loads(proc.stdout.readline())  # printed once it accepts requests
            assert ready["pid"] == proc.pid and not ready["endpoint"].endswith(":0")
            url = ready["endpoint"]
            listed = run_cli("emulator", "room", "list", "app1", "room1", "--json", "--endpoint", url)
            assert listed.returncode == 0, listed.stderr
            assert [s["user_id"] for s in json.loads(listed.stdout)["streams"]] == ["alice"]
            ak, sk = s3.write_only
            env = {
                **base_env(),
                "VOLC_ACCESSKEY": "AKLTcli",
                "VOLC_SECRETKEY": "cli-secret",
                "RTCSNAP_ACCESS_KEY": ak,
                "RTCSNAP_SECRET_KEY": sk,
                "HOME": str(tmp_path),
            }
            target = s3.target(bucket)
            ids = ["--app-id", "app1", "--room-id", "room1", "--task-id", "t1"]
            r = run_cli("start", *ids, "--storage", target, "--interval", "1", "--endpoint", url, env=env)
            assert r.returncode == 0, r.stderr
            assert recorder.wait_for(2, timeout=30)
            run_cli("stop", *ids, "--endpoint", url, env=env)
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=30)
        assert proc.returncode in (0, -15), err
        assert secret not in err and "cli-secret" not in err
    bodies = recorder.bodies()
    assert all(callback_signature.verify(b, secret) for b in bodies)
    keys = {json.loads(b["EventData"])["Data"][0]["ObjectKey"] for b in bodies}
    admin = StorageTarget.parse(target, access_key=s3.admin[0], secret_key=s3.admin[1])
    assert keys <= {o.key for o in iter_objects(admin)}


def test_serve_on_a_taken_port_is_one_line_exit_2() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = run_cli(
            "emulator", "serve", "--port", str(port), env={**base_env(), "RTCSNAP_EMULATOR_KEYS": "AK:sk-x"}
        )
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and f"--port {port}: cannot listen" in r.stderr


def test_serve_refuses_callbacks_without_a_secret_and_bad_storage_kinds() -> None:
    env = {**base_env(), "RTCSNAP_EMULATOR_KEYS": "AK:sk-x"}
    r = run_cli("emulator", "serve", "--port", "0", "--callback-url", "http://127.0.0.1:9/cb", env=env)
    assert r.returncode == 2 and "--callback-secret" in r.stderr
    r = run_cli("emulator", "serve", "--port", "0", "--storage-endpoint", "nas=http://127.0.0.1:9", env=env)
    assert r.returncode == 2 and "unknown KIND 'nas'" in r.stderr
    r = run_cli("emulator", "serve", "--port", "0", "--object-key-template", "{AppId}.jpg", env=env)
    assert r.returncode == 2 and "{TimeStamp}" in r.stderr
    cb = ["--callback-url", "http://127.0.0.1:9/cb", "--callback-secret", "s-1234"]
    r = run_cli("emulator", "serve", "--port", "0", *cb, "--callback-chaos", "duplicate=2", env=env)
    assert r.returncode == 2 and "--callback-chaos" in r.stderr and "duplicate" in r.stderr
