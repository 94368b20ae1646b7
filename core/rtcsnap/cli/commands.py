"""The root group with every subcommand attached, for tools that read the click tree without
running ``main()`` (the docs site's mkdocs-click directive); ``rtcsnap.cli.app.main`` imports
it too, so this is the one list of command modules."""

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
