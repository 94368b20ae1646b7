"""Tencent COS over the official ``cos-python-sdk-v5`` SDK (StorageConfig Type 2, Vendor 3).

A target is ``cos://BUCKET-APPID[/PREFIX]?region=ap-guangzhou[&endpoint=URL]``; how an endpoint
is addressed is in `rtcsnap_cos.target`. What the SDK would otherwise do behind core's back:

* ``CosS3Client`` retries 3 times by default (sleeping 1 s, 2 s): ``retry=0``; its requests go
  through a session of ours whose adapters retry nothing either;
* every client shares one class-level ``requests.Session`` (the SDK's "built-in pool"): each
  session here passes its own, so sessions share no connections and closing one frees its own;
* a 3xx counts as success in the SDK: the session's response hook makes it an error
  (`rtcsnap_cos.errors.Redirected` → ``wrong_region``);
* the SDK checks no CRC on a GET (only ``download_file(EnableCRC=True)`` does): core verifies
  the ``x-cos-hash-crc64ecma`` the GET carries, and `put` compares the CRC64 the service
  reports for what it stored with the bytes sent.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

import requests
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosClientError, CosServiceError
from requests.adapters import HTTPAdapter
from rtcsnap import checksums
from rtcsnap.errors import ChecksumMismatchError, ConfigurationError, Reason, StorageError
from rtcsnap.providers.contract import (
    CHUNK_SIZE,
    Body,
    Capabilities,
    ObjectInfo,
    ObjectStream,
    Page,
    Session,
    ThirdPartyProvider,
)
from rtcsnap.providers.dates import http_date, iso_date
from rtcsnap.target import StorageTarget

from rtcsnap_cos.errors import NETWORK_ERRORS, refuse_redirects, translate
from rtcsnap_cos.target import addressing, check_bucket, region_entry

TIMEOUT = (10, 60)
"""(connect, read) seconds, handed to requests as the SDK's ``Timeout``."""
_CRC = "x-cos-hash-crc64ecma"


def _http_session() -> requests.Session:
    """A session of our own: no retries in urllib3 either, and the redirect hook."""
    http = requests.Session()
    for scheme in ("http://", "https://"):
        http.mount(scheme, HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=4))
    http.hooks["response"].append(refuse_redirects)
    return http


class CosSession(Session):
    sdk_errors = (CosServiceError, CosClientError, *NETWORK_ERRORS)

    def __init__(self, provider: CosProvider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        creds = self.require_credentials()
        self.region = region_entry(target).region
        check_bucket(target.bucket, self.region)
        self.bucket = target.bucket
        self.addressing = addressing(target, self.region)
        self.endpoint = target.endpoint or f"https://{self.bucket}.cos.{self.region}.myqcloud.com"
        token = creds.session_token.get_secret_value() if creds.session_token else None
        self.http = _http_session()
        try:
            config = CosConfig(
                Region=self.region,
                SecretId=creds.access_key,
                SecretKey=creds.secret_key.get_secret_value(),
                Token=token,
                Timeout=TIMEOUT,
                AllowRedirects=False,
                AutoSwitchDomainOnRetry=False,
                **self.addressing,
            )
        except CosClientError as exc:  # e.g. a key with a leading space: the SDK's own rule
            self.http.close()
            raise ConfigurationError(f"cos: {exc}") from None
        self.client = CosS3Client(config, retry=0, session=self.http)  # core owns retries

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        where = f"cos://{self.bucket}/{key}" if key else f"cos://{self.bucket}"
        return translate(exc, operation, where, self.endpoint, self.region)

    def head_bucket(self) -> None:
        with self.sdk("head_bucket"):
            self.client.head_bucket(Bucket=self.bucket)

    def put(self, key: str, data: Body, content_type: str = "application/octet-stream") -> ObjectInfo:
        content = data if isinstance(data, bytes) else data.read()
        with self.sdk("put", key):
            resp = _lower(
                self.client.put_object(Bucket=self.bucket, Body=content, Key=key, ContentType=content_type)
            )
        sent = checksums.new_hasher("crc64ecma")
        sent.update(content)
        stored = resp.get(_CRC)
        if stored is not None and not checksums.same("crc64ecma", stored, sent.value()):
            raise ChecksumMismatchError(key, "crc64ecma", sent.value(), stored, provider="cos")
        return ObjectInfo(key, len(content), _etag(resp.get("etag")), checksums=_crc(resp))

    def get(self, key: str) -> ObjectStream:
        with self.sdk("get", key):
            resp = self.client.get_object(Bucket=self.bucket, Key=key)
        raw = resp.pop("Body").get_raw_stream()  # urllib3's response: undecoded, as stored

        def chunks() -> Iterator[bytes]:
            with self.sdk("get", key):  # a cut or stalled body fails while reading
                while chunk := raw.read(CHUNK_SIZE):
                    yield chunk

        return ObjectStream(_info(key, _lower(resp)), chunks(), raw.close)

    def stat(self, key: str) -> ObjectInfo:
        with self.sdk("stat", key):
            return _info(key, _lower(self.client.head_object(Bucket=self.bucket, Key=key)))

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        with self.sdk("list", prefix):
            resp = self.client.list_objects(
                Bucket=self.bucket, Prefix=prefix, Marker=cursor or "", MaxKeys=limit
            )
        where = f"cos://{self.bucket}/{prefix}"
        truncated = resp.get("IsTruncated")  # the string 'true' / 'false'
        if truncated not in ("true", "false"):
            raise StorageError(
                Reason.OTHER, f"{where}: the answer is not a COS listing", provider="cos", operation="list"
            )
        items = [
            ObjectInfo(o["Key"], int(o["Size"]), _etag(o.get("ETag")), iso_date(o.get("LastModified")))
            for o in resp.get("Contents", [])
        ]
        # COS sends NextMarker on every truncated page, delimiter or not (its GET Bucket docs):
        # one missing is an error, never a guessed resume point
        return Page.resuming(items, resp.get("NextMarker"), truncated == "true", where, "NextMarker")

    def delete(self, key: str) -> None:
        with self.sdk("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def close(self) -> None:
        self.http.close()


class CosProvider(ThirdPartyProvider):
    name = "cos"
    scheme = "cos"
    vendor = 3
    region_table = "cos"
    capabilities = Capabilities(checksums=("crc64ecma", "md5"))
    credential_env = ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY")
    session_token_env = "TENCENTCLOUD_SESSION_TOKEN"
    credentials_hint = "set TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY"
    sdk_loggers = ("qcloud_cos", "urllib3", "requests")
    # The SDK client keeps per-call state (`_retry_exe_times`) and requests does not document a
    # Session as thread-safe; a session costs ~0.07 ms of CPU to build (no model files, unlike
    # botocore's ~0.2 s), so core's one session per worker thread costs nothing worth sharing.
    thread_safe_sessions = False
    description = (
        "Tencent COS (cos-python-sdk-v5); buckets are NAME-APPID; credentials "
        "TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY"
    )
    target_help = "cos://BUCKET-APPID[/PREFIX]?region=ap-guangzhou[&endpoint=URL]"
    credentials_help = "TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY (+ TENCENTCLOUD_SESSION_TOKEN)"

    def check_target(self, target: StorageTarget) -> None:
        super().check_target(target)
        region = region_entry(target).region
        check_bucket(target.bucket, region)
        if target.endpoint:
            addressing(target, region)

    def open(self, target: StorageTarget) -> CosSession:
        return CosSession(self, target)


def _lower(headers: Mapping[str, Any]) -> dict[str, Any]:
    """The SDK hands response headers back as a plain dict in the server's spelling."""
    return {k.lower(): v for k, v in headers.items()}


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


def _crc(headers: Mapping[str, Any]) -> MappingProxyType[str, str]:
    value = headers.get(_CRC)
    return MappingProxyType({"crc64ecma": str(value)} if value else {})


def _info(key: str, headers: Mapping[str, Any]) -> ObjectInfo:
    return ObjectInfo(
        key,
        int(headers.get("content-length") or 0),
        _etag(headers.get("etag")),
        http_date(headers.get("last-modified")),
        _crc(headers),
    )


__all__ = ["TIMEOUT", "CosProvider", "CosSession"]
