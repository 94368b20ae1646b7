"""rtcsnap storage provider for Huawei Cloud OBS (StorageConfig Type 2, Vendor 2), over the official
esdk-obs-python SDK."""

from __future__ import annotations

from rtcsnap.hookspecs import RegisterProvider, hookimpl

from rtcsnap_obs.provider import ObsProvider, ObsSession


@hookimpl
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    register(ObsProvider)


__all__ = ["ObsProvider", "ObsSession", "rtcsnap_register_providers"]
