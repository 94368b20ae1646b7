"""The hooks a plugin may implement. Entry-point group: ``rtcsnap``.

Register-callback style (as simonw/llm): the hook gets a `register` function and calls it with
provider *classes*; core validates each registration and detects clashes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pluggy

if TYPE_CHECKING:
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
