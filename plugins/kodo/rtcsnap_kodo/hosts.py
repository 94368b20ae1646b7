"""Which hosts a Kodo session talks to, given to the SDK per call — never through its globals.

The qiniu SDK's defaults are process-wide: ``qiniu.set_default`` (uc host, default zone,
``connection_retries``) changes every client in the process, and a `BucketManager` without
`regions` asks ``uc.qiniuapi.com`` where a bucket lives. So each session builds its own
`qiniu.http.region.Region` naming every service it uses — uc included (without it the uc calls
fall back to the global uc host) — and hands it to `BucketManager(regions=…)` and to
`FormUploader(regions=…)`, with the scheme each of them must use (their ``preferred_scheme``
overrides the endpoint's own).

One global cannot be avoided: every SDK call goes out through one `requests.Session`
(``qiniu.http.default_client.qn_http_client.session``), on which the SDK re-mounts an adapter
for ``http://`` with ``max_retries=connection_retries`` (3) before each upload. urllib3 then
re-sends a GET whose connection broke, and any request refused at connect, up to 3 times —
retries core must own. `no_sdk_retries` mounts a retry-less adapter for exactly the hosts a
session uses (a longer prefix wins over ``http://`` in requests), leaving every other host, and
every other setting, as the application configured it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from urllib.parse import urlsplit

from qiniu.http.default_client import qn_http_client
from qiniu.http.endpoint import Endpoint
from qiniu.http.region import Region, ServiceName
from requests.adapters import HTTPAdapter
from rtcsnap.errors import ConfigurationError
from rtcsnap.target import StorageTarget

ZONES: Mapping[str, str] = MappingProxyType(
    {"cn-east-1": "z0", "cn-east-2": "cn-east-2", "cn-north-1": "z1", "cn-south-1": "z2"}
)
"""Kodo region id (rtcsnap's region table, spec §3.4.7) -> the SDK's zone id, whose hosts
`Region.from_region_id` knows. UNCONFIRMED: the table's own note calls this mapping an inference."""
SERVICES = (ServiceName.UC, ServiceName.UP, ServiceName.IO, ServiceName.RS, ServiceName.RSF, ServiceName.API)
POOL = 16
"""Connections kept per host on the SDK session (its default is 10; core may run more workers)."""

_lock = threading.Lock()


class _NoRetries(HTTPAdapter):
    """A plain adapter with ``max_retries=0`` (requests' default): one request per call."""

    def __init__(self) -> None:
        super().__init__(pool_connections=POOL, pool_maxsize=POOL, max_retries=0)


@dataclass(frozen=True)
class Hosts:
    region: Region
    scheme: str
    """The scheme of every SDK call (the SDK's ``preferred_scheme``)."""
    endpoint: str | None
    """The one URL serving every service (a local or private Kodo), if the target names one."""


def for_target(target: StorageTarget) -> Hosts:
    """The target's endpoint for every service, else the real hosts of its region (the first of
    each service only: the SDK fails over to a second host on its own, a retry core must own)."""
    if target.endpoint:
        parts = urlsplit(target.endpoint)
        endpoint = f"{parts.scheme}://{parts.netloc}"
        services = {sn: [Endpoint.from_host(endpoint)] for sn in SERVICES}
        return Hosts(Region(region_id=target.region or "endpoint", services=services), parts.scheme, endpoint)
    zone = ZONES.get((target.region or "").lower())
    if zone is None:
        raise ConfigurationError(unknown_region(target.region))
    full = Region.from_region_id(zone, preferred_scheme="https")
    first = {sn: full.services[sn][:1] for sn in SERVICES}
    return Hosts(Region(region_id=zone, services=first), "https", None)


def unknown_region(region: str | None) -> str:
    given = f"region {region!r} is not in RTC's Kodo region table" if region else "region required"
    return f"kodo: {given}; use one of {', '.join(ZONES)} (or name an endpoint)"


def no_sdk_retries(hosts: Hosts) -> None:
    """Mount the retry-less adapter on the SDK's shared session for each host of `hosts`, once."""
    session = qn_http_client.session
    prefixes = {
        f"{hosts.scheme}://{e.host}/".lower() for sn in SERVICES for e in hosts.region.services.get(sn, [])
    }
    with _lock:
        for prefix in sorted(prefixes):
            if not isinstance(session.adapters.get(prefix), _NoRetries):
                session.mount(prefix, _NoRetries())


__all__ = ["POOL", "SERVICES", "ZONES", "Hosts", "for_target", "no_sdk_retries", "unknown_region"]
