"""Serving an `Emulator` over real HTTP with uvicorn: in a background thread, or blocking.

    with EmulatorServer(Emulator(config)) as server:
        httpx.post(f"{server.url}/?Action=StartSnapshot&Version=2023-11-01", ...)

The socket is bound before uvicorn starts, so `url` is known (port 0 = any free port) and the
first request can never race the startup. The served emulator can be swapped (`emulator`
setter): one server can host a fresh emulator per test.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.types import Receive, Scope, Send

from rtcsnap.emulator.app import Emulator
from rtcsnap.emulator.config import EmulatorConfig

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 5.0


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


def _uvicorn_config(app: Callable[..., Any], *, access_log: bool, log_level: str | None) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http="h11",
        interface="asgi3",
        lifespan="off",
        access_log=access_log,
        log_config=None,  # never reconfigure the host process's logging
        log_level=log_level,
        timeout_graceful_shutdown=1,
    )


class EmulatorServer:
    """uvicorn in a daemon thread serving `emulator` on `host`:`port` (0 = a free port)."""

    def __init__(self, emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self._emulator = emulator
        self._host = host
        self._port = port
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
        self._server = _Server(_uvicorn_config(self._app, access_log=False, log_level=None))
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


def serve(
    config: EmulatorConfig | Emulator,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    access_log: bool = True,
    log_level: str = "info",
) -> None:
    """Serve until interrupted (Ctrl+C / SIGINT / SIGTERM), for the CLI.

    Pass an `Emulator` instead of a config to keep a handle on its registry and faults (or to
    add observers) while it serves. Uses uvicorn's own logging setup (an access log by default).
    """
    emulator = config if isinstance(config, Emulator) else Emulator(config)
    uvicorn.run(
        emulator.app,
        host=host,
        port=port,
        http="h11",
        interface="asgi3",
        lifespan="off",
        access_log=access_log,
        log_level=log_level,
    )


__all__ = ["EmulatorServer", "serve"]
