"""rtcsnap storage provider for Qiniu Kodo (StorageConfig Type 2, Vendor 4), over the official qiniu SDK."""

from __future__ import annotations

from rtcsnap.hookspecs import RegisterProvider, hookimpl

from rtcsnap_kodo.provider import KodoProvider, KodoSession


@hookimpl
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    register(KodoProvider)


__all__ = ["KodoProvider", "KodoSession", "rtcsnap_register_providers"]
