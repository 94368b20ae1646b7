"""Fault injection for `LocalS3Server`: a small WSGI middleware driven from tests.

Sits in front of moto and rewrites S3 traffic on demand. Every rule matches on the request
method (``"*"`` = any) and on a substring of the decoded request path (``/bucket/key``; ``""``
matches everything), and applies to the next ``times`` matching requests (``None`` = until
`Faults.clear`; the default for `corrupt` and `slow`, while `fail` and `drop_next_token` default
to once). Control traffic (``/moto-api/*`` and IAM/STS calls) is never touched or counted.

    server.faults.fail("GET", "snap-1.jpg", status=503, times=2)    # 2 x SlowDown, then normal
    server.faults.corrupt("snap-1.jpg")                             # every GET: a byte flipped, headers kept
    server.faults.drop_next_token()                                 # truncated list without a marker
    server.faults.slow("big.jpg", 5.0)                              # half the body, a 5 s stall, the rest
    server.faults.truncate("snap-2.jpg")                            # full headers, half the body, closed
    server.faults.reset("GET", "snap-3.jpg")                        # connection closed, no response
    assert server.faults.requests["PUT"] == 3

Plain WSGI and the standard library only, so it can wrap any in-process test server.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal
from xml.sax.saxutils import escape

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Headers = list[tuple[str, str]]
Kind = Literal["fail", "corrupt", "drop_token", "slow", "truncate", "reset"]

CONTROL_SCOPES = ("/iam/aws4_request", "/sts/aws4_request")
"""SigV4 credential scopes of control traffic (user/key setup), which bypasses S3 routing and faults."""

_TOKEN_RE = re.compile(rb"<(NextContinuationToken|NextMarker)>[^<]*</\1>")
_MESSAGES = {
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error.",
}
_REASONS = {
    301: "Moved Permanently",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def is_control(environ: dict[str, Any]) -> bool:
    """True for moto's own API and for IAM/STS-signed requests."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    return environ.get("PATH_INFO", "").startswith("/moto-api") or any(s in auth for s in CONTROL_SCOPES)


def request_path(environ: dict[str, Any]) -> str:
    """The decoded request path (WSGI stores it as latin-1 of the UTF-8 bytes)."""
    raw: str = environ.get("PATH_INFO", "")
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


@dataclass
class Rule:
    kind: Kind
    method: str
    key: str
    remaining: int | None
    status: int = 503
    code: str = "SlowDown"
    message: str = ""
    seconds: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.key in path


@dataclass(frozen=True)
class Injected:
    """An injected error answer, for a server dialect to render in its own shape (`ErrorRenderer`)."""

    status: int
    code: str
    message: str
    path: str
    request_id: str
    head: bool
    """A HEAD request: the answer must carry no body."""


ErrorRenderer = Callable[[Injected], tuple[Headers, bytes]]
"""(headers, body) of an injected error; Content-Length is set by `Faults`."""


def s3_error(err: Injected) -> tuple[Headers, bytes]:
    """S3's XML error shape (the default)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(err.code)}</Code><Message>{escape(err.message)}</Message>"
        f"<Resource>{escape(err.path)}</Resource><RequestId>{err.request_id}</RequestId></Error>"
    ).encode()
    return [("Content-Type", "application/xml"), ("x-amz-request-id", err.request_id)], body


class Faults:
    """WSGI middleware holding the fault rules; thread-safe (the server is threaded).

    `render_error` shapes injected errors the way the wrapped server's dialect answers (TOS's
    JSON, OSS's XML with ``x-oss-request-id``, Kodo's ``{"error": …}``), so an SDK reports an
    injected code exactly as it would a real one."""

    def __init__(self, app: WSGIApp, render_error: ErrorRenderer = s3_error) -> None:
        self.app = app
        self.render_error = render_error
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._log: list[tuple[str, str]] = []
        self._ids = itertools.count(1)
        self._release = threading.Event()

    # -- test API ------------------------------------------------------------------------

    def fail(
        self,
        method: str = "*",
        key_substring: str = "",
        status: int = 503,
        times: int | None = 1,
        code: str = "SlowDown",
        message: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with an S3 XML error instead of calling moto."""
        msg = message or _MESSAGES.get(code, f"Injected fault {code}")
        self._add(Rule("fail", method.upper(), key_substring, times, status, code, msg))

    def corrupt(self, key_substring: str = "", times: int | None = None) -> None:
        """Flip bytes in matching GET bodies; Content-Length and ETag stay as moto sent them."""
        self._add(Rule("corrupt", "GET", key_substring, times))

    def drop_next_token(self, times: int | None = 1) -> None:
        """Strip <NextContinuationToken>/<NextMarker> from truncated list responses (IsTruncated stays true)."""
        self._add(Rule("drop_token", "GET", "", times))

    def slow(self, key_substring: str, seconds: float, times: int | None = None) -> None:
        """Send headers and half the body of matching GETs, stall `seconds`, then send the rest."""
        self._add(Rule("slow", "GET", key_substring, times, seconds=seconds))

    def truncate(self, key_substring: str = "", times: int | None = 1) -> None:
        """Send a matching GET's headers (Content-Length of the whole body) and half the body, then
        close the connection: what a reset mid-transfer looks like to the client."""
        self._add(Rule("truncate", "GET", key_substring, times))

    def reset(self, method: str = "*", key_substring: str = "", times: int | None = 1) -> None:
        """Close the connection of matching requests without sending any response."""
        self._add(Rule("reset", method.upper(), key_substring, times))

    def clear(self) -> None:
        """Drop every rule, zero the counters and release responses stalled by `slow`."""
        with self._lock:
            self._rules.clear()
            self._log.clear()
            self._release.set()
            self._release = threading.Event()

    @property
    def requests(self) -> Counter[str]:
        """S3 requests seen since the last `clear`, by method (a snapshot)."""
        with self._lock:
            return Counter(m for m, _ in self._log)

    def count(self, method: str = "*", key_substring: str = "") -> int:
        """S3 requests seen since the last `clear` with this method and path substring."""
        with self._lock:
            return sum(1 for m, p in self._log if method.upper() in ("*", m) and key_substring in p)

    # -- WSGI ----------------------------------------------------------------------------

    def _add(self, rule: Rule) -> None:
        if rule.remaining is not None and rule.remaining < 1:
            raise ValueError("times must be >= 1 (or None for 'until clear()')")
        with self._lock:
            self._rules.append(rule)

    def _take(self, kinds: tuple[Kind, ...], method: str, path: str) -> Rule | None:
        """Consume one use of the first matching rule."""
        with self._lock:
            for rule in self._rules:
                if rule.kind in kinds and rule.matches(method, path):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                        if rule.remaining == 0:
                            self._rules.remove(rule)
                    return rule
        return None

    def _pending(self, kinds: tuple[Kind, ...], method: str, path: str) -> bool:
        with self._lock:
            return any(r.kind in kinds and r.matches(method, path) for r in self._rules)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if is_control(environ):
            return self.app(environ, start_response)
        method, path = environ.get("REQUEST_METHOD", "GET").upper(), request_path(environ)
        with self._lock:
            self._log.append((method, path))
        rule = self._take(("fail",), method, path)
        if rule is not None:
            return self._error(environ, start_response, rule, path)
        if self._take(("reset",), method, path) is not None:
            drain(environ)
            _hang_up(environ)
            start_response("500 Reset", [("Content-Length", "0")])  # never reaches the client
            return []
        if not self._pending(("corrupt", "drop_token", "slow", "truncate"), method, path):
            return self.app(environ, start_response)
        status, headers, body = call_app(self.app, environ)
        ok = status.startswith("2") and bool(body)
        delay = 0.0
        if ok and (rule := self._take(("corrupt",), method, path)):
            mid = len(body) // 2
            body = body[:mid] + bytes([body[mid] ^ 0xFF]) + body[mid + 1 :]
        listing = ok and b"<ListBucketResult" in body and _TOKEN_RE.search(body) is not None
        if listing and self._take(("drop_token",), method, path):
            body = _TOKEN_RE.sub(b"", body)
            headers = _set_length(headers, len(body))
        if ok and (rule := self._take(("slow",), method, path)):
            delay = rule.seconds
        if ok and self._take(("truncate",), method, path):
            start_response(status, headers)
            return self._truncated(environ, body)
        start_response(status, headers)
        if delay:
            return self._stalled(body, delay, self._release)
        return [body]

    @staticmethod
    def _truncated(environ: dict[str, Any], body: bytes) -> Iterator[bytes]:
        yield body[: len(body) // 2]
        _hang_up(environ)

    @staticmethod
    def _stalled(body: bytes, seconds: float, release: threading.Event) -> Iterator[bytes]:
        half = len(body) // 2
        yield body[:half]
        release.wait(seconds)
        yield body[half:]

    def _error(
        self, environ: dict[str, Any], start_response: StartResponse, rule: Rule, path: str
    ) -> list[bytes]:
        drain(environ)
        head = environ.get("REQUEST_METHOD", "").upper() == "HEAD"
        err = Injected(rule.status, rule.code, rule.message, path, f"FAULT{next(self._ids):010d}", head)
        headers, body = self.render_error(err)
        if head:
            body = b""
        headers = _set_length(headers, len(body))
        start_response(f"{rule.status} {_REASONS.get(rule.status, 'Error')}", headers)
        return [body]


def call_app(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, Headers, bytes]:
    """Run the wrapped app to completion and return (status, headers, body)."""
    captured: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, list(headers)
        return written.append

    result = app(environ, start_response)
    try:
        body = b"".join(itertools.chain(written, result))  # `written` is filled before the first chunk
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return captured["status"], captured["headers"], body


def _hang_up(environ: dict[str, Any]) -> None:
    """Close the client connection under the server's feet (werkzeug exposes its socket)."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("this WSGI server does not expose its socket; cannot reset")
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _set_length(headers: Headers, length: int) -> Headers:
    return [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(length))]


def drain(environ: dict[str, Any]) -> None:
    """Read an unused request body so the keep-alive connection stays in sync."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return
    if environ.get("wsgi.input_terminated"):
        while stream.read(65536):
            pass
        return
    left = int(environ.get("CONTENT_LENGTH") or 0)
    while left > 0:
        chunk = stream.read(min(left, 65536))
        if not chunk:
            break
        left -= len(chunk)


__all__ = [
    "CONTROL_SCOPES",
    "ErrorRenderer",
    "Faults",
    "Injected",
    "Rule",
    "call_app",
    "drain",
    "is_control",
    "request_path",
    "s3_error",
]
