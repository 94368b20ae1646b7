"""What a ``cos://`` target must say before any request, and how the SDK addresses it.

COS has no path-style: the SDK always puts the bucket (``name-APPID``) in front of a domain.
Three ways to reach a bucket, chosen by the target's ``endpoint``:

* none: the real service, ``https://<bucket>.cos.<region>.myqcloud.com``;
* an IP or ``localhost`` (a local server): the SDK connects there (``IP``/``Port``) and sends
  ``Host: <bucket>.cos.<region>.rtcsnap.invalid`` — a domain that can never resolve;
* a hostname: a COS-compatible domain the bucket is put in front of (``https://cos.ap-guangzhou.
  tencentcos.cn`` → ``<bucket>.cos.ap-guangzhou.tencentcos.cn``), unless it already starts with
  the bucket name: then it is the bucket's own domain (the SDK's ``Domain``), used as it is.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from rtcsnap.errors import ConfigurationError
from rtcsnap.regions import RegionEntry, target_region
from rtcsnap.target import StorageTarget

BUCKET_RULE = (
    "NAME-APPID: a NAME of a-z, 0-9 and '-' (not first or last), then '-' and the numeric "
    "APPID, e.g. snapshots-1250000000"
)
_BUCKET = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-[0-9]+")
MAX_DOMAIN = 60
"""COS's naming rule: ``<bucket>.cos.<region>.myqcloud.com`` is at most 60 characters."""
LOCAL_DOMAIN = "rtcsnap.invalid"


def check_bucket(bucket: str, region: str) -> None:
    """COS's bucket naming rule (its docs' "Bucket Naming Conventions"), before any request."""
    if not _BUCKET.fullmatch(bucket):
        raise ConfigurationError(f"target bucket {bucket!r}: a COS bucket is {BUCKET_RULE}")
    domain = f"{bucket}.cos.{region}.myqcloud.com"
    if len(domain) > MAX_DOMAIN:
        room = MAX_DOMAIN - len(domain) + len(bucket)
        raise ConfigurationError(
            f"target bucket {bucket!r}: too long for region {region} — a COS bucket name there, "
            f"APPID included, has at most {room} characters (its domain {domain} at most {MAX_DOMAIN})"
        )


def region_entry(target: StorageTarget) -> RegionEntry:
    """The target's row in the confirmed COS table. COS has no region code 0 (the default of
    CustomConfig.Region), so a COS target must name one."""
    return target_region("cos", target.region)


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def addressing(target: StorageTarget, region: str) -> dict[str, Any]:
    """The CosConfig arguments that reach `target`'s bucket (see the module docstring)."""
    if not target.endpoint:
        return {"Scheme": "https"}
    parts = urlsplit(target.endpoint)
    if parts.path not in ("", "/") or parts.query:
        raise ConfigurationError(
            f"target option 'endpoint': {target.endpoint!r} has a path or query; COS endpoints "
            "are a scheme and a host (the bucket goes in front of the host)"
        )
    host, scheme = parts.hostname or "", parts.scheme
    if _is_local(host):
        ip = f"[{host}]" if ":" in host else host
        port = parts.port or (443 if scheme == "https" else 80)
        return {"Scheme": scheme, "Endpoint": f"cos.{region}.{LOCAL_DOMAIN}", "IP": ip, "Port": port}
    netloc = parts.netloc.lower()
    if netloc.startswith(f"{target.bucket}."):
        return {"Scheme": scheme, "Domain": netloc}
    return {"Scheme": scheme, "Endpoint": netloc}


__all__ = ["BUCKET_RULE", "LOCAL_DOMAIN", "MAX_DOMAIN", "addressing", "check_bucket", "region_entry"]
