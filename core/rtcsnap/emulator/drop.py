"""Losing a response after the work is done (`Faults.drop_after_commit`), using ASGI alone.

ASGI has no "abort" message. What every server does support: the app announces a
Content-Length, sends only part of the body and returns; the server must then close the
connection, and the client sees it closed mid-response (httpx: `RemoteProtocolError`). No
server internals are touched, so it behaves the same under any ASGI server.

uvicorn logs "ASGI callable returned without completing response." at ERROR for that; the
filter below drops exactly that record, and only for requests this module dropped on purpose
(a context variable set in the app is still set when uvicorn logs, in the same task).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

_DROPPING: ContextVar[bool] = ContextVar("rtcsnap_emulator_dropping", default=False)
_UVICORN_INCOMPLETE = "ASGI callable returned without completing response"


class DroppedResponse(Response):
    """Status line, headers (full Content-Length) and the first half of the body; then nothing."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = bytes(self.body)
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
        _DROPPING.set(True)


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (_DROPPING.get() and str(record.msg).startswith(_UVICORN_INCOMPLETE))


def quiet_uvicorn_drops() -> None:
    """Idempotently install the filter on uvicorn's error logger."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietDrops) for f in logger.filters):
        logger.addFilter(_QuietDrops())


__all__ = ["DroppedResponse", "quiet_uvicorn_drops"]
