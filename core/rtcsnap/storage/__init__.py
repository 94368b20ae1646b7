"""Storage operations built once for every provider: verify, list, download, upload."""

from __future__ import annotations

from collections.abc import Iterator

from rtcsnap.providers.contract import ObjectInfo
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage.destination import map_key
from rtcsnap.storage.listing import DEFAULT_PAGE_SIZE, iter_session
from rtcsnap.storage.resolve import TargetLike, open_session, resolve
from rtcsnap.storage.transfer import (
    DownloadReport,
    FailedItem,
    ProgressEvent,
    download,
    upload,
)
from rtcsnap.storage.verify import ProbeResult, VerifyReport, verify


def iter_objects(
    target: TargetLike,
    prefix: str = "",
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    retry: RetryPolicy | None = None,
    manager: ProviderManager | None = None,
) -> Iterator[ObjectInfo]:
    """Every object under the target's prefix (+ `prefix`), fetched page by page as you iterate."""
    provider, t = resolve(target, manager)
    full = t.key(prefix) if prefix else t.prefix
    with provider.open(t) as session:
        yield from iter_session(session, full, page_size=page_size, retry=retry)


__all__ = [
    "DownloadReport",
    "FailedItem",
    "ProbeResult",
    "ProgressEvent",
    "RetryPolicy",
    "VerifyReport",
    "download",
    "iter_objects",
    "map_key",
    "open_session",
    "resolve",
    "upload",
    "verify",
]
