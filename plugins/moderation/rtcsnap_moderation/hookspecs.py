"""The plugin's own hook, so a third party can add a detector (a face or QR detector) without
touching this package. Entry-point group and pluggy project: ``rtcsnap_moderation``.

Register-callback style, as core's `rtcsnap.hookspecs` does for providers (and simonw/llm for
models): the hook is handed a `register` function and calls it with `Detector` *classes*; the
registry validates each one (a `Detector` subclass, a well-formed unique name) and names the plugin
at fault. Classes, not instances, because a detector is configured per process from
``[moderation.detector_options.NAME]`` and its model loads lazily on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pluggy

if TYPE_CHECKING:
    from rtcsnap_moderation.detector import Detector

PROJECT = "rtcsnap_moderation"
"""The pluggy project name and the entry-point group third-party detectors are found in."""

_F = TypeVar("_F", bound=Callable[..., Any])

# pluggy markers are untyped (pytest-dev/pluggy#191); the cast keeps decorated functions' types.
hookspec = cast(Callable[[_F], _F], pluggy.HookspecMarker(PROJECT))
hookimpl = cast(Callable[[_F], _F], pluggy.HookimplMarker(PROJECT))

RegisterDetector = Callable[["type[Detector]"], None]


@hookspec
def rtcsnap_moderation_register_detectors(register: RegisterDetector) -> None:
    """Call ``register(DetectorClass)`` once per detector the plugin offers."""


__all__ = ["PROJECT", "RegisterDetector", "hookimpl", "hookspec", "rtcsnap_moderation_register_detectors"]
