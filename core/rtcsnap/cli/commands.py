"""The root group with every subcommand attached, for tools that read the click tree without
running ``main()`` (the docs site's mkdocs-click directive). Keep the list in step with the
imports in ``rtcsnap.cli.app.main``."""

from rtcsnap.cli import (  # noqa: F401  (registers commands)
    callbacks,
    completion,
    config,
    demo,
    emulator,
    emulator_room,
    provider,
    snapshot,
    snapshots,
    snapshots_task,
    storage,
)
from rtcsnap.cli.app import app

__all__ = ["app"]
