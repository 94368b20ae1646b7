"""TargetStreams: which streams a snapshot task captures (spec §3.1)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator

from rtcsnap.errors import FieldError
from rtcsnap.models.base import LENIENT_DEFAULT, RuleViolation, WireModel, is_response
from rtcsnap.models.types import Id, StreamType, WireInt, enum_of

MAX_STREAMS = 17
"""StartSnapshot captures at most this many streams (SEED, D155125)."""


class Stream(WireModel):
    """One published stream: the user and main (camera) or screen-share stream."""

    user_id: Id
    stream_type: Annotated[StreamType, enum_of(StreamType), LENIENT_DEFAULT] = StreamType.MAIN
    index: WireInt | None = None
    """Layout index inherited from the mix schema; no effect on snapshots, must be unique."""


class Streams(WireModel):
    """``{"StreamList": [...]}``; empty or absent means every stream in the room."""

    stream_list: list[Stream] = Field(default_factory=list)

    @classmethod
    def coerce_input(cls, value: Any) -> Any:
        """A bare list of streams is shorthand for ``{"StreamList": [...]}``."""
        return {"StreamList": list(value)} if isinstance(value, list | tuple) else value

    @field_validator("stream_list")
    @classmethod
    def _rules(cls, streams: list[Stream], info: ValidationInfo) -> list[Stream]:
        if is_response(info):
            return streams
        if len(streams) > MAX_STREAMS:
            raise RuleViolation(f"at most {MAX_STREAMS} streams (got {len(streams)})")
        first: dict[int, int] = {}
        dupes: list[FieldError] = []
        for i, s in enumerate(streams):
            if s.index is None:
                continue
            if s.index in first:
                rule = f"must be unique within StreamList ({s.index} already used by [{first[s.index]}])"
                dupes.append(FieldError(f"[{i}].Index", rule))
            else:
                first[s.index] = i
        if dupes:
            raise RuleViolation(dupes)
        return streams
