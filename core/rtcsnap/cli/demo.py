"""`rtcsnap demo`: the whole service offline (rtcsnap.demo), with the CLI's exit codes.

Exit 0 and the output folder printed; 1 and "demo failed at stage 'S': reason" when a stage did
not do what it promised; 2 for a bad option or output folder (nothing started); 130 on Ctrl-C
or SIGTERM, after every service stopped.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import click

from rtcsnap.cli.app import EXIT_OK, app
from rtcsnap.testing.storage_servers import KINDS


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so `kill` also stops every service and removes temp folders."""

    def interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command("demo")
@click.option(
    "--storage",
    "-s",
    type=click.Choice(KINDS),
    default="s3",
    show_default=True,
    help="The local storage server the task writes to (each checks that vendor's real signatures).",
)
@click.option(
    "--seconds",
    "-t",
    type=click.FloatRange(4, 600),
    default=20.0,
    show_default=True,
    help="How long the task captures; its interval changes from 2 s to 1 s halfway.",
)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("rtcsnap-demo"),
    show_default=True,
    help="Output folder (a previous demo's output there is replaced).",
)
@click.option(
    "--keep/--clean",
    default=True,
    show_default=True,
    help="Leave the images, contact sheet and report (--clean: remove them when the demo succeeded).",
)
def demo_cmd(storage: str, seconds: float, out: Path, keep: bool) -> int:
    """Run the whole service offline and show it in pictures.

    Starts a local storage server, the emulator (a room with two cameras and a screen share) and
    the callback receiver on loopback; verifies the storage keys, starts a snapshot task,
    shows it live, changes its interval halfway, stops it, reconciles the index with the
    bucket, downloads every image and writes a contact sheet and an HTML report.

    \b
    Examples:
      rtcsnap demo
      rtcsnap demo --storage tos --seconds 10
      rtcsnap demo --out /tmp/demo --clean
    """
    from rtcsnap.demo import DemoInterrupted, DemoOptions, run_demo
    from rtcsnap.demo.flow import counts_line
    from rtcsnap.demo.live import console_for

    console = console_for(sys.stdout)
    try:
        with _sigterm_interrupts():
            result = run_demo(DemoOptions(storage=storage, seconds=seconds, out=out, keep=keep), console)
    except DemoInterrupted as exc:
        print(f"demo interrupted during stage {exc.stage!r}; every service stopped", file=sys.stderr)
        return 130
    if keep:
        console.rule("demo ok")
        console.print(f"  {result.images} images; manifest: {counts_line(result.counts)}")
        console.print(f"  contact sheet  {result.sheet}")
        console.print(f"  report         {result.report}")
        console.print(f"  images         {result.out / 'images'}")
        console.print(f"  index          {result.out / 'index.db'}")
    else:
        console.rule("demo ok")
    return EXIT_OK


__all__ = ["demo_cmd"]
