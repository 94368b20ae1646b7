"""Guarantees of the storage core that no provider can break, each by a test that fails without it.

Two kinds of test here: over real HTTP against moto where a server can show the behaviour
(verify stopping early, read-back, upload retries), and with an in-memory provider — a test
double of the provider *contract*, not of any HTTP API — where the point is what core does with
what a provider hands it (a short body, how sessions are shared between threads, how far the
listing runs ahead of the downloads).
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from rtcsnap import (
    Capabilities,
    ObjectInfo,
    ObjectStream,
    Page,
    Provider,
    Reason,
    Session,
    StorageError,
    StorageTarget,
)
from rtcsnap.providers.contract import Checksum
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import download, upload, verify
from rtcsnap.storage.transfer import AHEAD

from tests.storage.conftest import MakeTarget

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from rtcsnap.testing.s3server import LocalS3Server

FAST = RetryPolicy(attempts=3, base=0.001, cap=0.01)


# -- verify (moto) -------------------------------------------------------------------------------


def test_verify_stops_after_a_fatal_reason(
    local_s3: LocalS3Server, bucket: str, make_target: MakeTarget
) -> None:
    ak, _ = local_s3.admin_credentials
    bad = make_target(credentials=(ak, "wrong-secret-for-this-key-000000000000"))
    local_s3.faults.clear()
    report = verify(bad, retry=FAST)
    # a HEAD error has no body: the bare 403 of "reachable" is permission_denied, and the write
    # probe's coded SignatureDoesNotMatch is the first fatal answer; nothing is sent after it
    assert [(p.capability, p.status, p.reason) for p in report.probes[:2]] == [
        ("reachable", "failed", Reason.PERMISSION_DENIED),
        ("write", "failed", Reason.BAD_SECRET),
    ]
    assert [p.status for p in report.probes[2:]] == ["skipped"] * 3
    assert {p.reason for p in report.probes[2:]} == {Reason.BAD_SECRET}
    assert report.reason == Reason.BAD_SECRET
    assert sum(local_s3.faults.requests.values()) == 2, "no further probe sent after bad_secret"


def test_verify_compares_what_it_reads_back(local_s3: LocalS3Server, make_target: MakeTarget) -> None:
    local_s3.faults.corrupt(".rtcsnap-probe/")
    report = verify(make_target(), retry=FAST)
    assert report.probe("write").ok
    read = report.probe("read")
    assert read.status == "failed" and read.reason == Reason.CHECKSUM_MISMATCH
    assert not report.fit_for_retrieval


# -- upload (moto) -------------------------------------------------------------------------------


def test_upload_retries_bytes_but_never_a_stream(
    local_s3: LocalS3Server, s3: S3Client, bucket: str, make_target: MakeTarget
) -> None:
    local_s3.faults.fail("PUT", "bytes.jpg", status=503, times=1)
    upload(make_target(), "bytes.jpg", b"b" * 100, retry=FAST)
    assert local_s3.faults.count("PUT", "bytes.jpg") == 2
    local_s3.faults.fail("PUT", "stream.jpg", status=503, times=1)
    with pytest.raises(StorageError) as err:
        upload(make_target(), "stream.jpg", io.BytesIO(b"s" * 100), retry=FAST)
    assert err.value.retryable, "the failure was retryable, and still not retried: a stream is sent once"
    assert local_s3.faults.count("PUT", "stream.jpg") == 1


# -- an in-memory provider -----------------------------------------------------------------------


class MemProvider(Provider):
    name = "mem"
    scheme = "mem"
    storage_type = 2
    vendor = 4
    capabilities = Capabilities(checksums=("md5",))
    objects: ClassVar[dict[str, bytes]] = {}
    short: ClassVar[set[str]] = set()
    buggy: ClassVar[set[str]] = set()
    gate = threading.Event()
    gated = False
    sessions: ClassVar[list[MemSession]] = []

    def storage_config(self, target: StorageTarget) -> Any:
        return None

    def open(self, target: StorageTarget) -> Session:
        s = MemSession(self, target)
        MemProvider.sessions.append(s)
        return s


class MemSession(Session):
    def __init__(self, provider: Provider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        self.threads: set[int] = set()
        self.closed = False

    def close(self) -> None:
        self.closed = True

    def head_bucket(self) -> None: ...

    def put(self, key: str, data: Any, content_type: str = "application/octet-stream") -> ObjectInfo:
        raise NotImplementedError

    def delete(self, key: str) -> None: ...

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        keys = sorted(MemProvider.objects)
        start = int(cursor or 0)
        nxt = start + limit
        items = [
            ObjectInfo(k, len(MemProvider.objects[k]), _md5(MemProvider.objects[k])) for k in keys[start:nxt]
        ]
        return Page(items, str(nxt) if nxt < len(keys) else None)

    def get(self, key: str) -> ObjectStream:
        self.threads.add(threading.get_ident())
        if MemProvider.gated and not MemProvider.gate.wait(timeout=1.0):
            MemProvider.gate.set()  # the listing was held back: let everyone go
        if key in MemProvider.buggy:
            raise ZeroDivisionError(f"a bug in the provider, on {key}")
        data = MemProvider.objects[key]
        sent = data[: len(data) // 2] if key in MemProvider.short else data
        etag = None if key in MemProvider.short else _md5(data)
        return ObjectStream(ObjectInfo(key, len(data), etag), iter([sent]))

    def checksum(self, info: ObjectInfo) -> Checksum | None:
        return Checksum("md5", info.etag) if info.etag else None


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


@pytest.fixture
def mem() -> Iterator[ProviderManager]:
    MemProvider.objects = {f"o/{i:03d}.jpg": f"object {i}".encode() * 10 for i in range(60)}
    MemProvider.short, MemProvider.buggy, MemProvider.sessions = set(), set(), []
    MemProvider.gate, MemProvider.gated = threading.Event(), False
    manager = ProviderManager()
    manager.register_provider(MemProvider)
    yield manager


def test_a_short_body_never_takes_the_final_name(mem: ProviderManager, tmp_path: Path) -> None:
    MemProvider.short = {"o/007.jpg"}  # no checksum for it: only the size can tell
    report = download("mem://b", tmp_path, manager=mem, retry=FAST)
    assert [(f.key, f.reason) for f in report.failed] == [("o/007.jpg", Reason.TRANSIENT)]
    assert "after 40 of 80 bytes" in report.failed[0].message
    assert not (tmp_path / "o" / "007.jpg").exists()
    assert len(report.downloaded) == 59


def test_each_worker_thread_has_its_own_session(mem: ProviderManager, tmp_path: Path) -> None:
    report = download("mem://b", tmp_path, manager=mem, concurrency=4, retry=FAST)
    assert len(report.downloaded) == 60
    workers = [s for s in MemProvider.sessions if s.threads]
    assert len(workers) >= 2, "the work was spread over several threads"
    assert all(len(s.threads) == 1 for s in workers), "no session is used from two threads"
    assert all(s.closed for s in MemProvider.sessions), "every session is closed at the end"
    assert len({t for s in workers for t in s.threads}) == len(workers)


def test_the_listing_runs_at_most_a_window_ahead(mem: ProviderManager, tmp_path: Path) -> None:
    """Memory stays flat on a 50,000-object listing because at most AHEAD x concurrency objects
    are in flight: with the workers held, the listing must stop there instead of running to its end."""
    MemProvider.gated = True
    concurrency = 3
    listed = finished = most = 0
    lock = threading.Lock()

    def on(ev: Any) -> None:
        nonlocal listed, finished, most
        with lock:
            if ev.kind == "listed":
                listed += 1
                most = max(most, listed - finished)
                if listed == len(MemProvider.objects):
                    MemProvider.gate.set()  # the whole listing ran ahead: unbounded
            elif ev.kind in ("done", "skipped", "failed"):
                finished += 1

    report = download("mem://b", tmp_path, manager=mem, concurrency=concurrency, page_size=1, progress=on)
    assert len(report.downloaded) == 60
    assert AHEAD * concurrency < len(MemProvider.objects), "the test bucket is larger than the window"
    assert most <= AHEAD * concurrency + 1


def test_a_bug_in_a_worker_is_raised_not_swallowed(mem: ProviderManager, tmp_path: Path) -> None:
    """Only storage and disk failures become report entries; anything else is a bug, and the
    download stops with it (listing included) instead of counting it or hanging."""
    MemProvider.objects = {f"o/{i:04d}.jpg": b"x" * 10 for i in range(400)}
    MemProvider.buggy = {"o/0003.jpg"}
    listed = 0

    def on(ev: Any) -> None:
        nonlocal listed
        listed += ev.kind == "listed"

    with pytest.raises(ZeroDivisionError, match=r"o/0003\.jpg"):
        download("mem://b", tmp_path, manager=mem, concurrency=2, page_size=1, progress=on)
    assert listed < 400, "the listing stopped at the bug"


def test_a_thread_safe_provider_shares_one_session(mem: ProviderManager, tmp_path: Path) -> None:
    """A provider whose SDK client is thread-safe (boto3's) is opened once, not once per thread."""

    class SharedMem(MemProvider):
        name = scheme = "memshared"
        vendor = 3
        thread_safe_sessions = True

    mem.register_provider(SharedMem)
    report = download("memshared://b", tmp_path, manager=mem, concurrency=4, retry=FAST)
    assert len(report.downloaded) == 60
    assert len(MemProvider.sessions) == 1
    assert len(MemProvider.sessions[0].threads) >= 2, "one session served several threads"


def test_a_network_error_names_the_endpoint_it_tried(tmp_path: Path) -> None:
    """ "could not connect" means nothing without where: a closed local port must be named."""
    import socket

    with socket.socket() as s:  # a port nobody listens on (bound, never listening)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        target = StorageTarget.parse(
            f"s3://bucket-x?region=us-east-1&endpoint=http://127.0.0.1:{port}",
            access_key="AKIDEXAMPLE",
            secret_key="not-a-real-secret-000",
        )
        report = verify(target, retry=RetryPolicy(attempts=1))
    reachable = report.probe("reachable")
    assert reachable.reason == Reason.NETWORK
    assert f"127.0.0.1:{port}" in reachable.detail


def test_objects_without_etag_are_skipped_by_last_modified(mem: ProviderManager, tmp_path: Path) -> None:
    """A storage that gives no ETag: the object version is its Last-Modified time."""
    from datetime import UTC, datetime

    class NoEtag(MemProvider):
        name = scheme = "noetag"
        vendor = 2
        capabilities = Capabilities()
        modified = datetime(2026, 1, 1, tzinfo=UTC)

        def open(self, target: StorageTarget) -> Session:
            return NoEtagSession(self, target)

    class NoEtagSession(MemSession):
        def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
            page = super().list_page(prefix, cursor, limit)
            return Page(
                [ObjectInfo(o.key, o.size, None, NoEtag.modified) for o in page.items], page.next_cursor
            )

        def get(self, key: str) -> ObjectStream:
            data = MemProvider.objects[key]
            return ObjectStream(ObjectInfo(key, len(data), None, NoEtag.modified), iter([data]))

        def checksum(self, info: ObjectInfo) -> Checksum | None:
            return None

    mem.register_provider(NoEtag)
    MemProvider.objects = {"a.jpg": b"a" * 10, "b.jpg": b"b" * 10}
    first = download("noetag://b", tmp_path, manager=mem, retry=FAST)
    assert sorted(first.downloaded) == ["a.jpg", "b.jpg"] and sorted(first.unverified) == ["a.jpg", "b.jpg"]
    again = download("noetag://b", tmp_path, manager=mem, retry=FAST)
    assert sorted(again.skipped) == ["a.jpg", "b.jpg"], "same size and Last-Modified: the same version"
    NoEtag.modified = datetime(2026, 1, 2, tzinfo=UTC)
    third = download("noetag://b", tmp_path, manager=mem, retry=FAST)
    assert sorted(third.downloaded) == ["a.jpg", "b.jpg"], "a newer Last-Modified is a new version"


def test_unknown_target_option_names_the_known_ones() -> None:
    from rtcsnap.errors import ConfigurationError
    from rtcsnap.storage import resolve

    with pytest.raises(ConfigurationError) as err:
        resolve("s3://bucket-x?regoin=us-east-1")
    assert "'regoin'" in str(err.value) and "known: region, endpoint, addressing" in str(err.value)


def test_only_a_write_only_key_gets_its_denials_called_expected(
    local_s3: LocalS3Server, bucket: str, make_target: MakeTarget
) -> None:
    """A key that writes *and reads* but may not list is no write-only key: its list denial is a
    real gap for retrieval, not "expected"."""
    actions = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    key = local_s3.create_user(f"rw-{bucket}", policy)
    report = verify(make_target(credentials=key), retry=FAST)
    assert report.can("write") and report.can("read")
    listing = report.probe("list")
    assert listing.status == "failed" and listing.reason == Reason.PERMISSION_DENIED
    assert not report.write_only and not report.expected_denial(listing)
    assert report.reason_for("read") == Reason.PERMISSION_DENIED
    writer = local_s3.create_user(
        f"w-{bucket}",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}],
        },
    )
    wo = verify(make_target(credentials=writer), retry=FAST)
    assert wo.write_only and wo.expected_denial(wo.probe("read")) and wo.reason_for("rtc") is None


def test_each_directory_is_opened_once_per_run(
    mem: ProviderManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Directory descriptors are cached: a system call per file and directory would cost a GIL
    switch each under 16 threads (docs/benchmarks.md)."""
    import os

    MemProvider.objects = {f"room/sub/{i:02d}.jpg": b"x" * 10 for i in range(30)}
    real = os.open
    opened: list[str] = []

    def counting(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_DIRECTORY:
            opened.append(str(path))
        return real(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", counting)
    report = download("mem://b", tmp_path, manager=mem, concurrency=1, retry=FAST)
    assert len(report.downloaded) == 30
    # once to find it missing, once after creating it; never again for the next 29 files
    assert opened.count("sub") == 2 and opened.count("room") == 2, opened


def test_an_unusable_dest_says_why_in_words(mem: ProviderManager, tmp_path: Path) -> None:
    from rtcsnap.errors import LocalPathError

    (tmp_path / "file").write_text("x")
    with pytest.raises(LocalPathError) as err:
        download("mem://b", tmp_path / "file" / "dest", manager=mem)
    assert "Not a directory" in str(err.value)


def test_fit_for_all_needs_every_capability(
    local_s3: LocalS3Server, bucket: str, make_target: MakeTarget
) -> None:
    """A retrieval key (read + list, no write) is fit to read, not for "all" and not for RTC."""
    actions = ["s3:GetObject", "s3:ListBucket"]
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}
    report = verify(make_target(credentials=local_s3.create_user(f"r-{bucket}", policy)), retry=FAST)
    assert report.fit_for("read")
    assert not report.fit_for("all") and not report.fit_for("rtc")


def test_verify_without_the_write_probe_writes_nothing_and_still_probes_read(
    local_s3: LocalS3Server, bucket: str, make_target: MakeTarget
) -> None:
    report = verify(make_target(), retry=FAST, write_probe=False)
    assert [(p.capability, p.status) for p in report.probes] == [
        ("reachable", "ok"),
        ("write", "skipped"),
        ("read", "ok"),
        ("list", "ok"),
        ("delete", "skipped"),
    ]
    assert report.probe("read").detail == "read permitted (probe object absent)"
    assert not report.fit_for_rtc and report.fit_for_retrieval
    assert local_s3.s3().list_objects_v2(Bucket=bucket).get("KeyCount") == 0
