"""The hooks a plugin may implement. Entry-point group: ``rtcsnap``.

Providers: register-callback style (as simonw/llm): the hook gets a `register` function and calls
it with provider *classes*; core validates each registration and detects clashes.

Events: `rtcsnap_snapshot_received` is how downstream work (moderation, thumbnails) learns of each
new image without polling the index; `rtcsnap.callbacks.hooks.HookRunner` calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pluggy

if TYPE_CHECKING:
    from rtcsnap.callbacks.records import SnapshotRecord
    from rtcsnap.providers.contract import Provider

PROJECT = "rtcsnap"
_F = TypeVar("_F", bound=Callable[..., Any])

# pluggy markers are untyped (pytest-dev/pluggy#191); the casts keep decorated functions' types.
hookspec = cast(Callable[[_F], _F], pluggy.HookspecMarker(PROJECT))
hookimpl = pluggy.HookimplMarker(PROJECT)

RegisterProvider = Callable[["type[Provider]"], None]


@hookspec
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    """Call ``register(ProviderClass)`` once per storage provider the plugin offers."""


@hookspec
def rtcsnap_snapshot_received(record: SnapshotRecord) -> None:
    """Called once per new snapshot, after its callback event is durably committed to the index;
    never for a duplicate delivery of an event already stored.

    Runs on a worker thread, off the request path: a slow implementation delays only itself, and
    an exception is recorded against the event (``hook_failures``, the event's ``hook_status``
    'failed') and retried by ``rtcsnap snapshots replay-hooks`` — so an implementation should be
    idempotent (a replay calls it again for the records of an event whose hook failed or never ran).
    The return value is ignored.
    """


__all__ = [
    "PROJECT",
    "RegisterProvider",
    "hookimpl",
    "hookspec",
    "rtcsnap_register_providers",
    "rtcsnap_snapshot_received",
]
