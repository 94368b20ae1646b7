"""Storage operations built once for every provider: verify, list, download, upload."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from rtcsnap._lazy import lazy_attributes
from rtcsnap.providers.contract import ObjectInfo
from rtcsnap.providers.manager import ProviderManager
from rtcsnap.retry import RetryPolicy
from rtcsnap.storage.listing import DEFAULT_PAGE_SIZE, iter_session
from rtcsnap.storage.resolve import TargetLike, open_session, resolve
from rtcsnap.storage.verify import ProbeResult, VerifyReport, verify

# The transfer machinery (destination, journal and SQLite, checksums and crcmod) loads on first
# use (PEP 562): a listing or a verify should not pay for it (issue 7's listing benchmark).
# `verify` stays eager: its function shares the name of its submodule, which a lazy attribute
# would let the submodule shadow.
_LAZY = {
    "DownloadReport": "rtcsnap.storage.transfer",
    "Fetched": "rtcsnap.storage.fetcher",
    "Fetcher": "rtcsnap.storage.fetcher",
    "fetch": "rtcsnap.storage.fetcher",
    "FailedItem": "rtcsnap.storage.transfer",
    "ProgressEvent": "rtcsnap.storage.transfer",
    "download": "rtcsnap.storage.transfer",
    "upload": "rtcsnap.storage.transfer",
    "map_key": "rtcsnap.storage.destination",
    "map_path": "rtcsnap.storage.destination",
}

if TYPE_CHECKING:
    from rtcsnap.storage.destination import map_key, map_path
    from rtcsnap.storage.fetcher import Fetched, Fetcher, fetch
    from rtcsnap.storage.transfer import DownloadReport, FailedItem, ProgressEvent, download, upload


__getattr__ = lazy_attributes(__name__, _LAZY)


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
    "Fetched",
    "Fetcher",
    "ProbeResult",
    "ProgressEvent",
    "RetryPolicy",
    "VerifyReport",
    "download",
    "fetch",
    "iter_objects",
    "map_key",
    "map_path",
    "open_session",
    "resolve",
    "upload",
    "verify",
]
