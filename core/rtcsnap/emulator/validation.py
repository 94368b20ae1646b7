"""Request bodies and queries -> request models, failures -> the documented business codes.

Parsing uses the shared models in lenient mode for the request's version: 2022-06-01 resets
invalid optional values to their defaults (spec §2.1), 2023-11-01 rejects them (spec §9 #7,
confirmed; the retired A7). Whatever lenient mode cannot repair becomes the most specific code
the error catalogue has.

Every body problem is a 400 with a documented code, never a 500 (the client retries 500s, so
a 500 for a broken body would be a retry storm): `json_body` refuses what Python's `json`
would otherwise accept or choke on — other encodings than UTF-8, NaN/Infinity and numbers that
overflow a float, lone surrogates (unencodable, so they would fail later when echoed), ints
over Python's 4,300-digit limit, and nesting deeper than `MAX_DEPTH` (a recursion bomb).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from rtcsnap.emulator.envelope import ApiError
from rtcsnap.errors import FieldError, ValidationError
from rtcsnap.models import ID_PATTERN, ApiVersion, RequestModel, RtcSnapLenientWarning
from rtcsnap.models.base import json_depth_exceeds

M = TypeVar("M", bound=RequestModel)

_ID = re.compile(ID_PATTERN)
_ACCOUNT_IDS = ("StorageConfig.TosConfig.AccountId", "StorageConfig.VeImageXConfig.AccountId")
_EMPTY_RULES = ("is required", "must not be empty")
# Lenient repairs are reported as warnings attributed to this module: in a server they are noise.
_QUIET = ("ignore", None, RtcSnapLenientWarning, re.compile(re.escape(__name__)), 0)

MAX_DEPTH = 32
"""Deepest nesting of arrays/objects accepted; real bodies nest 4 deep."""
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unmarshal(why: str) -> ApiError:
    return ApiError("InvalidParameter.Unmarshal", f"The request body is not valid JSON: {why}.")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]}{'...' if len(text) > 20 else ''} is out of range")
    return value


def json_body(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or BodyIsEmpty / Unmarshal (never another exception)."""
    if not body:
        raise ApiError("InvalidParameter.BodyIsEmpty", "The request body is empty.")
    try:
        text = body.decode("utf-8")  # strict: json.loads(bytes) would also take UTF-16/32 and surrogates
    except UnicodeDecodeError:
        raise ApiError("InvalidParameter.Unmarshal", "The request body is not UTF-8.") from None
    if json_depth_exceeds(text, MAX_DEPTH):
        raise _unmarshal(f"nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        raise _unmarshal(exc.msg) from None
    except RecursionError:
        raise _unmarshal(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # int over 4300 digits, NaN/Infinity, float overflow
        raise _unmarshal(str(exc).split(":")[0]) from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _unmarshal("a \\u escape is a lone UTF-16 surrogate") from None
    if not isinstance(data, dict):
        raise ApiError(
            "InvalidParameter.Unmarshal",
            f"The request body must be a JSON object (got {type(data).__name__}).",
        )
    return data


def query_fields(query: Mapping[str, Sequence[str]], names: Sequence[str]) -> dict[str, str]:
    """The named query parameters that are present (first value of each)."""
    return {name: query[name][0] for name in names if query.get(name)}


def app_id_of(data: Mapping[str, Any]) -> str:
    """AppId, checked first: the app decides what the caller may do with the rest."""
    value = data.get("AppId")
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        rule = "is required" if value is None else f"must match {ID_PATTERN}"
        raise ApiError("InvalidParameter.IllegalAppId", f"AppId {rule}.")
    return value


def parse(model: type[M], data: Mapping[str, Any], version: ApiVersion) -> M:
    """`model` from a wire dict, leniently, as `version` of the service would read it."""
    _silence_lenient_warnings()
    try:
        return model.from_wire(data, version=version, lenient=True)
    except ValidationError as exc:
        raise as_api_error(exc.errors) from None


def as_api_error(errors: Sequence[FieldError]) -> ApiError:
    """The most specific documented code for what is left after lenient repairs."""
    for fe in errors:
        if fe.path == "AppId":
            return ApiError("InvalidParameter.IllegalAppId", f"AppId {fe.rule}.")
    for fe in errors:
        if fe.path == "RoomId":
            return ApiError("InvalidParameter.IllegalRoomID", f"RoomId {fe.rule}.")
    for fe in errors:
        if fe.path in _ACCOUNT_IDS and fe.rule in _EMPTY_RULES:
            return ApiError("InvalidParameter.EmptyAccountId", f"{fe.path} {fe.rule}.")
    detail = "; ".join(str(fe) for fe in errors) or "invalid request"
    return ApiError("InvalidParameter", f"Invalid parameter: {detail}.")


def _silence_lenient_warnings() -> None:
    """Keep an ignore filter for our own lenient warnings at the front of the filter list.

    Re-checked per call because `warnings.catch_warnings` (pytest uses it around every test)
    restores the list afterwards; the filter matches warnings attributed to this module only.
    """
    filters = warnings.filters
    if not filters or filters[0] != _QUIET:
        warnings.filterwarnings("ignore", category=RtcSnapLenientWarning, module=re.escape(__name__))


__all__ = ["app_id_of", "as_api_error", "json_body", "parse", "query_fields"]
