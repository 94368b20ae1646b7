"""uvicorn, set up once for every rtcsnap server: in a background thread, or blocking for the CLI.

Why not plain `uvicorn.run`:
* The socket is bound before uvicorn starts, so the URL is known (port 0 = any free port), a taken
  port is an `OSError` the caller can phrase, and the first request can never race the startup.
* uvicorn only times out a connection that is idle *after* a response: a client that connects and
  sends nothing, or drips its request head a byte at a time, would hold its connection forever.
  The protocols here give every request head `HEADER_TIMEOUT` seconds from the moment the
  connection is ready for it (connected, or the previous response sent), and idle keep-alive
  connections `KEEP_ALIVE_TIMEOUT`. Slow *bodies* are the app's business (`rtcsnap.asgi.body`).
* Speed: with httptools (C parser) and uvloop installed — the ``callbacks`` and ``emulator`` extras
  bring both, as ``uvicorn[standard]`` does — a bare endpoint answers ~4x more requests per second
  than on h11 + asyncio (docs/benchmarks.md). Without them the same deadlines hold on h11.
  httptools refuses what llhttp cannot parse (an unknown method such as ``BREW``) with its own
  plain-text 400; a server that must answer *every* request in its own format (the emulator, whose
  gateway answers any method with the JSON envelope) asks for ``parser="h11"``.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal, Self

import h11
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT = 10.0
"""Seconds a request head (request line + headers) may take, counted from when the connection is
ready for it; idle new connections are covered by it too."""
KEEP_ALIVE_TIMEOUT = 5.0
"""Seconds an idle keep-alive connection stays open after a response (uvicorn's default)."""

Parser = Literal["auto", "httptools", "h11"]
HAS_HTTPTOOLS = importlib.util.find_spec("httptools") is not None

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


class _HeadDeadline:
    """The head timer shared by both protocol classes (the mixin goes first in the MRO)."""

    header_timeout = HEADER_TIMEOUT
    keep_alive_timeout = KEEP_ALIVE_TIMEOUT
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _head_timer: asyncio.TimerHandle | None = None

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


class _TimedH11Protocol(_HeadDeadline, H11Protocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.keep_alive_timeout  # type: ignore[assignment]  # float is fine

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is in (or the connection is done)
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)


def _httptools_protocol() -> type[asyncio.Protocol]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class _TimedHttpToolsProtocol(_HeadDeadline, HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.timeout_keep_alive = self.keep_alive_timeout  # type: ignore[assignment]

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm_head_timer()

        def on_headers_complete(self) -> None:
            self._cancel_head_timer()
            super().on_headers_complete()

        def on_response_complete(self) -> None:
            pipelined = bool(self.pipeline)  # a queued request already has its head
            super().on_response_complete()
            if not pipelined and not self.transport.is_closing():
                self._arm_head_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_timer()
            super().connection_lost(exc)

    return _TimedHttpToolsProtocol


def resolve_parser(parser: Parser) -> Literal["httptools", "h11"]:
    """The parser `parser` means here (auto: httptools when installed)."""
    if parser not in ("auto", "httptools", "h11"):
        raise ValueError(f"parser: auto, httptools or h11, not {parser!r}")
    if parser == "httptools" and not HAS_HTTPTOOLS:
        raise ValueError("parser httptools: not installed (pip install httptools)")
    return "h11" if parser == "h11" or not HAS_HTTPTOOLS else "httptools"


def protocol(
    header_timeout: float = HEADER_TIMEOUT,
    keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT,
    parser: Parser = "auto",
) -> type[asyncio.Protocol]:
    """The uvicorn HTTP protocol class with these connection timeouts (seconds); `parser` auto
    means httptools when installed, else h11."""
    if not (header_timeout > 0 and keep_alive_timeout > 0):
        raise ValueError("header_timeout and keep_alive_timeout must be > 0")
    base = _httptools_protocol() if resolve_parser(parser) == "httptools" else _TimedH11Protocol
    return type(
        "TimedProtocol",
        (base,),
        {"header_timeout": header_timeout, "keep_alive_timeout": keep_alive_timeout},
    )


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (port 0: a free one); `OSError` if the address is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio disables Nagle only on sockets whose proto says TCP, and with
    # proto 0 every response costs a 40 ms delayed-ACK stall (headers and body are two writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket, host: str) -> str:
    """``http://HOST:PORT`` of a bound socket (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{sock.getsockname()[1]}"


class _ReadyServer(uvicorn.Server):
    """uvicorn that reports when it accepts connections; no signal handling of its own is changed.
    `announce`: log uvicorn's "running on" line, which it writes only for sockets it bound itself."""

    def __init__(
        self, config: uvicorn.Config, on_ready: Callable[[], None] | None = None, *, announce: bool = False
    ) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self._on_ready = on_ready
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self._announce and sockets and not self.should_exit:
            self._log_started_message(sockets)
        self.ready.set()
        if self._on_ready is not None and not self.should_exit:
            self._on_ready()


class BackgroundServer:
    """uvicorn in a daemon thread serving `app` on `host`:`port` (0 = a free port).

    The served app can be swapped (`app` attribute): one server can host a fresh app per test,
    the connections stay open. Stopping takes about 0.2 s (uvicorn's shutdown ticks).
    """

    thread_name = "rtcsnap-http"

    def __init__(
        self,
        app: Callable[..., Any],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        header_timeout: float = HEADER_TIMEOUT,
        keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT,
        lifespan: Literal["on", "off"] = "off",
        parser: Parser = "auto",
    ) -> None:
        self.app = app
        self._host = host
        self._port = port
        # validated now, not in the server thread
        self._protocol = protocol(header_timeout, keep_alive_timeout, parser)
        self.parser = resolve_parser(parser)
        self._lifespan = lifespan
        self._sock: socket.socket | None = None
        self._server: _ReadyServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        port: int = self._sock.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        if self._sock is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return url_of(self._sock, self._host)

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        self._sock = bind(self._host, self._port)
        config = uvicorn.Config(
            self._app,
            http=self._protocol,
            interface="asgi3",
            lifespan=self._lifespan,
            access_log=False,
            log_config=None,  # never reconfigure the host process's logging
            log_level=None,
            timeout_graceful_shutdown=1,
        )
        self._server = _ReadyServer(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name=self.thread_name, daemon=True
        )
        self._thread.start()
        if not self._server.ready.wait(_START_TIMEOUT) or not self._thread.is_alive():
            self.stop()
            raise RuntimeError(f"{type(self).__name__}: uvicorn did not start")
        return self

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        server, thread, sock = self._server, self._thread, self._sock
        self._server = self._thread = None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(_STOP_TIMEOUT)
            if thread.is_alive():
                server.force_exit = True
                thread.join(_STOP_TIMEOUT)
        if sock is not None:
            sock.close()
            self._sock = None

    def __enter__(self) -> Self:
        """Start unless already started (so ``with Server(...).start() as s`` works too)."""
        return self if self._thread is not None else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def tune_gc_for_serving() -> None:
    """Make a long-running server's collector cheap and rare (called once the app is loaded).

    Measured on the callback receiver (docs/benchmarks.md): a full collection walked every module
    and SQLAlchemy object on each run, ~100 ms pauses that every request in flight waited out —
    the p99. `gc.freeze` moves what exists at startup out of the collector's sight, and a higher
    first threshold makes young collections rarer; request garbage is acyclic and freed by
    reference counting anyway. Only for a process the server owns (the CLI), never a host app's.
    """
    gc.collect()
    gc.freeze()
    _, second, third = gc.get_threshold()
    gc.set_threshold(50_000, second, third)


def serve_app(
    app: Callable[..., Any],
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    access_log: bool = True,
    log_level: str = "info",
    sock: socket.socket | None = None,
    on_ready: Callable[[], None] | None = None,
    parser: Parser = "auto",
) -> None:
    """Serve any ASGI 3 app until interrupted (Ctrl+C / SIGINT / SIGTERM), for the CLI.

    The same protocol with head deadlines as `BackgroundServer`, a bind-first socket (pass `sock`
    from `bind` to know the real port before the server starts; it is closed when serving ends),
    `on_ready` once it accepts connections, graceful shutdown, uvicorn's own logging setup and the
    collector tuned for serving. uvicorn's lifespan protocol is off.
    """
    listener = sock if sock is not None else bind(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    uv_config = uvicorn.Config(
        app,
        host=bound_host,
        port=bound_port,
        http=protocol(parser=parser),
        interface="asgi3",
        lifespan="off",
        access_log=access_log,
        log_level=log_level,
        timeout_graceful_shutdown=2,
    )
    server = _ReadyServer(uv_config, on_ready, announce=True)
    tune_gc_for_serving()
    try:
        server.run(sockets=[listener])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the SIGINT it handled once it has shut down (as uvicorn.run does)
    finally:
        listener.close()


__all__ = [
    "HAS_HTTPTOOLS",
    "HEADER_TIMEOUT",
    "KEEP_ALIVE_TIMEOUT",
    "BackgroundServer",
    "Parser",
    "bind",
    "protocol",
    "resolve_parser",
    "serve_app",
    "tune_gc_for_serving",
    "url_of",
]
