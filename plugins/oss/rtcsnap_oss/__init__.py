"""rtcsnap storage provider for Aliyun OSS (StorageConfig Type 2, Vendor 1), over the official oss2 SDK."""

from __future__ import annotations

from rtcsnap.hookspecs import RegisterProvider, hookimpl

from rtcsnap_oss.provider import OssProvider, OssSession


@hookimpl
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    register(OssProvider)


__all__ = ["OssProvider", "OssSession", "rtcsnap_register_providers"]
