"""The one way our local servers run: a WSGI app on a werkzeug threaded server in a daemon
thread of this process, started and stopped as a context manager.

Shared by every local server, which differ only in the app they serve and what they release
before shutting down (`_before_stop`). Our vendor servers (all but SeaweedFS and moto's plain S3)
are `KeyRingServer`s: keys in a `KeyRing`, faults injected by `Faults`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any, Self

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from rtcsnap.testing.faults import Faults
from rtcsnap.testing.keys import KeyRing, ServerKey

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class QuietHandler(WSGIRequestHandler):
    """No access log (werkzeug logs every request to stderr otherwise); no Nagle delay, which
    stalls an SDK's ``Expect: 100-continue`` PUT until a delayed ACK."""

    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class InProcessServer:
    """Subclasses set `app` (the WSGI callable to serve) before `start`."""

    app: WSGIApp
    handler: type[WSGIRequestHandler] = QuietHandler

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._bind = host
        self._requested_port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        if self._server is not None:
            return self
        server = make_server(
            self._bind, self._requested_port, self.app, threaded=True, request_handler=self.handler
        )
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{server.port}",
            daemon=True,
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def _before_stop(self) -> None:
        """Release what would keep a request (and so the shutdown) waiting, e.g. stalled faults."""

    def stop(self) -> None:
        if self._server is None:
            return
        try:
            self._before_stop()
        finally:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
        return int(self._server.port)

    @property
    def endpoint(self) -> str:
        return f"http://{self._bind}:{self.port}"


class KeyRingServer(InProcessServer):
    """A vendor server of ours: who may do what is its `keys`, what goes wrong on purpose its
    `faults`. Subclasses set both in `__init__`."""

    keys: KeyRing
    faults: Faults

    @property
    def admin(self) -> ServerKey:
        return self.keys.admin

    @property
    def admin_credentials(self) -> tuple[str, str]:
        return self.keys.admin.credentials

    def key(self, actions: Iterable[str], name: str | None = None, bucket: str = "*") -> ServerKey:
        """Mint a key allowed exactly `actions` (``Read``, ``List``, ``Write``, ``Delete``, ``Admin``)."""
        return self.keys.add(actions, name, bucket)

    def _before_stop(self) -> None:
        """Release stalled responses (a moto-based server's buckets stay: they are process-global)."""
        self.faults.clear()


__all__ = ["InProcessServer", "KeyRingServer", "QuietHandler", "WSGIApp"]
