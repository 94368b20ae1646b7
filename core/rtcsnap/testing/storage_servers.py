"""Every local storage server behind one shape, for `rtcsnap emulator storage KIND` and for
code that wants "a bucket with a write-only key" whatever the storage.

    with open_server("tos", buckets=["snaps"]) as running:
        print(running.describe())          # the JSON the CLI prints: endpoint, keys, target URL

A KIND maps to the server that checks that vendor's real signatures: ``s3`` → SeaweedFS (a
native S3 server with per-key actions), ``tos`` → `LocalTOSServer`, ``veimagex`` →
`LocalImageXServer`, ``oss``/``obs``/``cos``/``kodo`` → `LocalOSSServer`, `LocalOBSServer`,
`LocalCOSServer`, `LocalKodoServer`. Keys use SeaweedFS's action names (`rtcsnap.testing.keys`):
the write-only key may only ``Write``; the read-only key may ``Read`` and ``List``.

A server of ours (a `KeyRing` server) needs: ``keys``, ``start()``/``stop()``, ``endpoint``,
``create_bucket(name)`` (veImageX: ``create_service``) and, when its targets need more than
``region`` and ``endpoint`` in the URL (Kodo's download ``domain``), ``target_options(bucket)``.
"""

from __future__ import annotations

import contextlib
import importlib
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from rtcsnap.errors import ConfigurationError

KINDS = ("s3", "tos", "veimagex", "oss", "obs", "cos", "kodo")
WRITE_ONLY = ("Write",)
READ_ONLY = ("Read", "List")
SAMPLE_ACCOUNT_ID = "2100000000"
"""The AccountId put in TOS/veImageX target URLs: the local servers have no accounts."""

Pair = tuple[str, str]


@dataclass
class RunningServer:
    kind: str
    endpoint: str
    region: str
    buckets: list[str]
    admin: Pair
    write_only: Pair
    read_only: Pair
    account_id: str = SAMPLE_ACCOUNT_ID
    server: Any = field(default=None, repr=False)

    def target(self, bucket: str | None = None) -> str:
        """The rtcsnap target URL of `bucket` (default: the first) on this server."""
        name = bucket or self.buckets[0]
        query: dict[str, str] = {"region": self.region, "endpoint": self.endpoint}
        query |= _SPECS[self.kind].options(self, name)
        return f"{self.kind}://{name}?{urlencode(query, safe=':/')}"

    def add_bucket(self, name: str) -> str:
        """Create another bucket (veImageX: service; COS: `name` must end in its APPID) and return
        its name, e.g. a fresh one per test on a server shared by the session."""
        getattr(self.server, _SPECS[self.kind].create)(name)
        self.buckets.append(name)
        return name

    def describe(self) -> dict[str, Any]:
        """What `rtcsnap emulator storage` prints (secrets included: it is a local test server)."""
        return {
            "kind": self.kind,
            "endpoint": self.endpoint,
            "buckets": list(self.buckets),
            "access_key": self.admin[0],
            "secret_key": self.admin[1],
            "keys": {"write_only": list(self.write_only), "read_only": list(self.read_only)},
            "target": self.target(),
        }


def _pair(given: Pair | None) -> Pair:
    if given is not None:
        return given
    return f"AKLT{secrets.token_hex(12).upper()}", secrets.token_urlsafe(30)


def _s3(host: str, port: int, buckets: Sequence[str], admin: Pair, wo: Pair, ro: Pair) -> Any:
    from rtcsnap.testing.seaweed import FIXED_KEYS, SeaweedKey, SeaweedS3Server

    extra = [
        SeaweedKey("admin", *admin, FIXED_KEYS["admin"]),
        SeaweedKey("rtc_write_only", *wo, WRITE_ONLY),
        SeaweedKey("read_only_cli", *ro, READ_ONLY),
    ]
    server = SeaweedS3Server(host=host, s3_port=port, extra_keys=extra).start()
    for bucket in buckets:
        server.create_bucket(bucket)
    return server


def _ours(module: str, cls: str, create: str = "create_bucket") -> Callable[..., Any]:
    """The start function of one of our `KeyRing` servers, ``module.cls`` imported on first use
    (each pulls in moto or its vendor's SDK)."""

    def start(host: str, port: int, buckets: Sequence[str], admin: Pair, wo: Pair, ro: Pair) -> Any:
        server = getattr(importlib.import_module(module), cls)(host, port)
        return _keyring_server(server, create, buckets, admin, wo, ro)

    return start


def _keyring_server(server: Any, create: str, buckets: Sequence[str], admin: Pair, wo: Pair, ro: Pair) -> Any:
    """A server of ours (`rtcsnap.testing.keys`): the three keys installed, then started."""
    server.keys.add(["Admin"], name="cli-admin", access_key=admin[0], secret_key=admin[1])
    server.keys.add(WRITE_ONLY, name="write-only", access_key=wo[0], secret_key=wo[1])
    server.keys.add(READ_ONLY, name="read-only", access_key=ro[0], secret_key=ro[1])
    server.start()
    for bucket in buckets:
        getattr(server, create)(bucket)
    return server


def _no_options(running: RunningServer, bucket: str) -> dict[str, str]:
    return {}


def _account(running: RunningServer, bucket: str) -> dict[str, str]:
    return {"account_id": running.account_id}


def _server_options(running: RunningServer, bucket: str) -> dict[str, str]:
    """What the server itself says its targets need (Kodo: the bucket's download domain)."""
    options: Callable[[str], dict[str, str]] | None = getattr(running.server, "target_options", None)
    return options(bucket) if options is not None else {}


@dataclass(frozen=True)
class _Spec:
    start: Callable[..., Any]
    region: str
    """The region its targets name (the vendor's own region name)."""
    bucket: str
    """The default bucket (veImageX: service id; COS: with its APPID)."""
    options: Callable[[RunningServer, str], dict[str, str]] = _no_options
    """Target URL options beyond ``region`` and ``endpoint``."""
    create: str = "create_bucket"
    """The server's method that creates a bucket."""


def _s3_options(running: RunningServer, bucket: str) -> dict[str, str]:
    return {"addressing": "path"}


_SPECS: dict[str, _Spec] = {
    "s3": _Spec(_s3, "us-east-1", "snapshots", _s3_options),
    "tos": _Spec(_ours("rtcsnap.testing.tosserver", "LocalTOSServer"), "cn-beijing", "snapshots", _account),
    "veimagex": _Spec(
        _ours("rtcsnap.testing.imagexserver", "LocalImageXServer", "create_service"),
        "cn-north-1",
        "snapsvc001",
        _account,
        "create_service",
    ),
    "oss": _Spec(
        _ours("rtcsnap.testing.ossserver", "LocalOSSServer"), "oss-cn-hangzhou", "snapshots", _server_options
    ),
    "obs": _Spec(
        _ours("rtcsnap.testing.obsserver", "LocalOBSServer"), "cn-north-4", "snapshots", _server_options
    ),
    "cos": _Spec(
        _ours("rtcsnap.testing.cosserver", "LocalCOSServer"),
        "ap-guangzhou",
        "snapshots-1250000000",
        _server_options,
    ),
    "kodo": _Spec(
        _ours("rtcsnap.testing.kodoserver", "LocalKodoServer"), "cn-east-1", "snapshots", _server_options
    ),
}
"""KIND -> how to start it and what its targets look like."""


@contextlib.contextmanager
def open_server(
    kind: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    buckets: Sequence[str] = (),
    admin: Pair | None = None,
    write_only: Pair | None = None,
    read_only: Pair | None = None,
) -> Iterator[RunningServer]:
    """Start the server for `kind` with `buckets` created and three keys installed; stop it after."""
    if kind not in _SPECS:
        raise ConfigurationError(f"storage server kind {kind!r}: expected one of {', '.join(KINDS)}")
    spec = _SPECS[kind]
    names = list(dict.fromkeys(buckets)) or [spec.bucket]
    keys = _pair(admin), _pair(write_only), _pair(read_only)
    if len({k[0] for k in keys}) != 3:
        raise ConfigurationError("storage server keys: the admin, write-only and read-only keys must differ")
    try:
        server = spec.start(host, port, names, *keys)
    except ImportError as exc:
        raise ConfigurationError(
            f"storage server {kind}: {exc.name or exc} is missing; install rtcsnap[testing]"
        ) from None
    try:
        yield RunningServer(kind, server.endpoint, spec.region, names, *keys, server=server)
    finally:
        server.stop()


__all__ = ["KINDS", "READ_ONLY", "SAMPLE_ACCOUNT_ID", "WRITE_ONLY", "RunningServer", "open_server"]
