"""Reading a request body the way a front door must: bounded in size and in time.

Why not `await request.body()`: it reads whatever the client declares (a 100 MB unsigned body
was held whole before its 401), waits as long as the client drips, and turns a client that
hung up into an exception the server logs as a crash. Here a declared `Content-Length` over
the limit is refused before one byte is read, a streamed (chunked) body is cut off at the
limit, the whole body has a deadline, and a disconnect is just the end of the story.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from starlette.types import Receive


class ClientGone(Exception):
    """The client disconnected before its request was complete."""


class BodyRefused(Exception):
    """The body was not accepted; each server answers it in its own error format."""

    status = 400


class BodyTooLarge(BodyRefused):
    """Declared or streamed over the limit (HTTP 413)."""

    status = 413

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than {limit} bytes.")
        self.limit = limit


class BodyTimeout(BodyRefused):
    """The whole body did not arrive in time (HTTP 408)."""

    status = 408

    def __init__(self, timeout: float) -> None:
        super().__init__(f"The request body did not arrive within {timeout:g} s.")
        self.timeout = timeout


def declared_length(headers: Mapping[str, str]) -> int | None:
    """`Content-Length` as a number (the HTTP parser has already refused malformed ones)."""
    value = headers.get("content-length")
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def has_body(headers: Mapping[str, str]) -> bool:
    """Whether the request announces a body (so leaving it unread means closing the connection)."""
    return bool(declared_length(headers)) or "transfer-encoding" in headers


def check_declared(headers: Mapping[str, str], limit: int) -> None:
    """Refuse a body announced as too large before reading any of it."""
    length = declared_length(headers)
    if length is not None and length > limit:
        raise BodyTooLarge(limit)


class BodyReader:
    """One request's body, read at most once, within `limit` bytes and `timeout` seconds."""

    def __init__(self, receive: Receive, headers: Mapping[str, str], *, limit: int, timeout: float) -> None:
        self._receive = receive
        self._headers = headers
        self.limit = limit
        self.timeout = timeout
        self.complete = False
        """True once the whole body was received (then the connection can be kept alive)."""
        self._body: bytes | None = None

    @property
    def unread(self) -> bool:
        """A body was announced and not (completely) read: the connection must be closed."""
        return not self.complete and has_body(self._headers)

    async def read(self) -> bytes:
        if self._body is not None:
            return self._body
        check_declared(self._headers, self.limit)
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    message = await self._receive()
                    if message["type"] == "http.disconnect":
                        raise ClientGone
                    chunk: bytes = message.get("body", b"")
                    size += len(chunk)
                    if size > self.limit:
                        raise BodyTooLarge(self.limit)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise BodyTimeout(self.timeout) from None
        self.complete = True
        self._body = b"".join(chunks)
        return self._body


__all__ = [
    "BodyReader",
    "BodyRefused",
    "BodyTimeout",
    "BodyTooLarge",
    "ClientGone",
    "check_declared",
    "declared_length",
    "has_body",
]
