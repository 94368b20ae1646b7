"""Aliyun OSS over the official `oss2` SDK (StorageConfig Type 2, CustomConfig Vendor 1, spec §3.3.4).

A target is ``oss://BUCKET[/PREFIX]?region=oss-cn-hangzhou[&endpoint=URL][&signature=v4|v1]
[&addressing=auto|path|cname]``; where its requests go is decided in `rtcsnap_oss.endpoint`.

How the SDK is driven, and why:
* **Signature V4** by default (`oss2.AuthV4`, region ``cn-hangzhou``): Aliyun stopped offering V1
  to new accounts (2025-03) and new buckets (2025-09); ``?signature=v1`` remains for old
  OSS-compatible servers. An STS token (``OSS_SESSION_TOKEN``) signs through `oss2.StsAuth`.
* **Retries are core's.** `Bucket` calls send one request each (oss2 retries only inside its
  iterators, ``oss2.defaults.request_retries``, which this provider never uses) and requests'
  adapters retry nothing: no knob to turn, and no process-global `oss2.defaults` is touched.
* **CRC64 once, in core.** `enable_crc=False`: the SDK would hash every GET a second time (the
  TOS lesson, docs/benchmarks.md). Core checks each download against ``x-oss-hash-crc64ecma``;
  a PUT compares the CRC64 the service reports with the content's (`ChecksumMismatchError`).
  The ETag is the MD5 only for a ``Normal`` object (a simple PUT), so only those offer ``md5``.
* **One `oss2.Bucket` (and `oss2.Session`, its connection pool) per rtcsnap session**, not shared
  across threads: a maintainer says a Bucket may be shared "as long as you do not modify it"
  (aliyun-oss-python-sdk #137), but nothing documents it, the Bucket rewrites its URL maker's
  state on every call, requests does not promise a thread-safe Session, and its pool of
  `_POOL` connections would queue 16 download threads. Core opens one session per thread.
* **head_bucket is GetBucketInfo**: it proves the key, the bucket *and* the region — its
  ``Location`` must be the target's (RTC writes to the region the StorageConfig names).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from rtcsnap import checksums
from rtcsnap.errors import ChecksumMismatchError, ConfigurationError, Reason, StorageError
from rtcsnap.providers.contract import (
    CHUNK_SIZE,
    Body,
    Capabilities,
    Checksum,
    ObjectInfo,
    ObjectStream,
    Page,
    Session,
    ThirdPartyProvider,
)
from rtcsnap.providers.dates import epoch_date
from rtcsnap.target import StorageTarget

from rtcsnap_oss.endpoint import (
    ADDRESSING,
    OPTIONS,
    SIGNATURES,
    Region,
    check_bucket,
    check_endpoint,
    check_option,
)
from rtcsnap_oss.errors import SDK_ERRORS, translate
from rtcsnap_oss.sdk import StaticCredentialsProvider, oss2

_TIMEOUT = (10, 60)  # (connect, read) seconds, as the other providers
_POOL = 4  # connections per session: a session serves one thread (core opens one per worker)
_MAX_KEYS = 1000  # OSS refuses a larger max-keys (400 InvalidArgument)
_MD5_HEX = frozenset("0123456789abcdef")


def make_auth(access_key: str, secret_key: str, token: str | None, signature: str) -> Any:
    """The oss2 signer for `signature` (``v4``/``v1``), STS-aware."""
    version = oss2.AUTH_VERSION_4 if signature == "v4" else oss2.AUTH_VERSION_1
    if token:
        return oss2.StsAuth(access_key, secret_key, token, auth_version=version)
    credentials = StaticCredentialsProvider(access_key, secret_key)
    return oss2.ProviderAuthV4(credentials) if signature == "v4" else oss2.ProviderAuth(credentials)


def make_bucket(target: StorageTarget, access_key: str, secret_key: str, token: str | None = None) -> Any:
    """An `oss2.Bucket` for `target`, configured as every session of this provider is (the
    benchmark's raw loop builds its own with this too)."""
    region = Region.of(target.region)
    options = target.options
    addressing = options.get("addressing", "auto")
    try:
        return oss2.Bucket(
            make_auth(access_key, secret_key, token, options.get("signature", "v4")),
            target.endpoint or region.default_endpoint,
            target.bucket,
            session=oss2.Session(pool_size=_POOL),  # this session's own connection pool
            connect_timeout=_TIMEOUT,
            enable_crc=False,  # core verifies CRC64 once; see the module docstring
            region=region.signing,
            is_cname=addressing == "cname",
            is_path_style=addressing == "path",
        )
    except oss2.exceptions.ClientError as exc:  # an endpoint oss2 cannot use (e.g. IPv6)
        raise ConfigurationError(f"oss: {exc.body.removeprefix('ClientError: ')}") from None


class OssSession(Session):
    sdk_errors = SDK_ERRORS

    def __init__(self, provider: OssProvider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        creds = self.require_credentials()
        token = creds.session_token.get_secret_value() if creds.session_token else None
        self.region = Region.of(target.region)
        self.endpoint = target.endpoint or self.region.default_endpoint
        self.bucket = make_bucket(target, creds.access_key, creds.secret_key.get_secret_value(), token)

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        where = f"oss://{self.target.bucket}/{key}" if key else f"oss://{self.target.bucket}"
        return translate(exc, operation, where, self.endpoint)

    def head_bucket(self) -> None:
        with self.sdk("head_bucket"):
            info = self.bucket.get_bucket_info()
        location = str(info.location or "")
        if location and not self.region.same(location):
            raise StorageError(
                Reason.WRONG_REGION,
                f"oss://{self.target.bucket}: the bucket is in {location}, the target says "
                f"{self.region.id}: RTC would write to the wrong region (use ?region={location})",
                provider="oss",
                operation="head_bucket",
            )

    def put(self, key: str, data: Body, content_type: str = "application/octet-stream") -> ObjectInfo:
        content = data if isinstance(data, bytes) else data.read()
        with self.sdk("put", key):
            result = self.bucket.put_object(key, content, headers={"Content-Type": content_type})
        stored = {} if result.crc is None else {"crc64ecma": str(result.crc)}
        if stored:  # what the service stored must be what we sent (the SDK's own check is off)
            sent = checksums.new_hasher("crc64ecma")
            sent.update(content)
            if not checksums.same("crc64ecma", stored["crc64ecma"], sent.value()):
                raise ChecksumMismatchError(
                    key, "crc64ecma", sent.value(), stored["crc64ecma"], provider="oss"
                )
        return ObjectInfo(key, len(content), _etag(result.etag), checksums=MappingProxyType(stored))

    def get(self, key: str) -> ObjectStream:
        with self.sdk("get", key):
            result = self.bucket.get_object(key)

        def chunks() -> Iterator[bytes]:
            with self.sdk("get", key):  # a stalled or cut body fails while reading
                while chunk := result.read(CHUNK_SIZE):
                    yield chunk

        return ObjectStream(_info(key, result), chunks(), result.close)

    def stat(self, key: str) -> ObjectInfo:
        with self.sdk("stat", key):
            return _info(key, self.bucket.head_object(key))

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        with self.sdk("list", prefix):
            result = self.bucket.list_objects_v2(
                prefix=prefix, continuation_token=cursor or "", max_keys=min(limit, _MAX_KEYS)
            )
        items = [
            ObjectInfo(
                o.key,
                int(o.size),
                _etag(o.etag),
                epoch_date(o.last_modified),
                _checksums(o.type, o.etag, None),
            )
            for o in result.object_list
        ]
        return Page.resuming(
            items,
            result.next_continuation_token,
            bool(result.is_truncated),
            f"oss://{self.target.bucket}/{prefix}",
            "NextContinuationToken",
        )

    def delete(self, key: str) -> None:
        with self.sdk("delete", key):
            self.bucket.delete_object(key)

    def checksum(self, info: ObjectInfo) -> Checksum | None:
        """CRC64 when the GET carried it, else the ETag of a ``Normal`` object (its MD5): never a
        bare 32-hex ETag, which for an appendable object is no MD5."""
        for algorithm in self.provider.capabilities.checksums:
            if value := info.checksums.get(algorithm):
                return Checksum(algorithm, value)
        return None

    def close(self) -> None:
        self.bucket.session.session.close()


class OssProvider(ThirdPartyProvider):
    name = "oss"
    scheme = "oss"
    vendor = 1
    region_table = "oss"
    capabilities = Capabilities(checksums=("crc64ecma", "md5"))
    options = OPTIONS
    credential_env = ("OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET")
    session_token_env = "OSS_SESSION_TOKEN"
    credentials_hint = "set OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET (and OSS_SESSION_TOKEN for STS)"
    sdk_loggers = ("oss2", "urllib3", "requests")
    description = "Aliyun OSS (oss2 SDK, signature V4); credentials OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET"
    target_help = (
        "oss://BUCKET[/PREFIX]?region=oss-cn-hangzhou[&endpoint=URL][&signature=v4|v1]"
        "[&addressing=auto|path|cname]"
    )
    credentials_help = "OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET (+ OSS_SESSION_TOKEN)"

    def check_target(self, target: StorageTarget) -> None:
        """Bucket name, region and option values, before any request."""
        super().check_target(target)
        check_bucket(target.bucket)
        Region.of(target.region)
        check_endpoint(target.endpoint)
        check_option("signature", target.options.get("signature", "v4"), SIGNATURES)
        check_option("addressing", target.options.get("addressing", "auto"), ADDRESSING)

    def open(self, target: StorageTarget) -> OssSession:
        return OssSession(self, target)


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


def _checksums(kind: str | None, etag: str | None, crc: int | None) -> Mapping[str, str]:
    """What the service said: its CRC64, and the ETag as MD5 when the object is ``Normal``."""
    found: dict[str, str] = {} if crc is None else {"crc64ecma": str(crc)}
    md5 = (_etag(etag) or "").lower()
    if kind == "Normal" and len(md5) == 32 and set(md5) <= _MD5_HEX:
        found["md5"] = md5
    return MappingProxyType(found)


def _info(key: str, result: Any) -> ObjectInfo:
    return ObjectInfo(
        key,
        int(result.content_length),
        _etag(result.etag),
        epoch_date(result.last_modified),
        _checksums(result.object_type, result.etag, result.server_crc),
    )


__all__ = ["OssProvider", "OssSession", "make_auth", "make_bucket"]
