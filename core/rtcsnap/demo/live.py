"""The live view while the task runs: per stream, images uploaded and callbacks indexed.

The two numbers come from opposite ends on purpose — the engine's count of what it stored, the
receiver's index of what it was told — so a user watches the callbacks keep up with the
uploads. The view is only a display: pacing it with a short wait is fine, nothing waits *on* it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from rtcsnap.callbacks.index import SnapshotIndex

REFRESH = 0.25
KIND = {0: "camera", 1: "screen"}


def console_for(stream: TextIO) -> Console:
    """The demo's console: plain text when piped (a log, CI), the live table on a terminal."""
    console = Console(file=stream, highlight=False)
    console.soft_wrap = not console.is_terminal  # whole lines in a log, never folded at 80 columns
    return console


def indexed_per_stream(index: SnapshotIndex, task_id: str) -> Counter[tuple[str, int]]:
    """Indexed images of `task_id`, counted per (user, stream type)."""
    counts: Counter[tuple[str, int]] = Counter()
    after: str | None = None
    while True:
        page = index.snapshots(task_id=task_id, limit=1000, after=after)
        counts.update((str(r["user_id"]), int(r["stream_type"])) for r in page.items)
        if page.next is None:
            return counts
        after = page.next


def _view(
    streams: Sequence[tuple[str, int]],
    indexed: Counter[tuple[str, int]],
    status: dict[str, object] | None,
    accepted: int,
    elapsed: float,
    seconds: float,
    note: str,
) -> Group:
    table = Table(title=f"capturing: {elapsed:4.1f} s of {seconds:g} s", title_justify="left")
    table.add_column("user")
    table.add_column("stream")
    table.add_column("images indexed", justify="right")
    for user, stream_type in streams:
        table.add_row(user, KIND.get(stream_type, str(stream_type)), str(indexed[(user, stream_type)]))
    s = status or {}
    line = (
        f"engine: {s.get('uploaded', 0)} uploaded, interval {s.get('interval', '?')} s · "
        f"receiver: {accepted} callbacks stored"
    )
    return Group(table, Text(line), *([Text(note, style="bold")] if note else []))


def watch(
    console: Console,
    *,
    seconds: float,
    streams: Sequence[tuple[str, int]],
    index: SnapshotIndex,
    task_id: str,
    status: Callable[[], dict[str, object] | None],
    accepted: Callable[[], int],
    halfway: Callable[[], str],
) -> None:
    """Show the view for `seconds`; at half time call `halfway` once (it returns a line to show)."""
    ticker = threading.Event()
    start = time.monotonic()
    note = ""
    changed = False
    with Live(console=console, refresh_per_second=1 / REFRESH, transient=False) as live:
        while True:
            elapsed = time.monotonic() - start
            if not changed and elapsed >= seconds / 2:
                note = halfway()
                changed = True
            live.update(
                _view(
                    streams,
                    indexed_per_stream(index, task_id),
                    status(),
                    accepted(),
                    min(elapsed, seconds),
                    seconds,
                    note,
                )
            )
            if elapsed >= seconds:
                break
            ticker.wait(min(REFRESH, max(0.0, seconds - elapsed)))
    if not console.is_terminal:
        console.line()  # the last view printed once, without its line end


__all__ = ["console_for", "indexed_per_stream", "watch"]
