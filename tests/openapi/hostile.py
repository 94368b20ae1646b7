"""A scripted raw HTTP/1.1 server on 127.0.0.1:0, for server behaviour the emulator never shows.

Each request gets the next responder of the script (the last one repeats), on its own
connection: every answer says ``Connection: close``. Responders pace themselves on the
server's stop event, so stopping the server ends a drip at once and nothing sleeps blindly.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Self

Responder = Callable[[socket.socket, threading.Event], None]

_MAX_DRIPS = 400  # a bound on every drip loop, whatever the client does
_IO_TIMEOUT = 5.0


def envelope(action: str = "StartSnapshot", version: str = "2022-06-01", **error: object) -> bytes:
    """A success envelope, or an error one when `error` (Code, Message, ...) is given."""
    meta: dict[str, object] = {
        "RequestId": "20240101000000RAWSERVER000001",
        "Action": action,
        "Version": version,
    }
    if error:
        meta["Error"] = error
        return json.dumps({"ResponseMetadata": meta}).encode()
    return json.dumps({"ResponseMetadata": meta, "Result": "ok"}).encode()


def reply(
    status: int,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    *,
    content_type: str = "application/json",
) -> Responder:
    """A complete response."""

    def respond(conn: socket.socket, stop: threading.Event) -> None:
        head = [
            f"HTTP/1.1 {status} Whatever",
            f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}",
            "Connection: close",
        ]
        head += [f"{k}: {v}" for k, v in headers]
        conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)

    return respond


def _drip(conn: socket.socket, stop: threading.Event, interval: float, byte: bytes) -> None:
    for _ in range(_MAX_DRIPS):
        if stop.wait(interval):
            return
        try:
            conn.sendall(byte)
        except OSError:  # the client gave up and closed the connection
            return


def drip_body(interval: float) -> Responder:
    """A valid status line and headers announcing a large body, then one body byte per `interval`."""

    def respond(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
        _drip(conn, stop, interval, b" ")

    return respond


def drip_head(interval: float) -> Responder:
    """A status line, then one byte of a never-ending header per `interval`."""

    def respond(conn: socket.socket, stop: threading.Event) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        _drip(conn, stop, interval, b"a")

    return respond


def _read_request(conn: socket.socket) -> bool:
    """Read one request (head + Content-Length body); False if the client sent none."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return False
        body += chunk
    return True


class RawServer:
    """Serves `responders` in order; `arrivals` holds each request's `time.monotonic()`."""

    def __init__(self, *responders: Responder) -> None:
        if not responders:
            raise ValueError("give at least one responder")
        self._responders = responders
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.arrivals: list[float] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    @property
    def requests(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            with self._lock:
                self._threads.append(t)
            t.start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(_IO_TIMEOUT)
            try:
                if not _read_request(conn):
                    return
                with self._lock:
                    index = min(len(self.arrivals), len(self._responders) - 1)
                    self.arrivals.append(time.monotonic())
                self._responders[index](conn, self._stop)
            except OSError:
                return

    def __enter__(self) -> Self:
        t = threading.Thread(target=self._serve, daemon=True)
        with self._lock:
            self._threads.append(t)
        t.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(_IO_TIMEOUT)
        self._sock.close()
