"""The object key of each image the engine stores.

The real service's key layout is undocumented (spec §3.5, §9 #2): receivers must read the key
from the callback. The emulator's default is our guess, assumption A30 in docs/assumptions.md,
and configurable (`--object-key-template`) so tests can prove nothing depends on it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from rtcsnap.errors import ConfigurationError

DEFAULT_TEMPLATE = "{AppId}/{RoomId}/{TaskId}/{UserId}_{StreamType}_{TimeStamp}.{ext}"
FIELDS = ("AppId", "RoomId", "TaskId", "BusinessId", "UserId", "StreamType", "Index", "TimeStamp", "ext")
"""Placeholders a template may use; TimeStamp is the capture time in Unix milliseconds."""


@dataclass(frozen=True)
class KeyTemplate:
    """A validated template: unknown placeholders, format specs and missing TimeStamp are refused
    up front, so no task fails on its first image."""

    template: str = DEFAULT_TEMPLATE

    def __post_init__(self) -> None:
        used: set[str] = set()
        try:
            parsed = list(string.Formatter().parse(self.template))
        except ValueError as exc:
            raise ConfigurationError(f"--object-key-template {self.template!r}: {exc}") from None
        for _, name, spec, conversion in parsed:
            if name is None:
                continue
            if name not in FIELDS:
                raise ConfigurationError(
                    f"--object-key-template: unknown placeholder {{{name}}} (known: {', '.join(FIELDS)})"
                )
            if spec or conversion:
                raise ConfigurationError(
                    f"--object-key-template: {{{name}}} takes no format spec or conversion"
                )
            used.add(name)
        # Without the time every image of a stream would overwrite the previous one.
        if "TimeStamp" not in used:
            raise ConfigurationError("--object-key-template: must contain {TimeStamp}")
        if self.template.startswith("/") or "//" in self.template:
            raise ConfigurationError("--object-key-template: no leading '/' and no empty path segment")

    def render(
        self,
        *,
        app_id: str,
        room_id: str,
        task_id: str,
        business_id: str | None,
        user_id: str,
        stream_type: int,
        index: int | None,
        timestamp_ms: int,
        ext: str,
    ) -> str:
        return self.template.format(
            AppId=app_id,
            RoomId=room_id,
            TaskId=task_id,
            BusinessId=business_id or "",
            UserId=user_id,
            StreamType=stream_type,
            Index="" if index is None else index,
            TimeStamp=timestamp_ms,
            ext=ext,
        )


__all__ = ["DEFAULT_TEMPLATE", "FIELDS", "KeyTemplate"]
