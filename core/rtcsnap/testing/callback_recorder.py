"""A callback endpoint for tests: records every POST, answers as told, lets a test wait for N.

    with CallbackRecorder() as rec:
        ...  # point the emulator's --callback-url at rec.url
        assert rec.wait_for(3)
        envelopes = rec.bodies()

Not the receiver of issue 10 (no signature check, no index): the stand-in a test of the *sender*
needs, so a test can make the endpoint fail (`fail_next`), stall (`stall_next`) or look inside.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


class CallbackRecorder:
    """An HTTP server on 127.0.0.1 (port 0) recording each request's path, headers and body."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._cond = threading.Condition()
        self._deliveries: list[Delivery] = []
        self._fail = 0
        self._fail_status = 500
        self._stall = 0
        self._release = threading.Event()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status = recorder._answer()
                if status == 0:  # stalled: hold the request until the test releases it
                    recorder._release.wait()
                    status = 200
                payload = b"ok" if status == 200 else b"failed"
                # Recorded before the answer leaves: a sender that saw its 200 (and a test that
                # waited for the sender) must find the delivery here.
                recorder._record(Delivery(self.path, dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/callbacks"

    def _answer(self) -> int:
        with self._cond:
            if self._stall:
                self._stall -= 1
                return 0
            if self._fail:
                self._fail -= 1
                return self._fail_status
            return 200

    def _record(self, delivery: Delivery) -> None:
        with self._cond:
            self._deliveries.append(delivery)
            self._cond.notify_all()

    def fail_next(self, n: int, status: int = 500) -> None:
        """Answer the next `n` requests with `status`."""
        with self._cond:
            self._fail, self._fail_status = n, status

    def stall_next(self, n: int) -> None:
        """Hold the next `n` requests unanswered until `release()` (or stop)."""
        with self._cond:
            self._stall = n
            self._release.clear()

    def release(self) -> None:
        self._release.set()

    def deliveries(self) -> list[Delivery]:
        with self._cond:
            return list(self._deliveries)

    def bodies(self, *, ok_only: bool = True) -> list[Any]:
        """The JSON body of every request (answered 200 only, by default), in arrival order."""
        return [d.json() for d in self.deliveries() if d.answered == 200 or not ok_only]

    def wait_for(self, n: int, timeout: float = 10.0, *, ok_only: bool = True) -> bool:
        """True once `n` requests (answered 200, by default) have been recorded."""

        def count() -> int:
            return sum(1 for d in self._deliveries if d.answered == 200 or not ok_only)

        with self._cond:
            return self._cond.wait_for(lambda: count() >= n, timeout)

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="callback-recorder", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


__all__ = ["CallbackRecorder", "Delivery"]
