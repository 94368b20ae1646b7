"""Core storage logic that needs no server: key→path safety, the listing loop guard, retry policy.

The loop-guard tests use an in-memory `Session` (a test double of the provider contract, not of
any HTTP API): the point is what core does when a provider hands back a bad cursor, which no
well-behaved local server can be made to produce through a correct provider.
"""

from __future__ import annotations

from pathlib import Path

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
from rtcsnap.checksums import file_checksum, new_hasher
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage import map_key
from rtcsnap.storage.listing import iter_session


class _P(Provider):
    name = "mem"
    scheme = "mem"
    storage_type = 2
    vendor = 4
    capabilities = Capabilities()

    def storage_config(self, target: StorageTarget) -> None:
        return None

    def open(self, target: StorageTarget) -> Session:
        raise NotImplementedError


class ScriptedSession(Session):
    """Answers list_page from a script of pages; counts calls."""

    def __init__(self, pages: list[Page]) -> None:
        super().__init__(_P(), StorageTarget.parse("mem://b"))
        self.pages = pages
        self.calls: list[str | None] = []

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        self.calls.append(cursor)
        return self.pages[min(len(self.calls) - 1, len(self.pages) - 1)]

    def head_bucket(self) -> None: ...
    def put(self, key: str, data: object, content_type: str = "application/octet-stream") -> ObjectInfo:
        raise NotImplementedError

    def get(self, key: str) -> ObjectStream:
        raise NotImplementedError

    def delete(self, key: str) -> None: ...


def obj(k: str) -> ObjectInfo:
    return ObjectInfo(key=k, size=1)


def test_listing_stops_when_cursor_repeats() -> None:
    s = ScriptedSession([Page([obj("a")], "c1"), Page([obj("b")], "c1")])
    it = iter_session(s, "")
    assert [next(it).key, next(it).key] == ["a", "b"]
    with pytest.raises(StorageError, match="did not advance"):
        next(it)
    assert s.calls == [None, "c1"]


def test_listing_detects_a_cursor_cycle() -> None:
    s = ScriptedSession([Page([obj("a")], "x"), Page([obj("b")], "y"), Page([obj("c")], "x")])
    with pytest.raises(StorageError, match="again"):
        list(iter_session(s, ""))
    assert len(s.calls) == 3


def test_listing_gives_up_on_endless_empty_pages() -> None:
    pages = [Page([], f"c{i}") for i in range(100)]
    s = ScriptedSession(pages)
    with pytest.raises(StorageError, match="empty pages"):
        list(iter_session(s, ""))
    assert len(s.calls) == 10


def test_listing_retries_transient_then_continues() -> None:
    class Flaky(ScriptedSession):
        def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
            if len(self.calls) == 1 and not getattr(self, "failed", False):
                self.failed = True
                raise StorageError(Reason.THROTTLED, "slow down")
            return super().list_page(prefix, cursor, limit)

    s = Flaky([Page([obj("a")], "c1"), Page([obj("b")], None)])
    keys = [o.key for o in iter_session(s, "", retry=RetryPolicy(attempts=3, base=0, cap=0))]
    assert keys == ["a", "b"]


def test_retry_policy_does_not_retry_permanent_errors() -> None:
    calls = []

    def fail() -> None:
        calls.append(1)
        raise StorageError(Reason.BAD_SECRET)

    with pytest.raises(StorageError):
        RetryPolicy(attempts=5, base=0, cap=0).call(fail)
    assert len(calls) == 1


@pytest.mark.parametrize("key", ["../etc/passwd", "a/../../x", "/abs/../..", "a/./b", "nul\x00", "", "///"])
def test_unsafe_keys_never_escape_dest(key: str) -> None:
    with pytest.raises(StorageError) as err:
        map_key(key)
    assert err.value.reason == Reason.UNMAPPABLE_KEY


def test_map_key_strips_the_target_prefix_only_at_a_boundary() -> None:
    assert map_key("snaps/r1/a.jpg", "snaps").parts == ("r1", "a.jpg")
    assert map_key("snaps/r1/a.jpg", "snaps/").parts == ("r1", "a.jpg")
    assert map_key("snapshot/a.jpg", "snaps").parts == ("snapshot", "a.jpg")


def test_crc64_matches_the_published_check_value(tmp_path: Path) -> None:
    # CRC-64/XZ check value for "123456789" (reveng catalogue): 0x995DC9BBDF1939FA
    h = new_hasher("crc64ecma")
    h.update(b"1234")
    h.update(b"56789")
    assert h.value() == str(0x995DC9BBDF1939FA)
    f = tmp_path / "x"
    f.write_bytes(b"123456789")
    assert file_checksum(str(f), "crc64ecma") == str(0x995DC9BBDF1939FA)
    assert file_checksum(str(f), "md5") == "25f9e794323b453885f5181f1b624d0b"


def test_session_sdk_translates_and_redacts() -> None:
    class SdkBoom(Exception):
        pass

    class S(ScriptedSession):
        sdk_errors = (SdkBoom,)

        def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
            return StorageError(Reason.BAD_SECRET, f"sdk said: {exc}", provider="mem", operation=operation)

    s = S([])
    s.target = StorageTarget.parse("mem://b", access_key="AKID", secret_key="topsecret-123")
    with pytest.raises(StorageError) as err, s.sdk("put", "k"):
        raise SdkBoom("signature for topsecret-123 by AKID failed")
    assert err.value.reason == Reason.BAD_SECRET and err.value.operation == "put"
    assert "topsecret-123" not in str(err.value) and "AKID" not in str(err.value)
    assert isinstance(err.value.__cause__, SdkBoom)
    with pytest.raises(ValueError), s.sdk("put"):  # not an SDK error: not swallowed into a StorageError
        raise ValueError("bug")


def test_md5_multipart_with_even_and_uneven_parts() -> None:
    import hashlib

    from rtcsnap import checksums

    data = bytes(range(256)) * 100  # 25,600 bytes
    cuts = [(0, 10_000), (10_000, 22_000), (22_000, 25_600)]
    digests = b"".join(hashlib.md5(data[a:b]).digest() for a, b in cuts)
    expected = f"{hashlib.md5(digests).hexdigest()}-3"
    uneven = checksums.new_hasher("md5-multipart", {"part_sizes": (10_000, 12_000)})
    for i in range(0, len(data), 777):  # chunk boundaries that never match the part boundaries
        uneven.update(data[i : i + 777])
    assert uneven.value() == expected
    algo = checksums.get("md5-multipart")
    assert algo.applies(expected, {"part_sizes": (10_000, 12_000)}, len(data))
    assert not algo.applies(expected, {"part_sizes": (10_000,)}, len(data)), "two sizes for three parts"
    assert not algo.applies(expected, {"part_size": 5_000}, len(data)), "a part size giving 6 parts"
    even = checksums.new_hasher("md5-multipart", {"part_size": 10_000})
    even.update(data)
    cuts = [(0, 10_000), (10_000, 20_000), (20_000, 25_600)]
    digests = b"".join(hashlib.md5(data[a:b]).digest() for a, b in cuts)
    assert even.value() == f"{hashlib.md5(digests).hexdigest()}-3"


def test_a_key_that_is_not_encodable_as_a_file_name_is_unmappable() -> None:
    with pytest.raises(StorageError) as err:
        map_key("room/\ud800.jpg")  # a lone surrogate: no file-system encoding exists
    assert err.value.reason == Reason.UNMAPPABLE_KEY and "not encodable" in err.value.message
