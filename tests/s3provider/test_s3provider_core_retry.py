"""Retries belong to core's RetryPolicy, not to botocore.

The contract suite's transient-error test passes as long as *somebody* retries. If botocore
retried too, each attempt core counts would be up to N server requests, and a RetryPolicy of
one attempt would not mean one request. These count requests at the server (moto's fault
injector) and core's back-off sleeps, so only core doing the retrying passes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rtcsnap.errors import Reason, StorageError
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import download, iter_objects, verify
from rtcsnap.target import StorageTarget
from rtcsnap.testing.s3server import LocalS3Server

MakeTarget = Callable[..., StorageTarget]


def _policy(attempts: int, sleeps: list[float]) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base=0.001, cap=0.002, sleep=sleeps.append)


@pytest.fixture
def seeded(server: LocalS3Server, make_target: MakeTarget) -> StorageTarget:
    target = make_target()
    s3 = server.s3()
    for name in ("a.jpg", "b.jpg"):
        s3.put_object(Bucket=target.bucket, Key=f"snaps/{name}", Body=name.encode() * 100)
    server.faults.clear()
    return target


@pytest.mark.parametrize(("status", "code"), [(503, "SlowDown"), (500, "InternalError")])
def test_download_retries_are_cores(
    server: LocalS3Server, seeded: StorageTarget, tmp_path: Path, status: int, code: str
) -> None:
    sleeps: list[float] = []
    server.faults.fail("GET", "a.jpg", status=status, code=code, times=2)
    report = download(seeded, tmp_path / "retried", retry=_policy(3, sleeps), concurrency=1)
    assert report.ok and sorted(report.downloaded) == ["snaps/a.jpg", "snaps/b.jpg"]
    assert server.faults.count("GET", "a.jpg") == 3, "1 try + 2 core retries, each sent once by botocore"
    assert server.faults.count("GET", "b.jpg") == 1
    assert len(sleeps) == 2, "both waits were core's back-off"

    server.faults.clear()
    sleeps.clear()
    server.faults.fail("GET", "a.jpg", status=status, code=code, times=1)
    once = download(seeded, tmp_path / "once", retry=_policy(1, sleeps), concurrency=1)
    assert [f.key for f in once.failed] == ["snaps/a.jpg"]
    assert once.failed[0].reason in (Reason.THROTTLED, Reason.TRANSIENT)
    assert once.downloaded == ["snaps/b.jpg"]
    assert server.faults.count("GET", "a.jpg") == 1, (
        "with one core attempt, one request: botocore never retries"
    )
    assert sleeps == []


def test_exhausted_retries_fail_after_exactly_the_policys_attempts(
    server: LocalS3Server, seeded: StorageTarget, tmp_path: Path
) -> None:
    sleeps: list[float] = []
    server.faults.fail("GET", "a.jpg", status=503, times=None)  # until cleared
    report = download(seeded, tmp_path, retry=_policy(4, sleeps), concurrency=1)
    server.faults.clear()
    assert [(f.key, f.reason) for f in report.failed] == [("snaps/a.jpg", Reason.THROTTLED)]
    assert len(sleeps) == 3


def test_listing_retries_are_cores(server: LocalS3Server, seeded: StorageTarget) -> None:
    sleeps: list[float] = []
    server.faults.fail("GET", seeded.bucket, status=503, times=1)  # the first ListObjectsV2
    keys = [o.key for o in iter_objects(seeded, retry=_policy(2, sleeps))]
    assert keys == ["snaps/a.jpg", "snaps/b.jpg"]
    assert server.faults.count("GET", seeded.bucket) == 2 and len(sleeps) == 1
    server.faults.clear()
    server.faults.fail("GET", seeded.bucket, status=503, times=1)
    with pytest.raises(StorageError) as err:
        list(iter_objects(seeded, retry=_policy(1, sleeps)))
    assert err.value.reason == Reason.THROTTLED
    assert server.faults.count("GET", seeded.bucket) == 1


def test_verify_probes_are_retried_by_core(server: LocalS3Server, seeded: StorageTarget) -> None:
    sleeps: list[float] = []
    server.faults.fail("PUT", ".rtcsnap-probe", status=503, times=1)
    report = verify(seeded, retry=_policy(2, sleeps))
    assert [p.status for p in report.probes] == ["ok"] * 5
    assert server.faults.count("PUT", ".rtcsnap-probe") == 2 and len(sleeps) == 1
