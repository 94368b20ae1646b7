"""Reading one object's body while checking it: the size always, and the strongest checksum the
storage offers for it (`Session.checksum`). Shared by `download` (into a temp file) and `fetch`
(into memory), so both accept bytes by exactly the same rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from rtcsnap import checksums
from rtcsnap.errors import ChecksumMismatchError, Reason, StorageError
from rtcsnap.providers.contract import Checksum, ObjectInfo, ObjectStream, Session


class Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def rule_for(session: Session, info: ObjectInfo) -> Checksum | None:
    """The checksum the bytes must match, or None when the storage offers none for this object."""
    spec = Checksum.of(session.checksum(info))
    if spec is None:
        return None
    try:
        algo = checksums.get(spec.algorithm)
    except ValueError as exc:
        raise StorageError(
            Reason.OTHER, f"{info.key}: {exc}", provider=session.provider.name, operation="get"
        ) from None
    return spec if algo.applies(spec.value, spec.params, info.size) else None


def copy_verified(
    session: Session,
    stream: ObjectStream,
    key: str,
    sink: Sink,
    *,
    on_chunk: Callable[[int], None] | None = None,
    max_bytes: int | None = None,
) -> tuple[int, Checksum | None]:
    """Copy `stream` into `sink`; (bytes written, the checksum they matched — None: size only).

    A short body is `TRANSIENT` (retried); a checksum that does not match is
    `ChecksumMismatchError` (retried too: the next GET may be intact). `max_bytes` refuses an
    object larger than the caller can hold, before reading it (`TOO_LARGE`, not retried).
    """
    info = stream.info
    provider = session.provider.name
    if max_bytes is not None and info.size > max_bytes:
        raise StorageError(
            Reason.TOO_LARGE,
            f"{key}: {info.size} bytes is more than the {max_bytes} allowed",
            provider=provider,
            operation="get",
        )
    rule = rule_for(session, info)
    hasher = checksums.new_hasher(rule.algorithm, rule.params) if rule else None
    written = 0
    for chunk in stream:
        sink.write(chunk)
        written += len(chunk)
        if hasher is not None:
            hasher.update(chunk)
        if on_chunk is not None:
            on_chunk(len(chunk))
        if max_bytes is not None and written > max_bytes:
            raise StorageError(
                Reason.TOO_LARGE,
                f"{key}: more than the {max_bytes} bytes allowed",
                provider=provider,
                operation="get",
            )
    if info.size >= 0 and written != info.size:
        raise StorageError(
            Reason.TRANSIENT,
            f"{key}: connection ended after {written} of {info.size} bytes",
            provider=provider,
            operation="get",
        )
    if rule is not None and hasher is not None:
        actual = hasher.value()
        if not checksums.same(rule.algorithm, rule.value, actual):
            raise ChecksumMismatchError(key, rule.algorithm, rule.value, actual, provider=provider)
    return written, rule


__all__ = ["Sink", "copy_verified", "rule_for"]
