"""Serving an `Emulator` over real HTTP with uvicorn: in a background thread, or blocking.

    with EmulatorServer(Emulator(config)) as server:
        httpx.post(f"{server.url}/?Action=StartSnapshot&Version=2023-11-01", ...)

The socket is bound before uvicorn starts, so `url` is known (port 0 = any free port) and the
first request can never race the startup. The served emulator can be swapped (`emulator`
setter): one server can host a fresh emulator per test.

Connections that hold the server without finishing a request are closed: uvicorn only times
out a connection that is idle *after* a response, so a client that connects and sends nothing,
or sends its request head one byte at a time, would hold its connection forever. The protocol
here gives every request head `HEADER_TIMEOUT` seconds from the moment the connection is ready
for it (connected, or the previous response sent), and idle keep-alive connections
`KEEP_ALIVE_TIMEOUT`; slow *bodies* are the app's business (`EmulatorConfig.body_timeout`).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import h11
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from rtcsnap.emulator.app import Emulator
from rtcsnap.emulator.config import EmulatorConfig

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0

HEADER_TIMEOUT = 10.0
"""Seconds a request head (request line + headers) may take, counted from when the connection is
ready for it; idle new connections are covered by it too."""
KEEP_ALIVE_TIMEOUT = 5.0
"""Seconds an idle keep-alive connection stays open after a response (uvicorn's default)."""


class _TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on every request head (see the module docstring)."""

    header_timeout = HEADER_TIMEOUT
    keep_alive_timeout = KEEP_ALIVE_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout_keep_alive = self.keep_alive_timeout  # type: ignore[assignment]  # float is fine
        self._head_timer: asyncio.TimerHandle | None = None

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


def protocol(
    header_timeout: float = HEADER_TIMEOUT, keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT
) -> type[asyncio.Protocol]:
    """The uvicorn HTTP protocol class with these connection timeouts (seconds)."""
    if not (header_timeout > 0 and keep_alive_timeout > 0):
        raise ValueError("header_timeout and keep_alive_timeout must be > 0")
    return type(
        "TimedH11Protocol",
        (_TimedH11Protocol,),
        {"header_timeout": header_timeout, "keep_alive_timeout": keep_alive_timeout},
    )


class _Server(uvicorn.Server):
    """uvicorn that tells a waiting thread when it accepts connections; no signal handling."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio disables Nagle only on sockets whose proto says TCP, and with
    # proto 0 every response costs a 40 ms delayed-ACK stall (headers and body are two writes).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _uvicorn_config(
    app: Callable[..., Any],
    *,
    access_log: bool,
    log_level: str | None,
    header_timeout: float = HEADER_TIMEOUT,
    keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT,
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=protocol(header_timeout, keep_alive_timeout),
        interface="asgi3",
        lifespan="off",
        access_log=access_log,
        log_config=None,  # never reconfigure the host process's logging
        log_level=log_level,
        timeout_graceful_shutdown=1,
    )


class EmulatorServer:
    """uvicorn in a daemon thread serving `emulator` on `host`:`port` (0 = a free port)."""

    def __init__(
        self,
        emulator: Emulator,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        header_timeout: float = HEADER_TIMEOUT,
        keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT,
    ) -> None:
        self._emulator = emulator
        self._host = host
        self._port = port
        self._timeouts = {"header_timeout": header_timeout, "keep_alive_timeout": keep_alive_timeout}
        protocol(header_timeout, keep_alive_timeout)  # validate now, not in the server thread
        self._sock: socket.socket | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def emulator(self) -> Emulator:
        return self._emulator

    @emulator.setter
    def emulator(self, emulator: Emulator) -> None:
        """Serve another emulator from the next request on (connections stay open)."""
        self._emulator = emulator

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("EmulatorServer is not started")
        port: int = self._sock.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321`` (IPv6 hosts in brackets)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    async def _app(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._emulator.app(scope, receive, send)

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError("EmulatorServer is already started")
        self._sock = _bind(self._host, self._port)
        self._server = _Server(_uvicorn_config(self._app, access_log=False, log_level=None, **self._timeouts))
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="rtcsnap-emulator", daemon=True
        )
        self._thread.start()
        if not self._server.ready.wait(_START_TIMEOUT) or not self._thread.is_alive():
            self.stop()
            raise RuntimeError("the emulator's uvicorn server did not start")
        return self

    def stop(self) -> None:
        """Stop serving (about 0.2 s: uvicorn's shutdown ticks); safe to call twice."""
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
        """Start unless already started (so ``with EmulatorServer(...).start() as s`` works too)."""
        return self if self._thread is not None else self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class _ReportingServer(uvicorn.Server):
    """uvicorn that calls `on_ready` once it accepts connections (the CLI prints its ready line
    then, so a script that waits for the line can connect at once)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if sockets and not self.should_exit:
            self._log_started_message(sockets)  # uvicorn stays silent for sockets passed in
        if self._on_ready is not None and not self.should_exit:
            self._on_ready()


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (port 0: a free one); `OSError` if the address is taken."""
    return _bind(host, port)


def serve(
    config: EmulatorConfig | Emulator,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    access_log: bool = True,
    log_level: str = "info",
    sock: socket.socket | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve until interrupted (Ctrl+C / SIGINT / SIGTERM), for the CLI.

    Pass an `Emulator` instead of a config to keep a handle on its registry and faults (or to
    add observers) while it serves. Pass `sock` (from `bind`) to know the real port before the
    server starts; `on_ready` runs once it accepts connections. Uses uvicorn's own logging setup
    (an access log by default).
    """
    emulator = config if isinstance(config, Emulator) else Emulator(config)
    serve_app(
        emulator.app, host, port, access_log=access_log, log_level=log_level, sock=sock, on_ready=on_ready
    )


def serve_app(
    app: Callable[..., Any],
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    access_log: bool = True,
    log_level: str = "info",
    sock: socket.socket | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """`serve` for any ASGI 3 app (the callback receiver's CLI uses it too): the same protocol
    with head deadlines, bind-first socket, ready hook and graceful shutdown. The socket is
    closed when serving ends; uvicorn's lifespan protocol is off."""
    listener = sock if sock is not None else _bind(host, port)
    bound_host, bound_port = listener.getsockname()[:2]
    uv_config = uvicorn.Config(
        app,
        host=bound_host,
        port=bound_port,
        http=protocol(),
        interface="asgi3",
        lifespan="off",
        access_log=access_log,
        log_level=log_level,
        timeout_graceful_shutdown=2,
    )
    try:
        _ReportingServer(uv_config, on_ready).run(sockets=[listener])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises the SIGINT it handled once it has shut down (as uvicorn.run does)
    finally:
        listener.close()


__all__ = ["HEADER_TIMEOUT", "KEEP_ALIVE_TIMEOUT", "EmulatorServer", "bind", "protocol", "serve", "serve_app"]
