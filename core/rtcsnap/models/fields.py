"""The keyword fields of each request, as `TypedDict`s for ``**fields: Unpack[...]``.

The clients' ``start(app_id=…, room_id=…, …)`` build the request model from keywords; typing
those keywords lets mypy (and editors) catch ``start(app_idd=…)`` or a wrong value type before
anything runs, and lets ``help()`` name the model whose fields they are. Values may be models or
the plain dicts/lists the models accept. Kept in step with the models by
tests/test_public_api.py, which compares these keys with the models' fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from rtcsnap.models.image import ImageConfig
from rtcsnap.models.storage import StorageConfig
from rtcsnap.models.streams import Stream, Streams


class GetTaskFields(TypedDict, total=False):
    """`GetSnapshotTaskRequest`'s fields."""

    app_id: str
    room_id: str
    task_id: str


class TaskFields(GetTaskFields, total=False):
    """The fields naming a task (`StopSnapshotRequest`'s)."""

    business_id: str | None


class UpdateFields(TaskFields, total=False):
    """`UpdateSnapshotRequest`'s fields."""

    image_config: ImageConfig | Mapping[str, Any] | None


class StartFields(UpdateFields, total=False):
    """`StartSnapshotRequest`'s fields (a superset of every other request's)."""

    target_streams: Streams | Sequence[Stream | Mapping[str, Any]] | Mapping[str, Any] | None
    max_idle_time: int
    storage_config: StorageConfig | Mapping[str, Any]


__all__ = ["GetTaskFields", "StartFields", "TaskFields", "UpdateFields"]
