"""The shared uvicorn set-up on both parsers: every request head has a deadline, an idle keep-alive
connection is closed, keep-alive still serves several requests, and the server is really on the
parser it was asked for (httptools refuses a method llhttp does not know; h11 passes it on)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest
from rtcsnap.asgi.server import HAS_HTTPTOOLS, BackgroundServer, Parser, protocol
from starlette.types import Receive, Scope, Send

from tests.emulator import raw

PARSERS: list[Parser] = ["h11", "httptools"]


async def echo_method(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/slow":  # an app slower than the head deadline (0.5 s)
        await asyncio.sleep(1.0)
    body = scope["method"].encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"%d" % len(body))]}
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture(params=PARSERS, scope="module")
def server(request: pytest.FixtureRequest) -> Iterator[BackgroundServer]:
    if request.param == "httptools" and not HAS_HTTPTOOLS:
        pytest.skip("httptools is not installed")
    with BackgroundServer(echo_method, header_timeout=0.5, keep_alive_timeout=0.5, parser=request.param) as s:
        yield s


def request(method: str, path: str = "/") -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode()


def read(sock: socket.socket) -> bytes:
    sock.settimeout(raw.RECV_TIMEOUT)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        ),
        0,
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return head.split(b"\r\n")[0] + b" " + rest


def test_an_idle_new_connection_is_closed(server: BackgroundServer) -> None:
    with raw.connect(server.url) as sock:
        started = time.monotonic()
        assert raw.closed(sock)
        assert time.monotonic() - started < 3.0


def test_a_dripped_request_head_is_closed(server: BackgroundServer) -> None:
    with raw.connect(server.url) as sock:
        took = raw.dripped_until_closed(sock, b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        assert took is not None and took < 3.0


def test_keep_alive_serves_several_requests_then_an_idle_connection_is_closed(
    server: BackgroundServer,
) -> None:
    with raw.connect(server.url) as sock:
        for _ in range(3):
            sock.sendall(request("POST"))
            assert read(sock) == b"HTTP/1.1 200 OK POST"
        started = time.monotonic()
        assert raw.closed(sock)
        assert time.monotonic() - started < 3.0


def test_the_deadline_covers_the_head_only_not_a_slow_answer(server: BackgroundServer) -> None:
    with raw.connect(server.url) as sock:
        sock.sendall(request("GET", "/slow"))
        assert read(sock) == b"HTTP/1.1 200 OK GET"


def test_each_parser_is_the_one_asked_for(server: BackgroundServer) -> None:
    with raw.connect(server.url) as sock:
        sock.sendall(request("BREW"))
        answer = read(sock)
    if server.parser == "httptools":
        assert answer.startswith(b"HTTP/1.1 400")  # llhttp does not know BREW
    else:
        assert answer == b"HTTP/1.1 200 OK BREW"


def test_bad_settings_are_refused_before_serving() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        protocol(0, 5)
    with pytest.raises(ValueError, match="parser"):
        protocol(parser="nginx")  # type: ignore[arg-type]
