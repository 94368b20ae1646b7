"""Receiving RTC callbacks: parse, verify, store durably, index (issue 10).

    from rtcsnap.callbacks import app
    receiver = app("sqlite:///snapshots.db", secret)      # an ASGI app: mount it, or serve it
    # rtcsnap callbacks serve --db snapshots.db --secret …  (the same, standalone)

Attributes load on first use (PEP 562): the records need no database driver, the receiver no CLI.
"""

from typing import TYPE_CHECKING

from rtcsnap._lazy import lazy_attributes

_LAZY = {
    "app": "rtcsnap.callbacks.receiver",
    "Receiver": "rtcsnap.callbacks.receiver",
    "SnapshotIndex": "rtcsnap.callbacks.index",
    "GroupCommitter": "rtcsnap.callbacks.index",
    "SnapshotIndexError": "rtcsnap.callbacks.index",
    "HookRunner": "rtcsnap.callbacks.hooks",
    "ImageSource": "rtcsnap.callbacks.images",
    "Manifest": "rtcsnap.callbacks.manifest",
    "manifest": "rtcsnap.callbacks.manifest",
    "Event": "rtcsnap.callbacks.records",
    "SnapshotRecord": "rtcsnap.callbacks.records",
    "BadEnvelope": "rtcsnap.callbacks.records",
}

if TYPE_CHECKING:
    from rtcsnap.callbacks.hooks import HookRunner
    from rtcsnap.callbacks.images import ImageSource
    from rtcsnap.callbacks.index import GroupCommitter, SnapshotIndex, SnapshotIndexError
    from rtcsnap.callbacks.manifest import Manifest, manifest
    from rtcsnap.callbacks.receiver import Receiver, app
    from rtcsnap.callbacks.records import BadEnvelope, Event, SnapshotRecord

__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "BadEnvelope",
    "Event",
    "GroupCommitter",
    "HookRunner",
    "ImageSource",
    "Manifest",
    "Receiver",
    "SnapshotIndex",
    "SnapshotIndexError",
    "SnapshotRecord",
    "app",
    "manifest",
]
