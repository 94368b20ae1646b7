"""`rtcsnap callbacks serve`: the callback receiver on its own, for users without a web service.

Serving uses the shared uvicorn setup (`rtcsnap.asgi.server.serve_app`: bind first, head deadlines, a ready
hook), so a script can wait for the one ``--json`` ready line and post at once. On SIGINT or
SIGTERM uvicorn stops accepting and lets requests in flight finish (each waits for its commit),
then the committer drains and the index closes: exit 0, nothing acknowledged left behind.
Installed plugins implementing `rtcsnap_snapshot_received` run on each new snapshot (a
`HookRunner`, off the request path); what they leave failed or pending, `snapshots replay-hooks` retries.
"""

from __future__ import annotations

import os
import signal
from types import FrameType

import click

from rtcsnap import secrets
from rtcsnap.cli.app import app, manager
from rtcsnap.cli.helptext import examples
from rtcsnap.cli.serving import announcer, endpoint_of, listen

SECRET_ENV = "RTCSNAP_CALLBACK_SECRET"


@app.group(
    "callbacks",
    epilog=examples(f"{SECRET_ENV}=… rtcsnap callbacks serve --db snaps.db --port 8080"),
)
def callbacks_group() -> None:
    """Receive RTC's signed callbacks into a snapshot index."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@callbacks_group.command(
    "serve",
    epilog=examples(
        f"{SECRET_ENV}=… rtcsnap callbacks serve --db snaps.db --host 0.0.0.0 --port 8080",
        f"{SECRET_ENV}=… rtcsnap callbacks serve --db postgresql+psycopg://u@db/snaps --path /rtc -q",
        f"{SECRET_ENV}=… rtcsnap callbacks serve --db snaps.db --port 0 --json   # prints the ready line",
        note=f"The secret: --secret, else {SECRET_ENV} (the one configured in the RTC console).",
    ),
)
@click.option(
    "--db", "db", required=True, help="Index URL (sqlite:///x.db, postgresql+psycopg://…) or a path."
)
@click.option("--secret", help=f"The callback secret (prefer {SECRET_ENV}).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: all).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="0: a free port.")
@click.option(
    "--path", "path", default="/", show_default=True, help="Where RTC posts; metrics at PATH/metrics."
)
@click.option(
    "--freshness",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Seconds EventTime may be away from now (0: no replay check).",
)
@click.option("--json", "as_json", is_flag=True, help='One ready line {"endpoint": URL, "pid": N} on stdout.')
@click.option("--quiet", "-q", is_flag=True, help="No access log.")
def serve_cmd(
    db: str, secret: str | None, host: str, port: int, path: str, freshness: float, as_json: bool, quiet: bool
) -> None:
    """Verify, dedupe and durably store callbacks until SIGINT/SIGTERM.

    Answers 200 only once an event is committed. The endpoint in the ready line is the URL to
    configure in the RTC console (host, port and --path)."""
    from rtcsnap.asgi.server import serve_app
    from rtcsnap.callbacks.hooks import HookRunner
    from rtcsnap.callbacks.index import SnapshotIndex, database_url
    from rtcsnap.callbacks.receiver import Receiver

    secret = secret or os.environ.get(SECRET_ENV)
    if not secret:
        raise click.UsageError(f"no callback secret: pass --secret or set {SECRET_ENV}")
    secrets.register(secret)
    if not path.startswith("/"):
        raise click.UsageError(f"--path {path!r}: must start with '/'")
    sock = listen(host, port)
    try:  # a bare path is a SQLite file; errors name the database with its password hidden
        index = SnapshotIndex(database_url(db))
    except BaseException:
        sock.close()
        raise
    hooks: HookRunner | None = None
    try:
        hooks = HookRunner(index, manager().plugin_manager())
        receiver = Receiver(index, secret, path=path, freshness=freshness or None, hooks=hooks)
    except BaseException:
        sock.close()
        if hooks is not None:
            hooks.close()
        index.close()
        raise
    endpoint = endpoint_of(sock, host, path)
    window = f"{freshness:g} s" if freshness else "off"
    ready = announcer(
        endpoint,
        lambda: (
            f"rtcsnap callbacks receiver on {endpoint} (index {receiver.index.url}; replay window "
            f"{window}; metrics at {receiver.metrics_path})"
        ),
        as_json,
    )

    # uvicorn restores this handler after its graceful shutdown and re-raises the signal: make
    # SIGTERM end like Ctrl+C (serve_app swallows it) instead of killing us before the drain.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        serve_app(receiver, sock=sock, access_log=not quiet, on_ready=ready)
    finally:
        signal.signal(signal.SIGTERM, previous)
        try:
            receiver.close()  # commits drain first: their events reach the hooks' queues
            hooks.close()
        finally:
            index.close()


__all__ = ["SECRET_ENV", "callbacks_group", "serve_cmd"]
