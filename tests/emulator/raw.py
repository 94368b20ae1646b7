"""Raw-socket HTTP for emulator tests that need what httpx will not do: lie about Content-Length,
stream without finishing, drip a request head, hang up halfway, or send nothing at all.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from rtcsnap.testing.emulator import EmulatorClient

RECV_TIMEOUT = 5.0  # no answer within this is a failure, never a hang


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str:
        meta = self.json()["ResponseMetadata"]
        return str(meta["Error"]["Code"]) if "Error" in meta else "OK"


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=RECV_TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def head(method: str, query: Mapping[str, str], headers: Mapping[str, str], host: str) -> bytes:
    lines = [f"{method} /?{urlencode(query)} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if k.lower() != "host"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def signed_head(
    client: EmulatorClient, query: Mapping[str, str], body: bytes, extra: Mapping[str, str] | None = None
) -> bytes:
    """A POST head signed for `body` (which the caller may then send only part of).

    It announces `len(body)` as Content-Length unless `extra` says otherwise (or streams).
    """
    headers = client.signed_headers("POST", query, body)
    framing = {} if extra and "Transfer-Encoding" in extra else {"Content-Length": str(len(body))}
    return head("POST", query, {**headers, **framing, **(extra or {})}, client.host)


def read_response(sock: socket.socket) -> RawResponse:
    """One complete response (Content-Length framed, as the emulator always answers)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response head ({data!r})")
        data += chunk
    raw_head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = raw_head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return RawResponse(int(status_line.split()[1]), headers, body[:length])


def closed(sock: socket.socket) -> bool:
    """True once the server has closed the connection (reads EOF, or a reset)."""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def dripped_until_closed(sock: socket.socket, head: bytes, seconds: float = 5.0) -> float | None:
    """Send an unfinished request `head`, then a byte every 0.1 s; the seconds until the server
    closed the connection, or None if it still had not after `seconds`."""
    sock.sendall(head)
    sock.settimeout(0.1)
    started = time.monotonic()
    for _ in range(int(seconds / 0.1)):
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            pass
        except ConnectionResetError:
            return time.monotonic() - started
        try:
            sock.sendall(b"a")
        except OSError:
            return time.monotonic() - started
    return None


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"
