"""Incremental hashers for the checksums providers advertise (`Session.checksum`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Protocol


class Hasher(Protocol):
    def update(self, data: bytes) -> None: ...
    def value(self) -> str: ...


class _Md5:
    def __init__(self) -> None:
        self._h = hashlib.md5(usedforsecurity=False)

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def value(self) -> str:
        return self._h.hexdigest()


def _crc64_table() -> list[int]:
    poly = 0xC96C5795D7870F42  # ECMA-182, reflected
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


class _Crc64Ecma:
    """CRC-64/XZ as used by OSS, COS and TOS (`x-*-hash-crc64ecma`), decimal string."""

    _table: list[int] | None = None

    def __init__(self) -> None:
        try:
            import crcmod  # C speed when available

            self._fn: Callable[[bytes, int], int] | None = crcmod.mkCrcFun(
                0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF
            )
        except ImportError:
            self._fn = None
            if _Crc64Ecma._table is None:
                _Crc64Ecma._table = _crc64_table()
        self._crc = 0

    def update(self, data: bytes) -> None:
        if self._fn is not None:
            self._crc = self._fn(data, self._crc)
            return
        table = _Crc64Ecma._table
        assert table is not None
        crc = self._crc ^ 0xFFFFFFFFFFFFFFFF
        for b in data:
            crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
        self._crc = crc ^ 0xFFFFFFFFFFFFFFFF

    def value(self) -> str:
        return str(self._crc)


HASHERS: dict[str, Callable[[], Hasher]] = {"md5": _Md5, "crc64ecma": _Crc64Ecma}


def new_hasher(algorithm: str) -> Hasher:
    try:
        return HASHERS[algorithm]()
    except KeyError:
        raise ValueError(
            f"checksum algorithm {algorithm!r} is not supported (known: {', '.join(HASHERS)})"
        ) from None


def same(algorithm: str, expected: str, actual: str) -> bool:
    if algorithm == "md5":
        return expected.strip('"').lower() == actual.lower()
    return expected.strip() == actual


def file_checksum(path: str, algorithm: str, chunk: int = 1 << 20) -> str:
    h = new_hasher(algorithm)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.value()


__all__ = ["HASHERS", "Hasher", "file_checksum", "new_hasher", "same"]
