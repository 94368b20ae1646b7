"""The offline demo: the whole flow against a local S3 server and the emulator, no network.

``python3 run.py demo`` (or ``python -m rtcsnap.demo demo``): a write-only key verified for RTC, a
task started through the signed client, the emulator's engine capturing a room of synthetic
publishers into the bucket with signed callbacks, then listing and verified downloads. Needs
``rtcsnap[testing]`` for the local S3 server.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console

from rtcsnap.models import StartSnapshotRequest
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.storage import download, iter_objects, resolve, verify
from rtcsnap.target import StorageTarget

DEMOS = ("demo",)
console = Console(highlight=False)


def run_demo(out_dir: Path) -> int:
    from rtcsnap.testing.s3server import LocalS3Server

    with LocalS3Server() as server:
        ak, sk = server.enable_auth()
        server.create_bucket("rtcsnap-demo")
        rtc_key = server.create_user(
            "rtc-writer",
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
            },
        )
        url = f"s3://rtcsnap-demo?region=us-east-1&endpoint={server.endpoint}"  # RTC writes at the root
        read_target = StorageTarget.parse(url, access_key=ak, secret_key=sk)
        rtc_target = StorageTarget.parse(url, access_key=rtc_key[0], secret_key=rtc_key[1])
        mgr = ProviderManager.default()

        console.rule("1. the key for RTC: write-only, verified before StartSnapshot")
        rep = verify(rtc_target, manager=mgr)
        for p in rep.probes:
            console.print(f"  {p.capability:<10} {p.status:<8} {p.reason.value if p.reason else ''}")
        console.print(f"  fit for RTC: {rep.fit_for_rtc}   fit for retrieval: {rep.fit_for_retrieval}")

        console.rule("2. a task on the emulator: its engine captures the room and writes with the RTC key")
        provider, t = resolve(rtc_target, mgr)
        req = StartSnapshotRequest(
            app_id="demo_app",
            room_id="room-1",
            task_id="task-1",
            image_config={"format": "jpeg", "width": 640, "height": 640, "interval": 1},
            storage_config=provider.storage_config(t),
        )
        console.print(json.dumps(req.to_wire(mask_secrets=True), indent=2))
        api_ok, announced = _run_task(req, rtc_target, server.endpoint)

        console.rule("3. the bucket, listed with the read key, holds exactly what the callbacks announced")
        listed = {o.key for o in iter_objects(read_target, "demo_app/", page_size=25, manager=mgr)}
        console.print(f"  listed {len(listed)} objects (pages of 25); announced {len(announced)}")

        console.rule("4. download: atomic, verified (MD5), resumable")
        first = download(read_target, out_dir, prefix="demo_app/", concurrency=8, manager=mgr)
        again = download(read_target, out_dir, prefix="demo_app/", concurrency=8, manager=mgr)
        console.print(
            f"  first run: downloaded {len(first.downloaded)}, {first.bytes} bytes, failed {len(first.failed)}"
        )
        console.print(
            f"  re-run:    downloaded {len(again.downloaded)}, skipped {len(again.skipped)} (already complete)"
        )
        console.print(f"  files in {out_dir}")
        ok = (
            api_ok
            and rep.fit_for_rtc
            and bool(announced)
            and listed == announced
            and first.ok
            and len(first.downloaded) == len(listed)
            and len(again.skipped) == len(listed)
        )
        console.rule("demo ok" if ok else "demo FAILED")
        return 0 if ok else 1


ROOM = [
    {
        "app_id": "demo_app",
        "room_id": "room-1",
        "user": [
            {"user_id": "alice", "streams": [{"type": 0, "width": 1280, "height": 720}]},
            {
                "user_id": "bob",
                "streams": [
                    {"type": 0, "width": 640, "height": 480},
                    {"type": 1, "width": 1920, "height": 1080},
                ],
            },
        ],
    }
]


def _run_task(
    req: StartSnapshotRequest, rtc_target: StorageTarget, storage_endpoint: str
) -> tuple[bool, set[str]]:
    """Start (storage verified first; the first answer lost on the wire), let the engine capture,
    change the interval, stop; returns (every step as expected, the keys the callbacks announced)."""
    import secrets

    from rtcsnap.emulator import Emulator, EmulatorConfig, EmulatorServer
    from rtcsnap.emulator.callbacks import CallbackSender
    from rtcsnap.emulator.rooms import parse_rooms
    from rtcsnap.emulator.uploads import StorageRouting, Uploader
    from rtcsnap.openapi.client import SnapshotClient
    from rtcsnap.protocol import callback_signature
    from rtcsnap.testing.callback_recorder import CallbackRecorder

    ak, sk = "AKLTdemo", secrets.token_urlsafe(24)
    callback_secret = secrets.token_urlsafe(18)
    ids: dict[str, Any] = {"app_id": req.app_id, "room_id": req.room_id, "task_id": req.task_id}
    with CallbackRecorder() as recorder:
        emulator = Emulator(EmulatorConfig(keys={ak: sk}), rooms=parse_rooms({"room": ROOM}))
        emulator.attach_engine(
            Uploader(StorageRouting(endpoints={"s3": storage_endpoint})),
            callbacks=CallbackSender(recorder.url, callback_secret),
        )
        try:
            with (
                EmulatorServer(emulator) as server,
                SnapshotClient(ak, sk, endpoint=server.url, api_version="2023-11-01") as client,
            ):
                emulator.faults.drop_after_commit("StartSnapshot")  # the first answer is lost on the wire
                started = client.start(req, verify_storage=rtc_target)
                console.print(
                    f"  start: {started.outcome} after {started.attempts} attempts (first response lost)"
                )
                got = recorder.wait_for(3 * 3, timeout=30)  # three streams, three images each
                client.update(**ids, image_config={"interval": 2})
                got = got and recorder.wait_for(3 * 5, timeout=30)
                task = client.get_task(**ids).task
                assert task is not None and task.image_config is not None
                console.print(f"  status: {task.status.name.lower()}, interval {task.image_config.interval}s")
                stopped = client.stop(**ids)
                console.print(f"  stop: {stopped.outcome}")
        finally:
            emulator.close()  # in-flight images finish, their callbacks are delivered
        bodies = recorder.bodies()
    signed = all(callback_signature.verify(b, callback_secret) for b in bodies)
    keys = {item["ObjectKey"] for b in bodies for item in json.loads(b["EventData"])["Data"]}
    console.print(f"  callbacks: {len(bodies)} SnapshotRealTimeData, signatures valid: {signed}")
    ok = (
        got
        and signed
        and started.outcome == "already_started"
        and task.image_config.interval == 2
        and stopped.outcome == "stopped"
    )
    return ok, keys


def main(argv: list[str]) -> int:
    name = argv[0] if argv else "demo"
    if name not in DEMOS:
        print(f"usage error: unknown demo {name!r} (available: {', '.join(DEMOS)})", file=sys.stderr)
        return 2
    out = Path(tempfile.mkdtemp(prefix="rtcsnap-demo-"))
    return run_demo(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
