"""Credential checks that need a server with real per-key permissions: SeaweedFS.

moto can express a PutObject-only policy too, but only moto's IAM evaluates it; SeaweedFS is a
second implementation of the same checks, and the one whose denials come from a real gateway.
The key RTC gets should be write-only (Volcengine's advice), the key rtcsnap retrieves with
read+list: `verify` must tell the two apart, and `download` must fail cleanly with the first.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from rtcsnap.errors import Reason, StorageError
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import download, verify
from rtcsnap.storage.verify import VerifyReport
from rtcsnap.target import Credentials, StorageTarget
from rtcsnap.testing.seaweed import SeaweedKey, SeaweedS3Server

FAST = RetryPolicy(attempts=2, base=0.001, cap=0.01)


@pytest.fixture
def bucket(local_seaweed: SeaweedS3Server) -> str:
    return local_seaweed.create_bucket(f"cred-{uuid.uuid4().hex[:12]}")


def target(server: SeaweedS3Server, bucket: str, key: SeaweedKey | tuple[str, str]) -> StorageTarget:
    ak, sk = key.credentials if isinstance(key, SeaweedKey) else key
    return StorageTarget.parse(
        f"s3://{bucket}/rec?region=us-east-1&endpoint={server.endpoint}", access_key=ak, secret_key=sk
    )


def probes(report: VerifyReport) -> dict[str, tuple[str, Reason | None]]:
    return {p.capability: (p.status, p.reason) for p in report.probes}


def test_write_only_key_is_fit_for_rtc_and_not_for_retrieval(
    local_seaweed: SeaweedS3Server, bucket: str
) -> None:
    rtc = local_seaweed.key(("Write",))
    report = verify(target(local_seaweed, bucket, rtc), retry=FAST)
    assert probes(report) == {
        "reachable": ("failed", Reason.PERMISSION_DENIED),  # HeadBucket needs s3:ListBucket
        "write": ("ok", None),
        "read": ("failed", Reason.PERMISSION_DENIED),
        "list": ("failed", Reason.PERMISSION_DENIED),
        "delete": ("failed", Reason.PERMISSION_DENIED),
    }
    assert report.fit_for_rtc is True and report.fit_for_retrieval is False
    assert report.fit_for("rtc") and not report.fit_for("read") and not report.fit_for("all")
    assert report.reason == Reason.PERMISSION_DENIED
    # the probe could not be deleted: the report names it, and it really is still there
    assert report.leftover_probe == report.probe_key
    assert report.probe_key.startswith("rec/.rtcsnap-probe/") and report.probe_key.endswith(".txt")
    assert any(report.probe_key in note for note in report.notes)
    head = local_seaweed.s3().head_object(Bucket=bucket, Key=report.probe_key)
    assert head["ContentLength"] > 0
    assert not any("can also read" in note for note in report.notes)


def test_seaweed_identity_write_includes_delete(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    """SeaweedFS's own "Write" action (identities file) also grants DeleteObject: no leftover."""
    report = verify(target(local_seaweed, bucket, local_seaweed.keys["write_delete"]), retry=FAST)
    assert probes(report)["write"] == ("ok", None)
    assert probes(report)["delete"] == ("ok", None)
    assert probes(report)["read"] == probes(report)["list"] == ("failed", Reason.PERMISSION_DENIED)
    assert report.fit_for_rtc and not report.fit_for_retrieval
    assert report.leftover_probe is None
    assert "Contents" not in local_seaweed.s3().list_objects_v2(Bucket=bucket, Prefix="rec/")


def test_read_list_key_is_fit_for_retrieval_only(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    report = verify(target(local_seaweed, bucket, local_seaweed.key(("Read", "List"))), retry=FAST)
    assert probes(report) == {
        "reachable": ("ok", None),
        "write": ("failed", Reason.PERMISSION_DENIED),
        "read": ("ok", None),  # no probe object: a NoSuchKey answer proves read is allowed
        "list": ("ok", None),
        "delete": ("skipped", None),
    }
    assert report.fit_for_retrieval and not report.fit_for_rtc
    assert report.leftover_probe is None


def test_admin_key_passes_everything(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    report = verify(target(local_seaweed, bucket, local_seaweed.admin), retry=FAST)
    assert [p.status for p in report.probes] == ["ok"] * 5
    assert report.reason is None and report.leftover_probe is None
    assert any("can also read" in note for note in report.notes)


@pytest.mark.parametrize("which", ["admin", "write"])
def test_wrong_secret_is_bad_secret(local_seaweed: SeaweedS3Server, bucket: str, which: str) -> None:
    key = local_seaweed.admin if which == "admin" else local_seaweed.key(("Write",))
    report = verify(target(local_seaweed, bucket, (key.access_key, "not-the-secret")), retry=FAST)
    assert report.reason == Reason.BAD_SECRET
    # HEAD errors have no body: a bare 403; the write probe's coded answer is fatal, the rest skip
    assert probes(report)["reachable"] == ("failed", Reason.PERMISSION_DENIED)
    assert probes(report)["write"] == ("failed", Reason.BAD_SECRET)
    assert {s for s, _ in list(probes(report).values())[2:]} == {"skipped"}
    assert not report.fit_for_rtc and not report.fit_for_retrieval
    assert "not-the-secret" not in repr(report)


def test_unknown_key_is_unknown_access_key(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    report = verify(target(local_seaweed, bucket, ("AKIAUNKNOWN000000000", "whatever-secret")), retry=FAST)
    assert report.reason == Reason.UNKNOWN_ACCESS_KEY
    assert probes(report)["reachable"] == ("failed", Reason.PERMISSION_DENIED)
    assert probes(report)["write"] == ("failed", Reason.UNKNOWN_ACCESS_KEY)
    assert not report.fit_for_rtc and not report.fit_for_retrieval


def test_missing_bucket_is_bucket_missing(local_seaweed: SeaweedS3Server) -> None:
    missing = f"missing-{uuid.uuid4().hex[:12]}"
    report = verify(target(local_seaweed, missing, local_seaweed.admin), retry=FAST)
    assert report.reason == Reason.BUCKET_MISSING
    assert report.probe("reachable").reason == Reason.BUCKET_MISSING
    with pytest.raises(ClientError):  # -s3.autoCreateBucket=false: the probe PUT did not create it
        local_seaweed.s3().head_bucket(Bucket=missing)


def test_missing_bucket_with_a_write_only_key(local_seaweed: SeaweedS3Server) -> None:
    """The write-only key cannot HEAD any bucket; its PUT is what finds the bucket missing."""
    report = verify(target(local_seaweed, f"missing-{uuid.uuid4().hex[:12]}", local_seaweed.key(("Write",))))
    assert probes(report)["reachable"] == ("failed", Reason.PERMISSION_DENIED)
    assert probes(report)["write"] == ("failed", Reason.BUCKET_MISSING)
    assert report.reason == Reason.BUCKET_MISSING
    assert not report.fit_for_rtc


# -- download with the two kinds of keys -------------------------------------------------------


def _seed(server: SeaweedS3Server, bucket: str, n: int = 6) -> dict[str, bytes]:
    s3 = server.s3()
    objects = {f"rec/room-{i // 3}/snap-{i:03d}.jpg": bytes([i]) * (1000 + i) for i in range(n)}
    for key, data in objects.items():
        s3.put_object(Bucket=bucket, Key=key, Body=data)
    return objects


def test_download_with_a_read_list_key(local_seaweed: SeaweedS3Server, bucket: str, tmp_path: Path) -> None:
    objects = _seed(local_seaweed, bucket)
    reader = local_seaweed.key(("Read", "List"))
    report = download(target(local_seaweed, bucket, reader), tmp_path, concurrency=3, retry=FAST)
    assert report.ok and not report.failed and not report.skipped
    assert sorted(report.downloaded) == sorted(objects)
    for key, data in objects.items():
        assert (tmp_path / key.removeprefix("rec/")).read_bytes() == data


def test_download_with_a_write_only_key_is_denied(
    local_seaweed: SeaweedS3Server, bucket: str, tmp_path: Path
) -> None:
    objects = _seed(local_seaweed, bucket, 3)
    writer = target(local_seaweed, bucket, local_seaweed.key(("Write",)))
    with pytest.raises(StorageError) as err:  # the listing is the first thing denied
        download(writer, tmp_path / "all", retry=FAST)
    assert (err.value.reason, err.value.status, err.value.operation) == (
        Reason.PERMISSION_DENIED,
        403,
        "list",
    )
    report = download(writer, tmp_path / "named", keys=sorted(objects), retry=FAST)
    assert report.downloaded == []
    assert sorted((f.key, f.reason) for f in report.failed) == [
        (k, Reason.PERMISSION_DENIED) for k in sorted(objects)
    ]
    assert not [p for p in (tmp_path / "named").rglob("*.jpg")]


def test_credentials_from_the_target_not_the_environment(
    local_seaweed: SeaweedS3Server, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An admin key in AWS_* must not rescue a target that names the write-only key."""
    ak, sk = local_seaweed.admin_credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ak)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", sk)
    rtc = local_seaweed.key(("Write",))
    t = target(local_seaweed, bucket, rtc)
    assert t.credentials == Credentials.of(*rtc.credentials)
    assert not verify(t, retry=FAST).fit_for_retrieval
