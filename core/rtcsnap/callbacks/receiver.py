"""The callback receiver (issue 10 §1): a plain ASGI app that acknowledges only what is durable.

    app = Starlette(routes=[Mount("/rtc", app=rtcsnap.callbacks.app("sqlite:///snaps.db", secret))])

RTC counts an HTTP 200 as "delivered" and then forgets the event, so a 200 is a promise: it is
sent only after the group committer reports the event's transaction durable. Everything before
that is cheap refusal in the order that costs least and leaks least: route, declared size (the
body is not read), JSON, the envelope's fields (400 names the field), the signature (401), the
freshness window (401 ``replay``: a captured, correctly signed envelope must not be replayable
forever), then the snapshot records (400). Nothing refused is stored; each refusal is counted.

A plain ASGI callable rather than a Starlette app, for the same reasons as the emulator's: every
method and path gets a JSON answer, the body is read under our limits (`BodyReader`), and a client
that hangs up is an outcome, not a crash. Routes, relative to where the app is mounted:

- ``POST {path}``: a callback. 200 ``{"ok": true, "duplicate": bool}``; errors
  ``{"ok": false, "error": CODE, "message": TEXT}`` with 400/401/404/405/408/413/503.
- ``GET {path without trailing /}/metrics`` (``/metrics`` for the default path ``/``): the counters.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from rtcsnap import secrets
from rtcsnap.asgi.body import BodyReader, BodyTimeout, BodyTooLarge, ClientGone, check_declared
from rtcsnap.callbacks.records import (
    BadEnvelope,
    event_time_of,
    parse_body,
    parse_event,
    snapshot_records,
)
from rtcsnap.clock import Clock
from rtcsnap.protocol.callback_signature import verify

if TYPE_CHECKING:
    from rtcsnap.callbacks.hooks import HookRunner
    from rtcsnap.callbacks.index import GroupCommitter, SnapshotIndex

log = logging.getLogger(__name__)

METRICS = ("accepted", "duplicates", "bad_signature", "malformed", "too_large", "replayed", "failed")
"""Counter names: `accepted` counts new events committed, `duplicates` acknowledged repeats, and
the rest refusals (`failed`: the commit did not succeed, answered 503 so the service retries)."""

COMMIT_TIMEOUT = 4.0
"""Seconds a request waits for its commit before answering 503: RTC gives up after 5 s, and a
late 200 is worth nothing to it (the retry then finds the event stored: 200 duplicate)."""


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str, counter: str | None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.counter = status, code, message, counter


def _answer(status: int, body: Mapping[str, Any], *, close: bool = False) -> tuple[int, bytes, bool]:
    return status, json.dumps(body, separators=(",", ":")).encode(), close


class Receiver:
    """Verifies, dedupes and durably stores RTC callbacks; an ASGI 3 callable.

    `index` is an open `SnapshotIndex` (the caller closes it) or a URL (opened here, closed by
    `close`). `freshness` is the accepted distance in seconds between an event's EventTime and
    `clock()`, either way (None: no check; RTC retries within seconds, so minutes are plenty).
    `hooks` gets each new event's records after its commit (`HookRunner.submit` never blocks, and
    its failures never change the answer); the caller closes it.
    """

    def __init__(
        self,
        index: SnapshotIndex | str,
        secret: str,
        *,
        path: str = "/",
        max_body: int = 64 * 1024,
        freshness: float | None = 600.0,
        clock: Clock = time.time,
        body_timeout: float = 5.0,
        commit_timeout: float = COMMIT_TIMEOUT,
        hooks: HookRunner | None = None,
    ) -> None:
        if not isinstance(secret, str) or not secret:
            raise ValueError("receiver secret: must be a non-empty string")
        secrets.register(secret)
        if not isinstance(path, str) or not path.startswith("/"):
            raise ValueError(f"receiver path: must start with '/', not {path!r}")
        if isinstance(max_body, bool) or not isinstance(max_body, int) or max_body < 1:
            raise ValueError("receiver max_body: must be an integer number of bytes >= 1")
        if freshness is not None and not (
            isinstance(freshness, int | float)
            and not isinstance(freshness, bool)
            and 0 < freshness < math.inf
        ):
            raise ValueError("receiver freshness: must be a number of seconds > 0, or None")
        for name, value in (("body_timeout", body_timeout), ("commit_timeout", commit_timeout)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
                raise ValueError(f"receiver {name}: must be a number of seconds > 0")
        from rtcsnap.callbacks.index import GroupCommitter, SnapshotIndex

        self._owns_index = isinstance(index, str)
        self.index: SnapshotIndex = SnapshotIndex(index) if isinstance(index, str) else index
        self._committer: GroupCommitter = GroupCommitter(self.index)
        self._secret = secret
        self.path = path
        self.metrics_path = path.rstrip("/") + "/metrics"
        self.max_body = max_body
        self.freshness = None if freshness is None else float(freshness)
        self._clock = clock
        self._body_timeout = float(body_timeout)
        self._commit_timeout = float(commit_timeout)
        self.metrics: dict[str, int] = dict.fromkeys(METRICS, 0)
        self.hooks = hooks
        self._closed = False

    def __repr__(self) -> str:
        return f"Receiver(path={self.path!r}, freshness={self.freshness!r})"

    def close(self, timeout: float = 10.0) -> None:
        """Finish the queued commits, then close the index if it was opened here. Idempotent."""
        if self._closed:
            return
        self._closed = True
        try:
            self._committer.close(timeout)
        finally:
            if self._owns_index:
                self.index.close()

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # served on its own (uvicorn app:receiver): close on shutdown
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = Headers(scope=scope)
        reader = BodyReader(receive, headers, limit=self.max_body, timeout=self._body_timeout)
        try:
            status, body, close = await self._respond(scope, headers, reader)
        except ClientGone:
            return
        except Exception:  # a bug here must still be an answer (not a 200): RTC will retry
            log.exception("callback receiver failed on %s %s", scope.get("method"), scope.get("path"))
            self.metrics["failed"] += 1
            status, body, close = _answer(
                500, {"ok": False, "error": "internal", "message": "the receiver failed"}
            )
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if close or reader.unread:  # an unread body cannot be skipped safely: this connection is done
            raw_headers.append((b"connection", b"close"))
        if status == 405:
            allowed = b"GET" if self._route(scope) == self.metrics_path else b"POST"
            raw_headers.append((b"allow", allowed))
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return

    def _route(self, scope: Scope) -> str:
        """The path relative to where the app is mounted (Starlette's `Mount` sets root_path)."""
        path: str = scope.get("path", "")
        root: str = scope.get("root_path", "")
        if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
            path = path[len(root) :] or "/"
        return path

    async def _respond(self, scope: Scope, headers: Headers, reader: BodyReader) -> tuple[int, bytes, bool]:
        route, method = self._route(scope), scope.get("method", "")
        if route == self.metrics_path:  # never equal to `path` (it adds a segment)
            if method not in ("GET", "HEAD"):
                return _answer(405, {"ok": False, "error": "method_not_allowed", "message": "GET only"})
            return _answer(200, self.metrics)
        if route != self.path:
            return _answer(
                404, {"ok": False, "error": "not_found", "message": f"callbacks go to {self.path}"}
            )
        if method != "POST":
            return _answer(405, {"ok": False, "error": "method_not_allowed", "message": "POST only"})
        try:
            duplicate = await self._accept(headers, reader)
        except _Refusal as refusal:
            if refusal.counter is not None:
                self.metrics[refusal.counter] += 1
            log.info("callback refused (%d %s): %s", refusal.status, refusal.code, refusal.message)
            body = {"ok": False, "error": refusal.code, "message": refusal.message}
            return _answer(refusal.status, body, close=refusal.status == 413)
        self.metrics["duplicates" if duplicate else "accepted"] += 1
        return _answer(200, {"ok": True, "duplicate": duplicate})

    async def _accept(self, headers: Headers, reader: BodyReader) -> bool:
        """The checks of the module docstring, in order; True if the event was already stored."""
        try:
            check_declared(headers, self.max_body)
            body = await reader.read()
        except BodyTooLarge:
            raise _Refusal(413, "too_large", f"body: over {self.max_body} bytes", "too_large") from None
        except BodyTimeout as slow:
            raise _Refusal(408, "timeout", str(slow), "malformed") from None
        try:
            fields = parse_body(body)
            event = parse_event(fields, body.decode("utf-8"))
        except BadEnvelope as exc:
            raise _Refusal(400, "malformed", str(exc), "malformed") from None
        if not verify(fields, self._secret):
            raise _Refusal(401, "bad_signature", "Signature: missing or wrong", "bad_signature")
        if self.freshness is not None:
            skew = event_time_of(event.event_time).timestamp() - self._clock()
            if abs(skew) > self.freshness:
                where = "in the past" if skew < 0 else "in the future"
                raise _Refusal(
                    401,
                    "replay",
                    f"EventTime: {abs(skew):.0f} s {where}, outside the {self.freshness:g} s window",
                    "replayed",
                )
        try:
            records = snapshot_records(event)
        except BadEnvelope as exc:
            raise _Refusal(400, "malformed", str(exc), "malformed") from None
        try:
            # a timed-out wait cancels only the waiting, never the commit (a retry finds it stored)
            is_new = await asyncio.wait_for(
                self._committer.submit_async(event, records), self._commit_timeout
            )
        except Exception as exc:
            log.warning("callback %s not committed: %s", event.event_id, secrets.redact(repr(exc)))
            raise _Refusal(503, "unavailable", "the event could not be stored; retry", "failed") from None
        if is_new and self.hooks is not None:
            try:  # the event is durable: nothing the hooks do may turn its 200 into an error
                self.hooks.submit(event.event_id, records)
            except Exception as exc:
                log.warning("callback %s: hooks not queued: %s", event.event_id, secrets.redact(repr(exc)))
        return not is_new


def app(index_or_url: SnapshotIndex | str, secret: str, **kwargs: Any) -> Receiver:
    """A `Receiver` to mount in a Starlette/FastAPI service (``Mount("/rtc", app=app(...))``)."""
    return Receiver(index_or_url, secret, **kwargs)


__all__ = ["COMMIT_TIMEOUT", "METRICS", "Receiver", "app"]
