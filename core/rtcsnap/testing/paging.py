"""Key-listing pages for our servers that keep their own object stores (veImageX, Kodo): prefix,
delimiter, resume-after-key and a limit, as S3-style listings mean them, written once."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def list_page(
    objects: Iterable[tuple[str, T]], prefix: str, delimiter: str, after: str, limit: int
) -> tuple[list[tuple[str, T]], list[str], str | None]:
    """One page of the keys under `prefix` that sort after `after`: (objects, common prefixes,
    the last key the page covered when more follow — else None). A common prefix (a "directory"
    under `delimiter`) counts as one entry against `limit` and covers all of its keys."""
    found = sorted((k, o) for k, o in objects if k.startswith(prefix) and k > after)
    items: list[tuple[str, T]] = []
    groups: list[str] = []
    i, last = 0, after
    while i < len(found) and len(items) + len(groups) < limit:
        k, obj = found[i]
        cut = k.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0:
            group = k[: cut + len(delimiter)]
            groups.append(group)
            while i < len(found) and found[i][0].startswith(group):
                i += 1
            last = found[i - 1][0]
            continue
        items.append((k, obj))
        i, last = i + 1, k
    return items, groups, last if i < len(found) else None


__all__ = ["list_page"]
