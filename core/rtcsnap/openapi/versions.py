"""Which API version a call uses, and its request validated for that version.

The order is the call's `api_version=`, else the version the request model was explicitly built
for, else the client's default. "Explicitly" means the model's `api_version` was set by whoever
built it (`model_fields_set`): a model parsed with `from_wire(body)` and no `version=` names none,
so a client's `api_version` decides what it is sent as (`tests/openapi/test_from_wire_version.py`).
A request built for another version is re-validated for the one used, because some field ranges
differ per version. Kept apart from the clients so `prepare` (`--dry-run`) and every operation
negotiate the same way (`operations.call_for`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from rtcsnap import errors as e
from rtcsnap.models import ApiVersion
from rtcsnap.models.requests import RequestModel

R = TypeVar("R", bound=RequestModel)


def as_version(v: str | ApiVersion) -> ApiVersion:
    """`v` as an `ApiVersion`; a `ValidationError` on ``Version`` naming the known ones if it is not."""
    try:
        return ApiVersion(v)
    except ValueError:
        raise e.ValidationError(
            f"must be one of {', '.join(x.value for x in ApiVersion)} (got {v!r})", path="Version"
        ) from None


def negotiate(
    model: type[R],
    request: R | None,
    api_version: str | ApiVersion | None,
    fields: Mapping[str, Any],
    default: ApiVersion,
) -> tuple[R, ApiVersion]:
    """The validated request for the version this call uses (call > request's own > `default`).

    Either `request` (a model) or `fields` (its keyword fields) is given, never both.
    """
    if request is not None and fields:
        raise TypeError("pass either a request model or keyword fields, not both")
    if request is None:
        version = as_version(api_version) if api_version is not None else default
        return model(api_version=version, **fields), version
    if api_version is not None:
        version = as_version(api_version)
    elif "api_version" in request.model_fields_set:
        version = request.api_version
    else:
        version = default
    if version != request.api_version:  # re-validate: some ranges differ per version
        request = model.from_wire(request.to_wire(), version=version)
    return request, version


__all__ = ["as_version", "negotiate"]
