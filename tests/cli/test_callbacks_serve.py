"""`rtcsnap callbacks serve` run as a user would: the ready line, signed callbacks posted to it,
stored in the index; a taken port; and the durability promise under SIGKILL: every event that
got a 200 is in the index after a restart."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import httpx
from rtcsnap.callbacks.index import SnapshotIndex
from rtcsnap.protocol import callback_signature as cbsig
from rtcsnap.testing.secret_scan import assert_no_secret

from tests.conftest import run_cli

EXE = str(Path(sys.executable).with_name("rtcsnap"))
SECRET = "cli-cb-secret-4d5e6f7a8b"


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("VOLC_", "RTCSNAP_"))}


@contextmanager
def receiver(db: Path, log: IO[str], *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """The CLI serving `db`; yields the process and the callback endpoint from its ready line."""
    proc = subprocess.Popen(
        [EXE, "callbacks", "serve", "--db", str(db), "--port", "0", "--json", "--quiet", *args],
        stdout=subprocess.PIPE,
        stderr=log,  # a file: a full pipe would stall the server mid-burst
        text=True,
        env={**base_env(), "RTCSNAP_CALLBACK_SECRET": SECRET},
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline())  # printed once it accepts requests
        assert ready["pid"] == proc.pid
        yield proc, ready["endpoint"]
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)


def event(n: int) -> bytes:
    data = cbsig.snapshot_event_data(
        app_id="app1",
        business_id=None,
        room_id="room1",
        task_id="t1",
        bucket="snaps",
        images=[
            cbsig.ImageRecord(
                user_id="alice",
                stream_type=0,
                object_key=f"app1/room1/t1/alice/{n}.jpg",
                format=0,
                width=640,
                height=360,
                size=2048,
                timestamp_ms=1_700_000_000_000 + n,
            )
        ],
    )
    env = cbsig.envelope(
        cbsig.EVENT_SNAPSHOT, data, app_id="app1", version="2022-06-01", secret=SECRET, event_id=f"evt-{n}"
    )
    return json.dumps(env).encode()


def test_serve_port_0_json_stores_posted_events_and_exits_0_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "index.db"  # a bare path: SQLite
    with open(tmp_path / "stderr.log", "w+") as log, receiver(db, log, "--path", "/rtc") as (proc, url):
        assert url.endswith("/rtc") and not url.endswith(":0/rtc")
        for n in range(5):
            r = httpx.post(url, content=event(n), timeout=10)
            assert r.status_code == 200 and r.json() == {"ok": True, "duplicate": False}
        assert httpx.post(url, content=event(0), timeout=10).json()["duplicate"] is True
        assert (
            httpx.post(url, content=event(9).replace(b'"app1"', b'"app2"', 1), timeout=10).status_code == 401
        )
        metrics = httpx.get(url + "/metrics", timeout=10).json()
        assert (metrics["accepted"], metrics["duplicates"], metrics["bad_signature"]) == (5, 1, 1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        log.seek(0)
        err = log.read()
    assert "rtcsnap callbacks receiver on " in err and "Traceback" not in err
    assert_no_secret(err, where="the receiver's stderr")
    index = SnapshotIndex(str(db))
    try:
        assert index.count() == (5, 5)
        assert all(index.event(f"evt-{n}") is not None for n in range(5))
    finally:
        index.close()


def test_serve_on_a_taken_port_is_one_line_exit_2(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        env = {**base_env(), "RTCSNAP_CALLBACK_SECRET": SECRET}
        r = run_cli("callbacks", "serve", "--db", str(tmp_path / "i.db"), "--port", str(port), env=env)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and f"--port {port}: cannot listen" in r.stderr


def test_serve_without_a_secret_is_a_usage_error(tmp_path: Path) -> None:
    r = run_cli("callbacks", "serve", "--db", str(tmp_path / "i.db"), env=base_env())
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert "RTCSNAP_CALLBACK_SECRET" in r.stderr and "Traceback" not in r.stderr


def test_sigkill_mid_burst_loses_no_acknowledged_event(tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()
    numbers = itertools.count()

    def burst(url: str) -> None:
        with httpx.Client(timeout=10) as client:
            while True:
                n = next(numbers)
                try:
                    r = client.post(url, content=event(n))
                except httpx.HTTPError:
                    return  # the receiver is gone
                if r.status_code == 200:
                    with lock:
                        acknowledged.append(f"evt-{n}")
                        if len(acknowledged) >= 300:
                            enough.set()

    with open(tmp_path / "stderr.log", "w") as log:
        with receiver(db, log) as (proc, url):
            threads = [threading.Thread(target=burst, args=(url,)) for _ in range(8)]
            for thread in threads:
                thread.start()
            assert enough.wait(60), "the burst never got 300 acknowledgements"
            proc.kill()  # SIGKILL: no drain, no close, commits possibly in flight
            for thread in threads:
                thread.join(30)
            assert proc.wait(30) == -signal.SIGKILL
        assert len(acknowledged) >= 300
        with receiver(db, log) as (proc, url):  # the restart opens the crashed database
            again = httpx.post(url, content=event(int(acknowledged[0].split("-")[1])), timeout=10)
            assert again.json() == {"ok": True, "duplicate": True}
            proc.send_signal(signal.SIGINT)
            assert proc.wait(30) == 0
    index = SnapshotIndex(str(db))
    try:
        missing = [event_id for event_id in acknowledged if index.event(event_id) is None]
        assert missing == []
        assert index.count()[0] >= len(acknowledged)
    finally:
        index.close()
