"""The hooks a plugin may implement. Entry-point group: ``rtcsnap``.

Providers: register-callback style (as simonw/llm): the hook gets a `register` function and calls
it with provider *classes*; core validates each registration and detects clashes.

Events: `rtcsnap_snapshot_received` is how downstream work (moderation, thumbnails) learns of each
new image without polling the index; `rtcsnap.callbacks.hooks.HookRunner` calls it.

Analysis plugins get the rest from core, so core never needs an ``if plugin == …``: the index to
record verdicts in (the hook's `index` argument, `SnapshotIndex.record_verdict`), worker threads
for a CPU-bound hook (`workers`), their own ``[plugins.NAME]`` config table checked by
``rtcsnap config check`` (`rtcsnap_check_config`; read it with `rtcsnap.profiles.plugin_section`),
CLI commands of their own (`rtcsnap_register_commands`), the image of each record through the
receiver's storage (the hook's `images` argument, `rtcsnap.callbacks.images.ImageSource`), and
their place in ``rtcsnap demo`` (`rtcsnap_demo_sections`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pluggy

if TYPE_CHECKING:
    import click

    from rtcsnap.callbacks.images import ImageSource
    from rtcsnap.callbacks.index import SnapshotIndex
    from rtcsnap.callbacks.records import SnapshotRecord
    from rtcsnap.providers.contract import Provider

PROJECT = "rtcsnap"
_F = TypeVar("_F", bound=Callable[..., Any])

# pluggy markers are untyped (pytest-dev/pluggy#191); the casts keep decorated functions' types.
hookspec = cast(Callable[[_F], _F], pluggy.HookspecMarker(PROJECT))
hookimpl = pluggy.HookimplMarker(PROJECT)

RegisterProvider = Callable[["type[Provider]"], None]
ConfigProblems = list[tuple[tuple[str | int, ...], str]]
"""What `rtcsnap_check_config` answers: (location within the section, rule) per problem."""

WORKERS_ATTR = "rtcsnap_workers"
"""Attribute of a `rtcsnap_snapshot_received` implementation: how many worker threads its lane gets."""
MAX_WORKERS = 64


def workers(count: int) -> Callable[[_F], _F]:
    """Give a `rtcsnap_snapshot_received` implementation `count` worker threads (1–64; default 1).

    Why: a CPU-bound hook hands each image to a process pool and waits; with its lane's one thread
    it would keep one process busy however large the pool. Same as setting the attribute yourself,
    ``rtcsnap_snapshot_received.rtcsnap_workers = 4``; `HookRunner` validates it when it starts (a
    bad value is a `PluginError` naming the plugin). The lane's queue stays one bounded queue, so
    with several workers the images of a lane may finish out of order — and the implementation must
    be thread-safe."""

    def mark(function: _F) -> _F:
        setattr(function, WORKERS_ATTR, count)
        return function

    return mark


@hookspec
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    """Call ``register(ProviderClass)`` once per storage provider the plugin offers."""


@hookspec
def rtcsnap_snapshot_received(record: SnapshotRecord, index: SnapshotIndex, images: ImageSource) -> None:
    """Called once per new snapshot, after its callback event is durably committed to the index;
    never for a duplicate delivery of an event already stored.

    Runs on a worker thread, off the request path: a slow implementation delays only itself, and
    an exception is recorded against the event (``hook_failures``, the event's ``hook_status``
    'failed') and retried by ``rtcsnap snapshots replay-hooks`` — so an implementation should be
    idempotent (a replay calls it again for the records of an event whose hook failed or never ran).
    The return value is ignored.

    `index` (take it only if you need it: pluggy passes just the arguments an implementation names)
    is the index the record is in; an analysis plugin stores its answer with
    ``index.record_verdict(record, "PLUGIN", status=…, flagged=…, fired=…, labels=…, details=…)`` —
    an upsert, so a replay replaces it. Several worker threads: see `workers`.

    `images` reads the record's image with the read key whoever runs the receiver gave it
    (``images.fetch(record).data``: verified bytes; a task it knows no storage for is a
    `ConfigurationError`, recorded as a hook failure like any other, so a replay retries it).
    """


@hookspec
def rtcsnap_check_config(name: str, section: dict[str, Any]) -> ConfigProblems | None:
    """``rtcsnap config check`` calls this for every ``[plugins.NAME]`` table of the config file.

    Return None when `name` is not your section; otherwise the problems found, ``[]`` when none:
    each ``(location within the section, rule)``, e.g. ``(("text", 1, "patterns", 0), "not a valid
    regular expression")``, which the check reports as
    ``FILE:LINE: plugins.NAME.text[1].patterns[0]: not a valid regular expression``. A section no
    installed plugin answers for is a warning. Read the section at run time with
    `rtcsnap.profiles.plugin_section` (its `where` gives the same ``FILE:LINE: …`` prefix).
    """


@hookspec
def rtcsnap_demo_sections() -> dict[str, dict[str, Any]] | None:
    """The ``[plugins.NAME]`` tables ``rtcsnap demo`` runs with, by NAME: how a plugin shows what it
    does in the demo (the moderation plugin: its contact pack, which flags the demo's screen share).

    The demo is self-contained, so while it runs `rtcsnap.profiles.plugin_section` answers from
    these tables alone, never the user's config file (whose ``storage = @evidence`` would point a
    plugin at a bucket the demo does not have); a plugin that answers nothing sees no table. The
    demo's receiver runs every installed `rtcsnap_snapshot_received`, with `images` reading the
    demo's bucket, and waits for them before it writes the report, which shows each verdict."""


@hookspec
def rtcsnap_register_commands(cli: click.Group) -> None:
    """Add CLI commands to `cli`, the root ``rtcsnap`` group (``@cli.command()``, ``@cli.group()``
    or ``cli.add_command``), as simonw/llm's ``register_commands``.

    Called only when the CLI needs a command it does not have: a command that is not core's
    (``rtcsnap NAME``: the plugin whose entry point is called NAME first, every plugin if that one
    did not add it) or the list of all commands (``rtcsnap --help``, completion). So name your main
    command after your entry point, and keep your module's import light. A command clashing with an
    existing one is dropped with a warning; a raising hook costs a warning, not the CLI.
    """


__all__ = [
    "MAX_WORKERS",
    "PROJECT",
    "WORKERS_ATTR",
    "ConfigProblems",
    "RegisterProvider",
    "hookimpl",
    "hookspec",
    "rtcsnap_check_config",
    "rtcsnap_demo_sections",
    "rtcsnap_register_commands",
    "rtcsnap_register_providers",
    "rtcsnap_snapshot_received",
    "workers",
]
