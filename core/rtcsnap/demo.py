"""The offline demo: the whole flow against a local S3 server and the OpenAPI emulator, no network.

``python3 run.py demo`` (or ``python -m rtcsnap.demo demo``). Needs ``rtcsnap[testing]`` for the
local S3 server. Later issues add the capture engine and callbacks.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

from rich.console import Console

from rtcsnap.models import StartSnapshotRequest
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.storage import download, iter_objects, resolve, upload, verify
from rtcsnap.target import StorageTarget

DEMOS = ("demo",)
console = Console(highlight=False)


def run_demo(out_dir: Path, objects: int = 60) -> int:
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
        url = f"s3://rtcsnap-demo/snapshots?region=us-east-1&endpoint={server.endpoint}"
        read_target = StorageTarget.parse(url, access_key=ak, secret_key=sk)
        rtc_target = StorageTarget.parse(url, access_key=rtc_key[0], secret_key=rtc_key[1])
        mgr = ProviderManager.default()

        console.rule("1. the key for RTC: write-only, verified before StartSnapshot")
        rep = verify(rtc_target, manager=mgr)
        for p in rep.probes:
            console.print(f"  {p.capability:<10} {p.status:<8} {p.reason.value if p.reason else ''}")
        console.print(f"  fit for RTC: {rep.fit_for_rtc}   fit for retrieval: {rep.fit_for_retrieval}")

        console.rule("2. StartSnapshot through the signed client, against the local OpenAPI emulator")
        provider, t = resolve(rtc_target, mgr)
        req = StartSnapshotRequest(
            app_id="demo_app",
            room_id="room-1",
            task_id="task-1",
            target_streams=[{"user_id": "alice"}, {"user_id": "bob", "stream_type": 1}],
            image_config={"format": "jpeg", "interval": 2},
            storage_config=provider.storage_config(t),
        )
        console.print(json.dumps(req.to_wire(mask_secrets=True), indent=2))
        api_ok = _openapi_round(req, rtc_target)

        console.rule(f"3. {objects} snapshots land in the bucket (written with the RTC key)")
        for i in range(objects):
            user = ("alice", "bob")[i % 2]
            data = hashlib.sha256(str(i).encode()).digest() * 300
            upload(
                rtc_target,
                rtc_target.key(f"demo_app/room-1/task-1/{user}_{1_700_000_000_000 + i * 2000}.jpg"),
                data,
                manager=mgr,
            )
        listed = sum(1 for _ in iter_objects(read_target, "demo_app/", page_size=25, manager=mgr))
        console.print(f"  listed {listed} objects with the read key (pages of 25)")

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
        ok = api_ok and rep.fit_for_rtc and listed == objects and first.ok and len(again.skipped) == objects
        console.rule("demo ok" if ok else "demo FAILED")
        return 0 if ok else 1


def _openapi_round(req: StartSnapshotRequest, rtc_target: StorageTarget) -> bool:
    """Start (with the storage verified first), retry after a lost response, query, stop."""
    import secrets

    from rtcsnap.emulator import Emulator, EmulatorConfig, EmulatorServer
    from rtcsnap.openapi.client import SnapshotClient

    ak, sk = "AKLTdemo", secrets.token_urlsafe(24)
    emulator = Emulator(EmulatorConfig(keys={ak: sk}))
    with (
        EmulatorServer(emulator) as server,
        SnapshotClient(ak, sk, endpoint=server.url, api_version="2023-11-01") as client,
    ):
        emulator.faults.drop_after_commit("StartSnapshot")  # the first answer is lost on the wire
        started = client.start(req, verify_storage=rtc_target)
        console.print(
            f"  start: {started.outcome} after {started.attempts} attempts (first response lost)  RequestId={started.request_id}"
        )
        client.update(
            app_id=req.app_id, room_id=req.room_id, task_id=req.task_id, image_config={"interval": 5}
        )
        task = client.get_task(app_id=req.app_id, room_id=req.room_id, task_id=req.task_id).task
        assert task is not None and task.image_config is not None
        console.print(f"  status: {task.status.name.lower()}, interval {task.image_config.interval}s")
        stopped = client.stop(app_id=req.app_id, room_id=req.room_id, task_id=req.task_id)
        console.print(f"  stop: {stopped.outcome}")
        return (
            started.outcome == "already_started"
            and task.image_config.interval == 5
            and stopped.outcome == "stopped"
        )


def main(argv: list[str]) -> int:
    name = argv[0] if argv else "demo"
    if name not in DEMOS:
        print(f"usage error: unknown demo {name!r} (available: {', '.join(DEMOS)})", file=sys.stderr)
        return 2
    out = Path(tempfile.mkdtemp(prefix="rtcsnap-demo-"))
    return run_demo(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
