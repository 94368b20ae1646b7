"""rtcsnap storage provider for Tencent COS (StorageConfig Type 2, Vendor 3), over the official
cos-python-sdk-v5 (``qcloud_cos``) SDK."""

from __future__ import annotations

from rtcsnap.hookspecs import RegisterProvider, hookimpl

from rtcsnap_cos.provider import CosProvider, CosSession


@hookimpl
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    register(CosProvider)


__all__ = ["CosProvider", "CosSession", "rtcsnap_register_providers"]
