"""The acceptance run: a download through every fault the network can throw, SIGKILLed midway,
then re-run — every final file byte-identical to the server's, every key accounted for, and no
object that carries a checksum left unverified."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rtcsnap.storage.destination import RESERVED, TMP
from rtcsnap.testing import new_bucket_name

from tests.conftest import run_cli

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef
    from rtcsnap.testing.s3server import LocalS3Server

PART = 5 * 1024 * 1024
N_SMALL = 120


def body(seed: str, size: int) -> bytes:
    block = hashlib.sha256(seed.encode()).digest()
    return (block * (size // len(block) + 1))[:size]


def seed(local_s3: LocalS3Server, bucket: str) -> dict[str, bytes]:
    s3 = local_s3.s3(request_checksum_calculation="when_required")
    crc = local_s3.s3(request_checksum_calculation="when_supported")
    objects: dict[str, bytes] = {}
    for i in range(N_SMALL):
        key, data = f"room/{i:03d}.jpg", body(str(i), 20_000 + i)
        (crc if i % 3 == 0 else s3).put_object(Bucket=bucket, Key=key, Body=data)  # some with a stored CRC32
        objects[key] = data
    for name in ("00mp-a", "00mp-b"):  # listed early, so their faults fire before the kill
        data = body(name, 2 * PART + 4321)
        up = s3.create_multipart_upload(Bucket=bucket, Key=f"room/{name}.jpg")
        parts: list[CompletedPartTypeDef] = []
        for n, start in enumerate(range(0, len(data), PART), start=1):
            r = s3.upload_part(
                Bucket=bucket,
                Key=f"room/{name}.jpg",
                UploadId=up["UploadId"],
                PartNumber=n,
                Body=data[start : start + PART],
            )
            parts.append({"PartNumber": n, "ETag": r["ETag"]})
        s3.complete_multipart_upload(
            Bucket=bucket, Key=f"room/{name}.jpg", UploadId=up["UploadId"], MultipartUpload={"Parts": parts}
        )
        objects[f"room/{name}.jpg"] = data
    return objects


def test_faults_then_sigkill_then_rerun_ends_byte_identical(local_s3: LocalS3Server, tmp_path: Path) -> None:
    bucket = local_s3.create_bucket(new_bucket_name("acc"))
    objects = seed(local_s3, bucket)
    ak, sk = local_s3.admin_credentials
    env = {
        "RTCSNAP_ACCESS_KEY": ak,
        "RTCSNAP_SECRET_KEY": sk,
        "HOME": "/nonexistent",
        "AWS_CONFIG_FILE": "/dev/null",
    }
    target = f"s3://{bucket}?region=us-east-1&endpoint={local_s3.endpoint}"
    dest = tmp_path / "evidence"
    f = local_s3.faults
    f.clear()  # request counts start here (earlier tests fetched keys of the same names)
    f.fail("GET", "room/005.jpg", status=503, times=2)
    f.fail("GET", "room/006.jpg", status=500, code="InternalError", times=1)
    f.reset("GET", "room/007.jpg", times=2)
    f.truncate("room/008.jpg", times=2)
    f.corrupt("room/009.jpg", times=1)  # stored CRC32 (i % 3 == 0)
    f.corrupt("room/010.jpg", times=2)  # MD5 ETag
    f.corrupt("00mp-a.jpg", times=1)  # multipart composite ETag
    f.truncate("00mp-b.jpg", times=1)
    faulted = {"005": 3, "006": 2, "007": 3, "008": 3, "009": 2, "010": 3, "00mp-a": 2, "00mp-b": 2}
    stall = "room/060.jpg"
    f.slow(stall, seconds=120)  # half the body, then the server stalls: SIGKILL lands mid-file

    exe = Path(sys.executable).with_name("rtcsnap")
    proc = subprocess.Popen(
        [str(exe), "download", target, str(dest), "-j", "2", "-q"],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def fired() -> bool:
            return f.count("GET", stall) > 0 and all(
                f.count("GET", f"room/{k}.jpg") >= n for k, n in faulted.items()
            )

        deadline = time.monotonic() + 90
        while not fired() and time.monotonic() < deadline:  # wait on state, not time
            time.sleep(0.05)
        assert fired(), "every fault fired (the retries got past it) and the stall was reached"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        f.clear()

    finals = {
        p.relative_to(dest).as_posix(): p.read_bytes()
        for p in dest.rglob("*")
        if p.is_file() and RESERVED not in p.relative_to(dest).parts
    }
    assert 0 < len(finals) < len(objects)
    assert all(objects[k] == v for k, v in finals.items()), (
        "nothing wrong under a final name, even when killed"
    )
    assert stall not in finals

    r = run_cli("download", target, str(dest), "-j", "4", "--json", env=env)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    summary = lines[-1]["summary"]
    assert summary["listed"] == len(objects)
    assert summary["downloaded"] + summary["skipped"] + summary["failed"] == summary["listed"]
    assert summary["failed"] == 0 and summary["unverified"] == 0
    # what the killed run had verified is not fetched again — but for journal records still queued
    # at the SIGKILL (the journal commits in the background: at most a few, one per worker or so)
    assert len(finals) - 4 <= summary["skipped"] <= len(finals)
    per_key = {d["key"]: d for d in lines[:-1]}
    # (a faulted object the killed run had finished is skipped, one it had not is fetched now:
    # both end byte-identical, asserted below; that every fault fired was asserted before the kill)
    assert {per_key[f"room/{k}.jpg"]["status"] for k in faulted} <= {"skipped", "downloaded"}
    assert per_key["room/00mp-a.jpg"]["checksum"] == "md5-multipart"
    assert per_key["room/000.jpg"]["checksum"] == "crc32" and per_key["room/001.jpg"]["checksum"] == "md5"
    for key, data in objects.items():
        assert (dest / key).read_bytes() == data, key
    assert list((dest / RESERVED / TMP).iterdir()) == [], "the killed run's temp file is gone"
