"""rtcsnap storage provider for Volcengine veImageX (StorageConfig Type 3), over the volcengine SDK."""

from __future__ import annotations

from rtcsnap.hookspecs import RegisterProvider, hookimpl

from rtcsnap_veimagex.provider import VeImageXProvider, VeImageXSession


@hookimpl
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    register(VeImageXProvider)


__all__ = ["VeImageXProvider", "VeImageXSession", "rtcsnap_register_providers"]
