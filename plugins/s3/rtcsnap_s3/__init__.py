"""rtcsnap storage provider for Amazon S3 and S3-compatible services (StorageConfig Type 2, Vendor 0)."""

from __future__ import annotations

from rtcsnap.hookspecs import RegisterProvider, hookimpl

from rtcsnap_s3.provider import S3Provider, S3Session, translate_error


@hookimpl
def rtcsnap_register_providers(register: RegisterProvider) -> None:
    register(S3Provider)


__all__ = ["S3Provider", "S3Session", "rtcsnap_register_providers", "translate_error"]
