"""Serving an `Emulator` over real HTTP: in a background thread, or blocking for the CLI.

    with EmulatorServer(Emulator(config)) as server:
        httpx.post(f"{server.url}/?Action=StartSnapshot&Version=2023-11-01", ...)

The uvicorn set-up (bind first, request-head deadlines) is `rtcsnap.asgi.server`'s,
shared with the callback receiver. The served emulator can be swapped (`emulator` setter): one
server can host a fresh emulator per test.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from rtcsnap.asgi.server import (
    HEADER_TIMEOUT,
    KEEP_ALIVE_TIMEOUT,
    BackgroundServer,
    Parser,
    bind,
    protocol,
    serve_app,
)
from rtcsnap.emulator.app import Emulator
from rtcsnap.emulator.config import EmulatorConfig

PARSER: Parser = "h11"
"""The emulator answers every method and path with the JSON envelope, as the real gateway does;
httptools would refuse unknown methods itself (plain text), so the emulator stays on h11."""


class EmulatorServer(BackgroundServer):
    """uvicorn in a daemon thread serving `emulator` on `host`:`port` (0 = a free port)."""

    thread_name = "rtcsnap-emulator"

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
        super().__init__(
            emulator.app,
            host,
            port,
            header_timeout=header_timeout,
            keep_alive_timeout=keep_alive_timeout,
            parser=PARSER,
        )

    @property
    def emulator(self) -> Emulator:
        return self._emulator

    @emulator.setter
    def emulator(self, emulator: Emulator) -> None:
        """Serve another emulator from the next request on (connections stay open)."""
        self._emulator = emulator
        self.app = emulator.app


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
    server starts; `on_ready` runs once it accepts connections.
    """
    emulator = config if isinstance(config, Emulator) else Emulator(config)
    serve_app(
        emulator.app,
        host,
        port,
        access_log=access_log,
        log_level=log_level,
        sock=sock,
        on_ready=on_ready,
        parser=PARSER,
    )


__all__ = ["HEADER_TIMEOUT", "KEEP_ALIVE_TIMEOUT", "EmulatorServer", "bind", "protocol", "serve", "serve_app"]
