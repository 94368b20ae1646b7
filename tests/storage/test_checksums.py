"""The checksum registry: every algorithm a provider may name is proven by a vector, and a
wrong one is refused before it could bless a corrupted file."""

from __future__ import annotations

import hashlib

import pytest
from rtcsnap import checksums
from rtcsnap.checksums import QETAG_BLOCK, Algorithm

# computed with the qiniu SDK's own qiniu.utils.etag_stream (7.18.0), the independent oracle
QETAG = {
    b"": "Fto5o-5ea0sNMlW_75VgGJCv2AcJ",
    b"123456789": "FvfDvB2AjgRzKt9nmWXMw0ynrjRB",
    bytes(range(256)) * (4 * 1024 * 4 + 3): "lgLUaGFkk3tzT1rnqjPZHhVaHQkL",  # 4 MiB + 768 B: two blocks
}


@pytest.mark.parametrize(("data", "expected"), list(QETAG.items()), ids=["empty", "vector", "two-blocks"])
@pytest.mark.parametrize("piece", [1 << 20, 1000, QETAG_BLOCK])
def test_qetag_matches_the_qiniu_sdk_however_the_bytes_arrive(data: bytes, expected: str, piece: int) -> None:
    h = checksums.new_hasher("qetag")
    for i in range(0, len(data), piece):
        h.update(data[i : i + piece])
    assert h.value() == expected


def test_qetag_of_exactly_one_block_is_a_single_block_hash() -> None:
    data = b"q" * QETAG_BLOCK
    h = checksums.new_hasher("qetag")
    h.update(data)
    assert h.value().startswith("F"), "prefix 0x16: one block, no hash of hashes"
    assert checksums.same("qetag", h.value(), h.value())


def test_the_issue_s_algorithms_are_all_registered() -> None:
    assert {"md5", "crc64ecma", "crc32", "crc32c", "qetag"} <= set(checksums.known())


def test_registration_refuses_a_wrong_vector_a_bad_name_and_a_duplicate() -> None:
    def sha1_hex(_: object) -> checksums.Hasher:
        class H:
            def __init__(self) -> None:
                self.h = hashlib.sha1(usedforsecurity=False)

            def update(self, data: bytes) -> None:
                self.h.update(data)

            def value(self) -> str:
                return self.h.hexdigest()

        return H()

    with pytest.raises(ValueError, match="test vector gives"):
        checksums.register(Algorithm("sha1-hex-test", sha1_hex, (b"abc", "0" * 40, {})))
    with pytest.raises(ValueError, match="must match"):
        checksums.register(Algorithm("Bad Name", sha1_hex, (b"abc", "", {})))
    with pytest.raises(ValueError, match="already registered"):
        checksums.register(checksums.get("qetag"))
    good = Algorithm("sha1-hex-test", sha1_hex, (b"abc", "a9993e364706816aba3e25717850c26c9cd0d89d", {}))
    assert checksums.register(good, replace=True) is good
    assert "sha1-hex-test" in checksums.known()


def test_a_qetag_applies_only_where_the_bytes_alone_can_reproduce_it() -> None:
    """0x16 (one block) and 0x96 (blocks) can be recomputed; 0x9E (v2 parts of another size) hashes
    a part layout no listing tells, and a one-block hash cannot describe more than 4 MiB."""
    import base64

    from rtcsnap.checksums import QETAG_BLOCK, get

    algo = get("qetag")

    def tag(prefix: int) -> str:
        return base64.urlsafe_b64encode(bytes([prefix]) + b"\x01" * 20).decode()

    assert algo.applies(tag(0x16), {}, 1000) and algo.applies(tag(0x96), {}, 10 * QETAG_BLOCK)
    assert not algo.applies(tag(0x16), {}, QETAG_BLOCK + 1)
    assert not algo.applies(tag(0x9E), {}, 1000)
    assert not algo.applies("not base64!", {}, 1000) and not algo.applies(tag(0x16)[:-4], {}, 10)
