"""Lazy listing across pages: one page in memory at a time, and no endless loops.

Some servers omit the next marker or hand back the same cursor (sdk-lab §7.2); a provider
that passes such a cursor through would make a naive loop spin forever. The guard here
refuses a cursor seen in the last few pages and a long run of empty pages.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator

from rtcsnap.errors import Reason, StorageError
from rtcsnap.providers.contract import ObjectInfo, Session
from rtcsnap.retry import RetryPolicy

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 1000
MAX_EMPTY_PAGES = 10
_RECENT_CURSORS = 16


def iter_session(
    session: Session,
    prefix: str = "",
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    retry: RetryPolicy | None = None,
) -> Iterator[ObjectInfo]:
    """Yield every object under `prefix` (a full key prefix), page by page."""
    policy = retry or RetryPolicy()
    cursor: str | None = None
    recent: deque[str] = deque(maxlen=_RECENT_CURSORS)
    empty = 0
    while True:
        page = policy.call(lambda at=cursor: session.list_page(prefix, at, page_size))  # type: ignore[misc]
        log.debug(
            "listed %d objects under %r (more: %s)", len(page.items), prefix, page.next_cursor is not None
        )
        yield from page.items
        nxt = page.next_cursor
        if nxt is None:
            return
        if nxt == cursor or nxt in recent:
            raise StorageError(
                Reason.OTHER,
                f"listing of {prefix!r} did not advance: the server returned cursor {nxt!r} again",
                provider=session.provider.name,
                operation="list",
            )
        empty = 0 if page.items else empty + 1
        if empty >= MAX_EMPTY_PAGES:
            raise StorageError(
                Reason.OTHER,
                f"listing of {prefix!r} returned {empty} empty pages in a row; giving up",
                provider=session.provider.name,
                operation="list",
            )
        recent.append(nxt)
        cursor = nxt


__all__ = ["DEFAULT_PAGE_SIZE", "iter_session"]
