"""Checksum algorithms, registered by name, that downloads verify bytes against.

Why a registry rather than a fixed table: each storage vendor advertises its own checksum
(S3's MD5 ETag, its multipart composite ETag and its stored CRC/SHA checksums; CRC-64/ECMA from
TOS, OSS and COS; Qiniu's qetag), and a provider plugin must be able to bring the one its SDK
speaks without touching core. Registration checks the algorithm against a known test vector, so
a wrong implementation is refused before it can bless a corrupted file.

Each algorithm defines the *canonical text form* of its values (`normalize`): the provider hands
over the value as its service sent it, and core compares canonical forms.

Lives beside `target.py`, below both the providers and the storage services: providers name
algorithms, services run them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

import crcmod


class Hasher(Protocol):
    def update(self, data: bytes) -> None: ...
    def value(self) -> str: ...


Params = Mapping[str, int | tuple[int, ...]]
_NAME = re.compile(r"[a-z][a-z0-9-]{1,31}")


@dataclass(frozen=True)
class Algorithm:
    """A checksum algorithm: how to hash, how its values are written, and a vector proving it."""

    name: str
    new: Callable[[Params], Hasher]
    """A fresh hasher; `params` come from the `Checksum` (e.g. the multipart part size)."""
    check: tuple[bytes, str, Params]
    """(input, expected canonical value, params): verified at registration."""
    normalize: Callable[[str], str] = field(default=lambda v: v.strip())
    """The canonical text of a value as a service sends it (quotes, case, encoding)."""
    applies: Callable[[str, Params, int], bool] = field(default=lambda value, params, size: True)
    """Whether a value can describe an object of `size` bytes (else the object is unverifiable)."""


class _Digest:
    """hashlib digests, as hex or base64 text."""

    def __init__(self, name: str, encoding: str) -> None:
        self._h = hashlib.new(name, usedforsecurity=False)
        self._b64 = encoding == "base64"

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def value(self) -> str:
        return base64.b64encode(self._h.digest()).decode() if self._b64 else self._h.hexdigest()


class _Crc:
    """A CRC from a function `(data, crc) -> crc`; value as base64 of the big-endian bytes or decimal."""

    def __init__(self, fn: Callable[[bytes, int], int], width: int, decimal: bool) -> None:
        self._fn, self._width, self._decimal = fn, width, decimal
        self._crc = 0

    def update(self, data: bytes) -> None:
        self._crc = self._fn(data, self._crc)

    def value(self) -> str:
        if self._decimal:
            return str(self._crc)
        return base64.b64encode(self._crc.to_bytes(self._width // 8, "big")).decode()


class _Md5Parts:
    """S3's multipart ETag: MD5 of the concatenated MD5s of the parts, then ``-N``. Parts are
    `part_sizes` (every part but the last) or, when all are equal, `part_size` bytes each."""

    def __init__(self, params: Params) -> None:
        sizes, size = params.get("part_sizes", ()), params.get("part_size", 0)
        self._sizes = tuple(sizes) if isinstance(sizes, tuple) else ()
        self._size = size if isinstance(size, int) else 0
        if not self._sizes and self._size < 1:
            raise ValueError("md5-multipart needs part_size >= 1 or part_sizes")
        self._part = hashlib.md5(usedforsecurity=False)
        self._digests: list[bytes] = []
        self._left = self._next_size()
        self._fresh = True

    def _next_size(self) -> int:
        n = len(self._digests)
        return self._sizes[n] if n < len(self._sizes) else (self._size or 1 << 62)

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            take = view[: self._left]
            self._part.update(take)
            self._fresh = False
            self._left -= len(take)
            view = view[len(take) :]
            if self._left == 0:
                self._digests.append(self._part.digest())
                self._part = hashlib.md5(usedforsecurity=False)
                self._left = self._next_size()
                self._fresh = True

    def value(self) -> str:
        digests = list(self._digests)
        if not self._fresh or not digests:
            digests.append(self._part.digest())
        return f"{hashlib.md5(b''.join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"


def _hex(value: str) -> str:
    return value.strip().strip('"').lower()


def _b64(value: str) -> str:
    """Base64 re-encoded canonically (a hex digest is accepted too, as some servers send that)."""
    v = value.strip()
    try:
        raw = base64.b64decode(v, validate=True)
    except binascii.Error:
        raw = bytes.fromhex(v)
    return base64.b64encode(raw).decode()


def _parts_fit(value: str, params: Params, size: int) -> bool:
    """The composite ETag can be recomputed only when the part boundaries are known: from
    `part_sizes`, or from one `part_size` whose count matches the ETag's ``-N``."""
    _, _, count = value.rpartition("-")
    if not count.isdigit():
        return False
    sizes, part = params.get("part_sizes"), params.get("part_size")
    if isinstance(sizes, tuple):
        return len(sizes) == int(count) - 1 and sum(sizes) < size
    return isinstance(part, int) and part > 0 and max(1, -(-size // part)) == int(count)


def _crcmod(poly: int, init: int, xor: int) -> Callable[[bytes, int], int]:
    """A C-speed CRC function (`crcmod`) continuing from a previous CRC value."""
    fn: Callable[[bytes, int], int] = crcmod.mkCrcFun(poly, initCrc=init, rev=True, xorOut=xor)
    return fn


_CRC32C = _crcmod(0x11EDC6F41, 0, 0xFFFFFFFF)
_CRC64NVME = _crcmod(0x1AD93D23594C93659, 0, 0xFFFFFFFFFFFFFFFF)
_CRC64ECMA = _crcmod(0x142F0E1EBA9EA3693, 0, 0xFFFFFFFFFFFFFFFF)
_VECTOR = b"123456789"  # the standard CRC check input

QETAG_BLOCK = 4 * 1024 * 1024


class _Qetag:
    """Qiniu's ``hash``: the SHA-1 of the data when it fits one 4 MiB block (prefix 0x16), else
    the SHA-1 of the blocks' SHA-1s (prefix 0x96), URL-safe base64 (developer.qiniu.com qetag)."""

    def __init__(self) -> None:
        self._blocks: list[bytes] = []
        self._current = hashlib.sha1(usedforsecurity=False)
        self._filled = 0

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), QETAG_BLOCK - self._filled)
            self._current.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == QETAG_BLOCK:
                self._blocks.append(self._current.digest())
                self._current, self._filled = hashlib.sha1(usedforsecurity=False), 0

    def value(self) -> str:
        blocks = self._blocks + ([self._current.digest()] if self._filled or not self._blocks else [])
        if len(blocks) == 1:
            raw = b"\x16" + blocks[0]
        else:
            raw = b"\x96" + hashlib.sha1(b"".join(blocks), usedforsecurity=False).digest()
        return base64.urlsafe_b64encode(raw).decode()


def _qetag_applies(value: str, params: Params, size: int) -> bool:
    """A qetag this hasher can recompute from the bytes alone: 21 bytes, prefix 0x16 (one block,
    so at most 4 MiB) or 0x96. A hash prefixed 0x9E (v2 multipart parts of another size, qiniu's
    Go ``EtagV2``) hashes a part layout no listing tells: the object is then unverifiable."""
    try:
        raw = base64.urlsafe_b64decode(value.strip())
    except (ValueError, binascii.Error):
        return False
    if len(raw) != 21 or raw[0] not in (0x16, 0x96):
        return False
    return raw[0] == 0x96 or size < 0 or size <= QETAG_BLOCK


_lock = threading.Lock()
_registry: dict[str, Algorithm] = {}


def register(algorithm: Algorithm, *, replace: bool = False) -> Algorithm:
    """Add `algorithm`; refused unless its name is well-formed, new, and its test vector holds."""
    if not _NAME.fullmatch(algorithm.name):
        raise ValueError(f"checksum algorithm name {algorithm.name!r}: must match {_NAME.pattern}")
    data, expected, params = algorithm.check
    hasher = algorithm.new(params)
    hasher.update(data[:1])  # in two pieces: incremental hashing must give the same value
    hasher.update(data[1:])
    got = hasher.value()
    if got != algorithm.normalize(expected):
        raise ValueError(
            f"checksum algorithm {algorithm.name!r}: test vector gives {got!r}, expected {expected!r}"
        )
    with _lock:
        if algorithm.name in _registry and not replace:
            raise ValueError(f"checksum algorithm {algorithm.name!r} is already registered")
        _registry[algorithm.name] = algorithm
    return algorithm


def get(name: str) -> Algorithm:
    try:
        return _registry[name]
    except KeyError:
        raise ValueError(
            f"checksum algorithm {name!r} is not registered (known: {', '.join(sorted(_registry))})"
        ) from None


def known() -> tuple[str, ...]:
    return tuple(sorted(_registry))


def new_hasher(name: str, params: Params = MappingProxyType({})) -> Hasher:
    return get(name).new(params)


def same(name: str, expected: str, actual: str) -> bool:
    algo = get(name)
    try:
        return algo.normalize(expected) == algo.normalize(actual)
    except ValueError:  # an expected value that is not even of the algorithm's form
        return False


def file_checksum(path: str, name: str, params: Params = MappingProxyType({}), chunk: int = 1 << 20) -> str:
    h = new_hasher(name, params)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.value()


for _algo in (
    Algorithm(
        "md5", lambda p: _Digest("md5", "hex"), (_VECTOR, "25f9e794323b453885f5181f1b624d0b", {}), _hex
    ),
    Algorithm(
        "md5-multipart",
        _Md5Parts,
        (b"abcdef", "fa40dffba3d56c6098e0477379f300bd-2", {"part_size": 4}),
        _hex,
        _parts_fit,
    ),
    Algorithm(
        "sha1", lambda p: _Digest("sha1", "base64"), (_VECTOR, "98O8HYCOBHMq32eZZczDTKeuNEE=", {}), _b64
    ),
    Algorithm(
        "sha256",
        lambda p: _Digest("sha256", "base64"),
        (_VECTOR, "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=", {}),
        _b64,
    ),
    Algorithm("crc32", lambda p: _Crc(zlib.crc32, 32, False), (_VECTOR, "y/Q5Jg==", {}), _b64),
    Algorithm("crc32c", lambda p: _Crc(_CRC32C, 32, False), (_VECTOR, "4waSgw==", {}), _b64),
    Algorithm("crc64nvme", lambda p: _Crc(_CRC64NVME, 64, False), (_VECTOR, "rosUhgp5mIg=", {}), _b64),
    Algorithm("crc64ecma", lambda p: _Crc(_CRC64ECMA, 64, True), (_VECTOR, "11051210869376104954", {})),
    # vector from the qiniu SDK's own qiniu.utils.etag_stream (7.18.0)
    Algorithm(
        "qetag", lambda p: _Qetag(), (_VECTOR, "FvfDvB2AjgRzKt9nmWXMw0ynrjRB", {}), applies=_qetag_applies
    ),
):
    register(_algo)


__all__ = [
    "Algorithm",
    "Hasher",
    "Params",
    "file_checksum",
    "get",
    "known",
    "new_hasher",
    "register",
    "same",
]
