"""The demo's stages: each announced before it runs, and any failure reported as the stage it hit.

A user who sees "demo failed" needs to know *where*: the storage server did not start, the key
was unfit, the callbacks never came. So every step runs inside `Stages.run(name)`, which turns
whatever it raises into `DemoFailed(stage, reason)` — one line, the stage named — and remembers
the current stage so an interrupt can say what it interrupted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console

from rtcsnap import secrets
from rtcsnap.errors import RtcSnapError


class DemoFailed(RtcSnapError):
    """A stage of the demo did not do what it should; `stage` names it."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"demo failed at stage {stage!r}: {reason}")
        self.stage = stage
        self.reason = reason


class Stages:
    """Announces numbered stages on `console` and names the failing one."""

    def __init__(self, console: Console, names: tuple[str, ...]) -> None:
        self.console = console
        self.names = names
        self.current: str | None = None

    @contextlib.contextmanager
    def run(self, name: str, title: str) -> Iterator[None]:
        """Run one stage; an exception inside becomes `DemoFailed` naming `name`
        (`KeyboardInterrupt` passes through, with `current` still set for the caller)."""
        number = self.names.index(name) + 1
        self.current = name
        self.console.rule(f"{number}/{len(self.names)} {name}: {title}")
        try:
            yield
        except DemoFailed:
            raise
        except Exception as exc:
            reason = secrets.redact(" ".join(str(exc).split())) or type(exc).__name__
            raise DemoFailed(name, f"{type(exc).__name__}: {reason}") from exc
        self.current = None

    def check(self, ok: bool, reason: str) -> None:
        """Fail the current stage with `reason` unless `ok`."""
        if not ok:
            raise DemoFailed(self.current or "?", reason)


__all__ = ["DemoFailed", "Stages"]
