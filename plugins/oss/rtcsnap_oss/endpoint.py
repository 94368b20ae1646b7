"""Where an OSS target's requests go, decided in one place: the region id in its two spellings,
the default endpoint, the addressing style and the signature version.

A region has two spellings and each has one use: ``oss-cn-hangzhou`` is what users, RTC's Region
table (`rtcsnap.regions`, table ``oss``) and GetBucketInfo's ``Location`` say, and what the
default endpoint ``https://oss-cn-hangzhou.aliyuncs.com`` is built from; signature V4 scopes its
requests with the bare Aliyun region id ``cn-hangzhou`` (Aliyun's V4 guide). `Region` takes
either spelling and gives both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal
from urllib.parse import urlsplit

from rtcsnap.errors import ConfigurationError
from rtcsnap.regions import target_region

Addressing = Literal["auto", "path", "cname"]
ADDRESSING: tuple[Addressing, ...] = ("auto", "path", "cname")
SIGNATURES = ("v4", "v1")
OPTIONS = MappingProxyType(
    {
        "signature": "v4 (default: Aliyun retires V1 for new accounts and buckets since 2025) or v1",
        "addressing": "auto (default: virtual-host for *.aliyuncs.com, path-style for an IP or "
        "localhost endpoint), path (an OSS-compatible server on a host name) or cname (the endpoint is "
        "a custom domain bound to the bucket, which new accounts need outside Aliyun's network)",
    }
)
"""The URL options `OssProvider` declares, name -> help."""
BUCKET_RULE = (
    "3-63 characters of lower-case letters, digits and hyphens, starting with a letter or digit "
    "and not ending with a hyphen"
)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")


@dataclass(frozen=True)
class Region:
    """An OSS region of RTC's table, whichever spelling it was given in."""

    id: str
    """``oss-cn-hangzhou``: the table's, the endpoint's and GetBucketInfo's spelling."""
    code: int
    """RTC's integer Region code (CustomConfig.Region for Vendor 1)."""
    host: str
    """The public endpoint host, ``oss-cn-hangzhou.aliyuncs.com``."""

    @classmethod
    def of(cls, name: str | None) -> Region:
        """The table row for `name` (``oss-cn-hangzhou``, ``cn-hangzhou`` or an RTC code), or a
        ConfigurationError naming the valid ones. Rows RTC does not support still open sessions
        (listing and downloading an existing bucket); `storage_config` refuses them."""
        if not name:
            raise ConfigurationError(
                "oss: target needs ?region=… (an OSS region id such as oss-cn-hangzhou): it picks the "
                "endpoint, the V4 signing scope and RTC's Region code"
            )
        entry = target_region("oss", name, allow_unsupported=True)
        return cls(entry.region, entry.code, entry.endpoint or f"{entry.region}.aliyuncs.com")

    @property
    def signing(self) -> str:
        """The id V4 signs with: ``cn-hangzhou``."""
        return self.id.removeprefix("oss-")

    @property
    def default_endpoint(self) -> str:
        return f"https://{self.host}"

    def same(self, location: str) -> bool:
        """Whether a service-reported location (either spelling) is this region."""
        bare = location.strip().lower().removeprefix("oss-")
        return bare == self.signing


def check_bucket(name: str) -> None:
    """OSS's bucket naming rule, before any request (oss2 would raise a bare ClientError)."""
    if not _BUCKET.fullmatch(name):
        raise ConfigurationError(f"target bucket {name!r}: an OSS bucket name is {BUCKET_RULE}")


def check_endpoint(endpoint: str | None) -> None:
    """oss2 keeps only the scheme and host of an endpoint: a path would be dropped silently."""
    if endpoint and urlsplit(endpoint).path not in ("", "/"):
        raise ConfigurationError(
            f"target option 'endpoint': {endpoint!r} has a path; oss2 sends requests to the host only"
        )


def check_option(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigurationError(f"target option {name!r}: {value!r} is not one of {', '.join(allowed)}")


__all__ = [
    "ADDRESSING",
    "BUCKET_RULE",
    "OPTIONS",
    "SIGNATURES",
    "Addressing",
    "Region",
    "check_bucket",
    "check_endpoint",
    "check_option",
]
