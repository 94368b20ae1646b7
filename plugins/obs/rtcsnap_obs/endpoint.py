"""How an `obs://` target becomes an `ObsClient` configuration, decided before any request.

The SDK makes three silent choices we make explicit instead (sdk-lab §10, ``obs/client.py``):

* an IP endpoint forces path-style addressing, and with it turns the default ``signature='obs'``
  into ``'v2'`` — so with an IP endpoint the default here is ``v2`` and ``obs`` is refused;
* ``localhost`` does not match the SDK's IPv4 pattern (``obs/const.py``): it would go
  virtual-host (``BUCKET.localhost``, which does not resolve) — it is rewritten to 127.0.0.1;
* signature *negotiation* (on by default for hostnames) sends an unsigned ``HEAD ?apiversion``
  per bucket before the first real call: an extra request core cannot count or retry, and a
  404 there becomes the answer of the call itself. It is off; the signature is chosen here.

The default signature for a real OBS endpoint is ``obs``, the service's own (V2-style, with
``x-obs-*`` headers), which is what the SDK negotiates against OBS; ``v4`` (AWS SigV4 with
OBS's ``Date`` header) and ``v2`` (AWS V2) are offered for S3-compatible servers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from rtcsnap.errors import ConfigurationError, ValidationError
from rtcsnap.regions import lookup, target_region
from rtcsnap.target import StorageTarget

SIGNATURES = ("obs", "v4", "v2")
_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")
"""The SDK's own test for "an IP endpoint" (``obs/const.py`` IPv4_REGEX): path-style then."""


@dataclass(frozen=True)
class ClientSettings:
    """What `ObsClient` is built with for one target (credentials aside)."""

    server: str
    """``scheme://host[:port]``, localhost already rewritten."""
    signature: str
    path_style: bool
    region: str
    """The signing region (V4 credential scope); the table's region id when the target names one."""
    proxy: tuple[str, int] | None = None

    def kwargs(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "server": self.server,
            "signature": self.signature,
            "path_style": self.path_style,
            "region": self.region,
        }
        if self.proxy is not None:
            options |= {"proxy_host": self.proxy[0], "proxy_port": self.proxy[1]}
        return options


def table_region(region: str) -> str:
    """The OBS region id a target's ``region`` names (an id or an RTC code), or a one-line error
    listing the valid ones."""
    return target_region("obs", region).region


def settings(target: StorageTarget) -> ClientSettings:
    """The client configuration for `target`; every rule broken is a `ConfigurationError` naming
    the option and the rule."""
    region = target.region or ""
    if target.endpoint is None:
        if not region:
            raise ConfigurationError(
                "obs target: add ?region=… (an OBS region id such as cn-north-4) or ?endpoint=URL"
            )
        region = table_region(region)
        server = f"https://obs.{region}.myhuaweicloud.com"
    else:
        server = _server(target.endpoint)
        if region:  # with an endpoint, any region id signs V4 (an S3-compatible server's own)
            region = _maybe_table_region(region)
    host = urlsplit(server).hostname or ""
    ip = _IPV4.fullmatch(host) is not None
    signature = target.options.get("signature") or ("v2" if ip else "obs")
    if signature not in SIGNATURES:
        raise ConfigurationError(
            f"obs target option 'signature': {signature!r} is not one of {', '.join(SIGNATURES)}"
        )
    if signature == "obs" and ip:
        raise ConfigurationError(
            "obs target option 'signature': 'obs' needs virtual-host addressing, which an IP "
            "endpoint cannot have (the SDK would silently sign v2): use signature=v2 or v4"
        )
    if signature == "v4" and not region:
        raise ConfigurationError("obs target option 'signature': v4 signs with the region: add ?region=…")
    proxy = _proxy(target.options["proxy"]) if target.options.get("proxy") else None
    return ClientSettings(server, signature, ip, region or "region", proxy)


def _maybe_table_region(region: str) -> str:
    try:
        return lookup("obs", region).region
    except ValidationError:
        return region


def _server(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            f"obs target option 'endpoint': {endpoint!r} is not an http(s)://host[:port] URL"
        )
    if parts.path not in ("", "/") or parts.query or parts.username is not None:
        raise ConfigurationError(
            "obs target option 'endpoint': only scheme://host[:port], no path, query or user"
        )
    host = parts.hostname
    if ":" in host:
        raise ConfigurationError(
            "obs target option 'endpoint': the OBS SDK cannot address an IPv6 literal; use a name or an IPv4"
        )
    if host == "localhost":  # the SDK would go virtual-host: BUCKET.localhost does not resolve
        host = "127.0.0.1"
    try:
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"obs target option 'endpoint': bad port in {endpoint!r}") from None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def _proxy(value: str) -> tuple[str, int]:
    parts = urlsplit(value if "://" in value else f"http://{value}")
    if parts.username is not None or parts.password is not None:
        raise ConfigurationError(
            "obs target option 'proxy': no credentials in the URL (it would put a secret there)"
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ConfigurationError(f"obs target option 'proxy': {value!r} is not host:port of an HTTP proxy")
    return parts.hostname, port


__all__ = ["SIGNATURES", "ClientSettings", "settings", "table_region"]
