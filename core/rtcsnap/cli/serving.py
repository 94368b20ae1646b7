"""What every long-running `serve` command does the same way: listen first, then announce.

Binding before anything starts turns a taken port into one line and exit 2 (not a server
traceback) and makes `--port 0` printable; the announcement is a banner on stderr and, with
`--json`, the one ready line `{"endpoint": URL, "pid": N}` on stdout that scripts wait for.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable

from rtcsnap.errors import ConfigurationError


def listen(host: str, port: int) -> socket.socket:
    """A listening socket, or a ConfigurationError naming the address."""
    from rtcsnap.asgi.server import bind

    try:
        return bind(host, port)
    except OSError as exc:
        raise ConfigurationError(
            f"--host {host} --port {port}: cannot listen: {exc.strerror or exc}"
        ) from None


def endpoint_of(sock: socket.socket, host: str, path: str = "") -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{sock.getsockname()[1]}{path}"


def announcer(endpoint: str, banner: Callable[[], str], as_json: bool) -> Callable[[], None]:
    """The `on_ready` hook: the banner on stderr, then (with --json) the ready line on stdout."""

    def ready() -> None:
        print(banner(), file=sys.stderr, flush=True)
        if as_json:
            print(json.dumps({"endpoint": endpoint, "pid": os.getpid()}), flush=True)

    return ready


__all__ = ["announcer", "endpoint_of", "listen"]
