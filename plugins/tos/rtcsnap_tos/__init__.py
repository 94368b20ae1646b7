"""rtcsnap storage provider for Volcengine TOS (StorageConfig Type 0), over the official tos SDK."""

from __future__ import annotations

from rtcsnap.hookspecs import RegisterProvider, hookimpl

from rtcsnap_tos.provider import TosProvider, TosSession


@hookimpl
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    register(TosProvider)


__all__ = ["TosProvider", "TosSession", "rtcsnap_register_providers"]
