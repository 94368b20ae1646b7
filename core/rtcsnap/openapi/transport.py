"""A blocking httpx transport whose every socket operation ends by the attempt's deadline.

Why: httpx's timeouts are per operation. A server that sends one byte every half second never
trips a 1 s read timeout, and holds a blocking call for as long as it likes (status line,
headers and body alike). The async client simply cancels the attempt (`asyncio.timeout`); a
blocking call cannot be cancelled, so here each connect/read/write is given
`min(its own timeout, time left until the deadline)` and fails at once when none is left.

The seam is httpcore's public `NetworkBackend`, wrapped around its default `SyncBackend`; the
deadline is per thread (a client may be shared by threads, each with its own call in flight).
Proxies from the environment still work: httpx mounts its own transports for proxied URLs
(those are bounded by the per-operation timeouts only).
"""

from __future__ import annotations

import ssl
import threading
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

_Exc = typing.TypeVar("_Exc", bound=httpcore.TimeoutException)


class _Deadline(threading.local):
    at: float | None = None


class _Clamp:
    """Turns an operation's own timeout into the time left before the thread's deadline."""

    def __init__(self, deadline: _Deadline) -> None:
        self._deadline = deadline

    def __call__(self, timeout: float | None, exc: type[_Exc]) -> float | None:
        at = self._deadline.at
        if at is None:
            return timeout
        left = at - time.monotonic()
        if left <= 0:
            raise exc("the attempt's deadline has passed")
        return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, clamp: _Clamp) -> None:
        self._inner = inner
        self._clamp = clamp

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(
            ssl_context, server_hostname, self._clamp(timeout, httpcore.ConnectTimeout)
        )
        return _Stream(inner, self._clamp)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, clamp: _Clamp) -> None:
        self._inner = httpcore.SyncBackend()
        self._clamp = clamp

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        t = self._clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, t, local_address, socket_options), self._clamp)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        t = self._clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, t, socket_options), self._clamp)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def _mapped(exc: Exception) -> Exception:
    """The httpx exception of the same name (httpcore and httpx share their exception names)."""
    for cls in type(exc).__mro__:
        target = getattr(httpx, cls.__name__, None)
        if isinstance(target, type) and issubclass(target, httpx.TransportError):
            return target(str(exc))
    return exc


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes]) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield from self._inner
        except Exception as exc:
            mapped = _mapped(exc)
            if mapped is exc:
                raise
            raise mapped from exc

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class DeadlineTransport(httpx.BaseTransport):
    """httpx's default HTTP/1.1 transport, plus `deadline()`: a bound on everything in a block."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits | None = None) -> None:
        limits = limits or httpx.Limits(
            max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0
        )
        self._deadline = _Deadline()
        context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(_Clamp(self._deadline)),
        )

    @contextmanager
    def deadline(self, at: float) -> Iterator[None]:
        """Every socket operation of this thread inside the block ends by `at` (`time.monotonic()`)."""
        previous = self._deadline.at
        self._deadline.at = at if previous is None else min(at, previous)
        try:
            yield
        finally:
            self._deadline.at = previous

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        req = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            resp = self._pool.handle_request(req)
        except Exception as exc:
            mapped = _mapped(exc)
            if mapped is exc:
                raise
            raise mapped from exc
        assert isinstance(resp.stream, Iterable)
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_ResponseStream(resp.stream),
            extensions=resp.extensions,
        )

    def close(self) -> None:
        self._pool.close()


__all__ = ["DeadlineTransport"]
