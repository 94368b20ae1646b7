"""A task's manifest (issue 10 §3): what the callbacks say a task stored, reconciled with the bucket.

The callbacks are the only reliable record of where a task's images are (the service's key layout
is undocumented, spec §3.5), so the index decides which keys belong to a task and the listing only
confirms them:

* ``present``: indexed and listed with the announced size;
* ``missing``: indexed but not listed (``reason`` ``not_in_storage``), or listed with another size
  (``size_mismatch``, both sizes given) — an image the task announced that storage does not hold;
* ``unindexed``: listed under the task's prefix but announced by no callback (a lost callback,
  or another writer's object).

Which part of the bucket is listed: `prefix` when given (relative to the target, as for ``ls``),
else the longest common ``/``-terminated prefix of the task's indexed keys. Nothing about the key
layout is assumed beyond that: if the keys share no directory the whole target is listed, and
objects of other tasks that happen to live under the common prefix count as ``unindexed``. The
target's own prefix does not filter indexed keys: RTC writes at the bucket root (StorageConfig has
no prefix). veImageX rows carry a ``VeImageXUri`` (``BUCKET/KEY``); they match on the key part.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from rtcsnap.errors import ConfigurationError
from rtcsnap.storage.listing import iter_session
from rtcsnap.storage.resolve import TargetLike, resolve

if TYPE_CHECKING:
    from rtcsnap.callbacks.index import SnapshotIndex
    from rtcsnap.providers.manager import ProviderManager

Status = Literal["present", "missing", "unindexed"]
Layout = Literal["stream", "key"]
NOT_IN_STORAGE = "not_in_storage"
SIZE_MISMATCH = "size_mismatch"
EXTENSIONS = {0: "jpg", 1: "png"}
"""ImageConfig.Format -> file extension for the stream layout (spec §3.2: 0 JPEG, 1 PNG)."""
_PAGE = 10_000


def record_key(record: Mapping[str, Any]) -> str:
    """The object key an index row names: `object_key`, or the key part of a veImageX URI
    (``BUCKET/KEY``: everything after the first ``/``)."""
    key = record.get("object_key")
    if key:
        return str(key)
    uri = str(record.get("veimagex_uri") or "")
    return uri.split("/", 1)[1] if "/" in uri else uri


def task_records(index: SnapshotIndex, app_id: str, room_id: str, task_id: str) -> Iterator[dict[str, Any]]:
    """Every snapshot row of the task, first announcement of each key only (ordered by time)."""
    seen: set[str] = set()
    after: str | None = None
    while True:
        page = index.snapshots(app_id=app_id, room_id=room_id, task_id=task_id, limit=_PAGE, after=after)
        for row in page.items:
            key = record_key(row)
            if key not in seen:
                seen.add(key)
                yield row
        if page.next is None:
            return
        after = page.next


def common_prefix(keys: list[str]) -> str:
    """The longest ``/``-terminated prefix all `keys` share ("" when they share no directory)."""
    if not keys:
        return ""
    lo, hi = min(keys), max(keys)  # every key shares what the extremes share, character by character
    n = next((i for i, (a, b) in enumerate(zip(lo, hi, strict=False)) if a != b), min(len(lo), len(hi)))
    shared = lo[:n]
    return shared[: shared.rfind("/") + 1]


def local_path(record: Mapping[str, Any], layout: Layout = "stream") -> str:
    """Where a task download puts this image under DEST: ``USER/STREAMTYPE/TIMESTAMP.EXT`` (the
    extension from the announced format, else the key's own), or the object key (`layout` "key")."""
    key = record_key(record)
    if layout == "key":
        return key
    ext = EXTENSIONS.get(record.get("format"))  # type: ignore[arg-type]
    if ext is None:
        name = key.rsplit("/", 1)[-1]
        ext = name.rsplit(".", 1)[1] if "." in name else "img"
    return f"{record['user_id']}/{int(record['stream_type'])}/{int(record['timestamp_ms'])}.{ext}"


@dataclass(frozen=True)
class ManifestEntry:
    """One object of the manifest: indexed (`record` is its index row), listed, or both."""

    key: str
    status: Status
    reason: str | None = None
    """`missing` only: ``not_in_storage`` or ``size_mismatch``."""
    indexed_size: int | None = None
    stored_size: int | None = None
    record: Mapping[str, Any] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "key": self.key,
            "status": self.status,
            "reason": self.reason,
            "indexed_size": self.indexed_size,
            "stored_size": self.stored_size,
        }
        if self.record is not None:
            for name in ("user_id", "stream_type", "stream_index", "timestamp_ms", "format", "event_id"):
                out[name] = self.record.get(name)
        return out


@dataclass(frozen=True)
class Manifest:
    app_id: str
    room_id: str
    task_id: str
    target: str
    """The target URL (never credentials)."""
    prefix: str | None
    """The full key prefix that was listed; None when nothing was (no indexed key, no `prefix`)."""
    entries: tuple[ManifestEntry, ...]

    def _of(self, status: Status) -> list[ManifestEntry]:
        return [e for e in self.entries if e.status == status]

    @property
    def present(self) -> list[ManifestEntry]:
        return self._of("present")

    @property
    def missing(self) -> list[ManifestEntry]:
        return self._of("missing")

    @property
    def unindexed(self) -> list[ManifestEntry]:
        return self._of("unindexed")

    @property
    def counts(self) -> dict[str, int]:
        missing = self.missing
        return {
            "indexed": len(self.present) + len(missing),
            "present": len(self.present),
            "missing": len(missing),
            "size_mismatch": sum(e.reason == SIZE_MISMATCH for e in missing),
            "unindexed": len(self.unindexed),
        }

    @property
    def complete(self) -> bool:
        """Every announced image is in storage with its announced size."""
        return not self.missing

    def to_json(self) -> dict[str, Any]:
        return {
            "task": {"app_id": self.app_id, "room_id": self.room_id, "task_id": self.task_id},
            "target": self.target,
            "prefix": self.prefix,
            "counts": self.counts,
            "objects": [e.to_json() for e in self.entries],
        }


def manifest(
    index: SnapshotIndex,
    app_id: str,
    room_id: str,
    task_id: str,
    target: TargetLike,
    *,
    prefix: str | None = None,
    manager: ProviderManager | None = None,
) -> Manifest:
    """Reconcile the task's indexed images with the storage listing (see the module docstring for
    the listing prefix). Raises `ConfigurationError` when the callbacks put the task's images in
    another bucket or veImageX service than `target`'s: that listing could confirm nothing."""
    provider, t = resolve(target, manager)
    rows = list(task_records(index, app_id, room_id, task_id))
    places = {str(r.get("bucket") or r.get("veimagex_service_id") or "") for r in rows} - {""}
    if places and t.bucket not in places:
        raise ConfigurationError(
            f"manifest: the callbacks of task {app_id}/{room_id}/{task_id} name "
            f"{', '.join(sorted(places))}, not the target's {t.bucket!r}"
        )
    indexed = {record_key(r): r for r in rows}
    listed: dict[str, int] = {}
    listing: str | None
    if prefix is not None:
        listing = t.key(prefix) if prefix else t.prefix
    elif indexed:
        listing = common_prefix(list(indexed))
    else:
        listing = None
    if listing is not None:
        with provider.open(t) as session:
            for info in iter_session(session, listing):
                listed[info.key] = info.size
    entries: list[ManifestEntry] = []
    for key, row in indexed.items():
        size = int(row["size"])
        stored = listed.get(key)
        if stored is None:
            entries.append(ManifestEntry(key, "missing", NOT_IN_STORAGE, size, None, row))
        elif stored != size:
            entries.append(ManifestEntry(key, "missing", SIZE_MISMATCH, size, stored, row))
        else:
            entries.append(ManifestEntry(key, "present", None, size, stored, row))
    for key, stored in listed.items():
        if key not in indexed:
            entries.append(ManifestEntry(key, "unindexed", None, None, stored))
    return Manifest(app_id, room_id, task_id, t.url, listing, tuple(entries))


__all__ = [
    "EXTENSIONS",
    "NOT_IN_STORAGE",
    "SIZE_MISMATCH",
    "Layout",
    "Manifest",
    "ManifestEntry",
    "Status",
    "common_prefix",
    "local_path",
    "manifest",
    "record_key",
    "task_records",
]
