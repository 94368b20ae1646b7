"""The response envelope of spec §5.5, and the error type every check raises.

One place builds every answer, so success and error envelopes cannot drift apart: CodeN and the
HTTP status come from the shared catalogue (`rtcsnap.protocol.codes`), never from a local table.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any

from starlette.responses import Response

from rtcsnap.asgi.body import BodyRefused, BodyTooLarge
from rtcsnap.protocol import api, codes
from rtcsnap.protocol.codes import ErrorCode

JSON = "application/json; charset=utf-8"


class ApiError(Exception):
    """Stop processing and answer with this catalogue code (status and CodeN from the catalogue)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.entry: ErrorCode = codes.lookup(code)
        self.message = message

    @property
    def code(self) -> str:
        return self.entry.code


def body_error(refused: BodyRefused) -> ApiError:
    """The catalogue error for a body the shared reader refused (413 or 408, spec-shaped)."""
    if isinstance(refused, BodyTooLarge):
        return ApiError("RequestEntityTooLarge", f"{refused}; snapshot requests are a few KiB.")
    return ApiError("RequestTimeout", str(refused))


class RequestIds:
    """RequestIds shaped like the real ones: UTC ``YYYYmmddHHMMSS`` + 16 upper-case hex digits.

    The hex part is a per-instance random prefix plus a counter, so ids never repeat within an
    emulator and practically never across emulators.
    """

    def __init__(self) -> None:
        self._prefix = secrets.token_hex(3).upper()
        self._counter = itertools.count()

    def new(self, now: float) -> str:
        stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime(now))
        return f"{stamp}{self._prefix}{next(self._counter) % 16**10:010X}"


def metadata(request_id: str, action: str, version: str, region: str) -> dict[str, Any]:
    """`ResponseMetadata` without Error; Action/Version echo the request ("" when missing)."""
    return {
        "RequestId": request_id,
        "Action": action,
        "Version": version,
        "Service": api.SERVICE,
        "Region": region,
    }


def success_body(meta: dict[str, Any], result: Any) -> dict[str, Any]:
    return {"ResponseMetadata": meta, "Result": result}


def error_body(meta: dict[str, Any], error: ApiError) -> dict[str, Any]:
    """Error envelope: no Result; CodeN only for codes the catalogue gives one (gateway codes)."""
    info: dict[str, Any] = {}
    if error.entry.code_n is not None:
        info["CodeN"] = error.entry.code_n
    info.update(Code=error.code, Message=error.message)
    return {"ResponseMetadata": {**meta, "Error": info}}


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(body: dict[str, Any], status: int) -> Response:
    return Response(encode(body), status_code=status, media_type=JSON)


__all__ = ["ApiError", "RequestIds", "error_body", "json_response", "metadata", "success_body"]
