"""The emulator's control API: publish, unpublish and camera changes, room and task listings.

Mounted on the emulator's own port under `PREFIX` (a path no OpenAPI request uses: those are all
``/?Action=…``), so a demo needs one address and the CLI's ``--endpoint`` is the emulator's URL.

A plain ASGI callable with a small dispatch table, not a Starlette router: every answer, a 404
or 405 included, must be this API's JSON error shape, and the body must be read under the same
size and time limits as the OpenAPI front door (`rtcsnap.asgi.body`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from rtcsnap.asgi.body import BodyReader, BodyRefused, ClientGone
from rtcsnap.emulator.config import BODY_TIMEOUT, MAX_BODY_BYTES
from rtcsnap.emulator.envelope import body_error
from rtcsnap.emulator.rooms import KEEP, RoomBook, RoomError, StreamNotFound, StreamView

log = logging.getLogger(__name__)

PREFIX = "/_rtcsnap/v1"


class TaskStatusSource(Protocol):
    """Whatever knows the running snapshot tasks (the engine); one JSON-able dict per task."""

    def task_status(self) -> list[dict[str, Any]]: ...


class _Fail(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def stream_json(view: StreamView) -> dict[str, Any]:
    """A stream as the control API shows it (the CLI's ``list --json`` prints these)."""
    return {
        "user_id": view.user_id,
        "stream_type": view.stream_type,
        "width": view.width,
        "height": view.height,
        "publishing": view.publishing,
        "camera": view.camera,
        "source": None if view.source is None else str(view.source),
        "since": view.since,
        "text": None if view.text is None else view.text.text,
        "text_size": None if view.text is None else view.text.size,
        "text_from": None if view.text is None else view.text.start,
        "text_until": None if view.text is None else view.text.until,
    }


def _fields(data: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise _Fail(
            400,
            "InvalidField",
            f"body: unknown field(s) {', '.join(map(repr, unknown))} (allowed: {', '.join(allowed)})",
        )
    return data


def _source(value: Any) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not Path(value).is_absolute():
        raise _Fail(400, "InvalidField", "source: must be an absolute path (a string) or null")
    return Path(value)


_PUBLISH_FIELDS = ("stream_type", "width", "height", "source", "text", "text_size", "text_from", "text_until")

Handler = Callable[["ControlApi", list[str], BodyReader], Awaitable[dict[str, Any]]]


class ControlApi:
    """The control API over one `RoomBook` (and, once the engine exists, its task list)."""

    def __init__(self, book: RoomBook, tasks: TaskStatusSource | None = None) -> None:
        self.book = book
        self.tasks = tasks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope)
        reader = BodyReader(receive, request.headers, limit=MAX_BODY_BYTES, timeout=BODY_TIMEOUT)
        try:
            status, body = 200, await self._dispatch(request, reader)
        except ClientGone:
            return
        except _Fail as exc:
            status, body = exc.status, _error(exc.code, exc.message)
        except BodyRefused as refused:  # the body reader's 413 / 408
            err = body_error(refused)
            status, body = err.entry.http_status, _error(err.code, err.message)
        except StreamNotFound as exc:
            status, body = 404, _error("StreamNotFound", str(exc))
        except RoomError as exc:
            status, body = 400, _error("InvalidField", str(exc))
        except Exception:
            log.exception("control API failed on %s %s", request.method, request.url.path)
            status, body = 500, _error("InternalError", "The emulator failed to process the request.")
        response = JSONResponse(body, status_code=status)
        if status == 405:
            response.headers["allow"] = ", ".join(sorted(self._methods(_segments(scope))))
        if reader.unread:  # an unread body cannot be skipped safely: this connection is done
            response.headers["connection"] = "close"
        await response(scope, receive, send)

    async def _dispatch(self, request: Request, reader: BodyReader) -> dict[str, Any]:
        segments = _segments(request.scope)
        for method, pattern, handler in _ROUTES:
            params = _match(pattern, segments)
            if params is not None and method == request.method:
                return await handler(self, params, reader)
        if self._methods(segments):
            raise _Fail(405, "MethodNotAllowed", f"{request.method} is not allowed on {request.url.path}")
        raise _Fail(404, "NotFound", f"no control API route {request.url.path}")

    @staticmethod
    def _methods(segments: list[str] | None) -> set[str]:
        return {method for method, pattern, _ in _ROUTES if _match(pattern, segments) is not None}

    async def _body(self, reader: BodyReader, allowed: tuple[str, ...]) -> dict[str, Any]:
        raw = await reader.read()
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise _Fail(400, "InvalidJSON", f"body: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise _Fail(400, "InvalidJSON", "body: must be a JSON object")
        return _fields(data, allowed)

    # ------------------------------------------------------------------ routes

    async def _rooms(self, params: list[str], reader: BodyReader) -> dict[str, Any]:
        return {"rooms": [{"app_id": a, "room_id": r} for a, r in self.book.rooms()]}

    async def _room(self, params: list[str], reader: BodyReader) -> dict[str, Any]:
        app_id, room_id = params
        streams = [stream_json(v) for v in self.book.streams(app_id, room_id)]
        return {"app_id": app_id, "room_id": room_id, "streams": streams}

    async def _publish(self, params: list[str], reader: BodyReader) -> dict[str, Any]:
        body = await self._body(reader, _PUBLISH_FIELDS)
        view = self.book.publish(
            *params,
            stream_type=body.get("stream_type", 0),
            width=body.get("width"),
            height=body.get("height"),
            source=_source(body.get("source")),
            text=body.get("text", KEEP),  # absent: keep the stream's text; null: remove it
            text_size=body.get("text_size"),
            text_from=body.get("text_from"),
            text_until=body.get("text_until"),
        )
        return stream_json(view)

    async def _unpublish(self, params: list[str], reader: BodyReader) -> dict[str, Any]:
        body = await self._body(reader, ("stream_type",))
        return stream_json(self.book.unpublish(*params, stream_type=body.get("stream_type", 0)))

    async def _camera(self, params: list[str], reader: BodyReader) -> dict[str, Any]:
        body = await self._body(reader, ("stream_type", "on"))
        if "on" not in body:
            raise _Fail(400, "InvalidField", "on: is required (true or false)")
        app_id, room_id, user_id = params
        view = self.book.set_camera(
            app_id, room_id, user_id, body["on"], stream_type=body.get("stream_type", 0)
        )
        return stream_json(view)

    async def _tasks(self, params: list[str], reader: BodyReader) -> dict[str, Any]:
        return {"tasks": [] if self.tasks is None else self.tasks.task_status()}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _segments(scope: Scope) -> list[str] | None:
    """The URL-decoded path segments after `PREFIX` (None for a path outside it)."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode()
    path = raw.decode("latin-1")
    if not path.startswith(PREFIX + "/"):
        return None
    return [unquote(part) for part in path[len(PREFIX) + 1 :].split("/")]


def _match(pattern: tuple[str, ...], segments: list[str] | None) -> list[str] | None:
    """The `{…}` values if `segments` fit `pattern`, else None."""
    if segments is None or len(segments) != len(pattern):
        return None
    params: list[str] = []
    for want, got in zip(pattern, segments, strict=True):
        if want.startswith("{"):
            if not got:
                return None
            params.append(got)
        elif want != got:
            return None
    return params


_USER = ("rooms", "{app}", "{room}", "users", "{user}")
_ROUTES: tuple[tuple[str, tuple[str, ...], Handler], ...] = (
    ("GET", ("rooms",), ControlApi._rooms),
    ("GET", ("rooms", "{app}", "{room}"), ControlApi._room),
    ("POST", (*_USER, "publish"), ControlApi._publish),
    ("POST", (*_USER, "unpublish"), ControlApi._unpublish),
    ("POST", (*_USER, "camera"), ControlApi._camera),
    ("GET", ("tasks",), ControlApi._tasks),
)


__all__ = ["PREFIX", "ControlApi", "TaskStatusSource", "stream_json"]
