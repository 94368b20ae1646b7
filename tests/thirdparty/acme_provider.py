"""A complete third-party provider, as a plugin author would write it: rtcsnap's public contract only.

"Acme" is an S3-protocol store (spoken through boto3) that RTC would reach as CustomConfig Vendor 3:
a third-party implementation of the storage the shipped ``rtcsnap-cos`` serves. Every vendor RTC
knows has a shipped provider, so a third-party one replaces one of them: with both installed the
(Type, Vendor) clash is a load error, and users pick one with ``RTCSNAP_DISABLE_PLUGINS=cos``.
Tests install it as its own distribution ("rtcsnap-acme") with an entry point in the `rtcsnap`
group, and run rtcsnap's shipped contract suite against it.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from rtcsnap import (
    Capabilities,
    ObjectInfo,
    ObjectStream,
    Page,
    Provider,
    Reason,
    Session,
    StorageError,
    hookimpl,
)
from rtcsnap.models import CustomConfig, StorageConfig

CODES = {
    "NoSuchBucket": Reason.BUCKET_MISSING,
    "NoSuchKey": Reason.NOT_FOUND,
    "InvalidAccessKeyId": Reason.UNKNOWN_ACCESS_KEY,
    "SignatureDoesNotMatch": Reason.BAD_SECRET,
    "AccessDenied": Reason.PERMISSION_DENIED,
    "SlowDown": Reason.THROTTLED,
}
STATUS = {404: Reason.NOT_FOUND, 403: Reason.PERMISSION_DENIED, 500: Reason.TRANSIENT, 503: Reason.TRANSIENT}


def _error(exc: Exception, op: str) -> StorageError:
    if not isinstance(exc, ClientError):
        return StorageError(Reason.NETWORK, type(exc).__name__, provider="acme", operation=op)
    code = exc.response["Error"].get("Code", "")
    status = exc.response["ResponseMetadata"].get("HTTPStatusCode", 0)
    reason = CODES.get(code) or STATUS.get(status, Reason.OTHER)
    if op == "head_bucket" and status == 404:
        reason = Reason.BUCKET_MISSING
    return StorageError(reason, code or str(status), provider="acme", operation=op, code=code, status=status)


class AcmeSession(Session):
    def __init__(self, provider: Provider, target) -> None:
        super().__init__(provider, target)
        c = target.credentials
        self.s3 = boto3.client(
            "s3",
            endpoint_url=target.endpoint,
            region_name="us-east-1",
            aws_access_key_id=c.access_key,
            aws_secret_access_key=c.secret_key.get_secret_value(),
            config=Config(
                s3={"addressing_style": "path"},
                retries={"total_max_attempts": 1},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        self.bucket = target.bucket

    sdk_errors = (ClientError, BotoCoreError, OSError)

    def translate(self, exc, operation, key=""):
        return _error(exc, operation)

    def _call(self, op: str, fn, **kw):
        with self.sdk(op):
            return fn(Bucket=self.bucket, **kw)

    def head_bucket(self) -> None:
        self._call("head_bucket", self.s3.head_bucket)

    def stat(self, key: str) -> ObjectInfo:
        r = self._call("stat", self.s3.head_object, Key=key)
        return ObjectInfo(key, r["ContentLength"], r["ETag"].strip('"'), r["LastModified"])

    def put(self, key, data, content_type="application/octet-stream") -> ObjectInfo:
        r = self._call("put", self.s3.put_object, Key=key, Body=data, ContentType=content_type)
        return ObjectInfo(key, len(data), r["ETag"].strip('"'))

    def get(self, key: str) -> ObjectStream:
        r = self._call("get", self.s3.get_object, Key=key)

        def chunks() -> Iterator[bytes]:
            with self.sdk("get", key):
                yield from r["Body"].iter_chunks(65536)

        info = ObjectInfo(key, r["ContentLength"], r["ETag"].strip('"'), r["LastModified"])
        return ObjectStream(info, chunks(), r["Body"].close)

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        kw = {"Prefix": prefix, "MaxKeys": limit, **({"ContinuationToken": cursor} if cursor else {})}
        r = self._call("list", self.s3.list_objects_v2, **kw)
        items = [
            ObjectInfo(o["Key"], o["Size"], o["ETag"].strip('"'), o["LastModified"])
            for o in r.get("Contents", [])
        ]
        return Page(items, r.get("NextContinuationToken") if r.get("IsTruncated") else None)

    def delete(self, key: str) -> None:
        self._call("delete", self.s3.delete_object, Key=key)

    def checksum(self, info: ObjectInfo):
        return ("md5", info.etag) if info.etag and "-" not in info.etag else None


class AcmeProvider(Provider):
    name = "acme"
    scheme = "acme"
    storage_type = 2
    vendor = 3
    region_table = "cos"
    capabilities = Capabilities(list=True, delete=True, upload=True, checksums=("md5",))
    credential_env = ("ACME_ACCESS_KEY", "ACME_SECRET_KEY")

    def storage_config(self, target) -> StorageConfig:
        c = target.credentials
        return StorageConfig(
            type=2,
            custom_config=CustomConfig(
                vendor=3,
                region=target.region or 0,  # COS has no code 0 (spec §3.4.6): a target names its region
                bucket=target.bucket,
                access_key=c.access_key,
                secret_key=c.secret_key.get_secret_value(),
            ),
        )

    def open(self, target) -> AcmeSession:
        return AcmeSession(self, target)


@hookimpl
def rtcsnap_register_providers(register) -> None:
    register(AcmeProvider)
