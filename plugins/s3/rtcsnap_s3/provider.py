"""Amazon S3 and S3-compatible storage over boto3 (StorageConfig Type 2, Vendor 0)."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, cast

import botocore.session
from boto3.session import Session as Boto3Session
from botocore import exceptions as bce
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from rtcsnap.errors import ConfigurationError, Reason, StorageError
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
from rtcsnap.providers.s3family import reason_for
from rtcsnap.target import Credentials, StorageTarget

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Addressing = Literal["auto", "path", "virtual"]
ADDRESSING: tuple[Addressing, ...] = ("auto", "path", "virtual")
_MULTIPART = re.compile(r"[0-9a-f]{32}-([1-9][0-9]{0,4})")
_STORED = (
    ("crc64nvme", "ChecksumCRC64NVME"),
    ("crc32c", "ChecksumCRC32C"),
    ("crc32", "ChecksumCRC32"),
    ("sha256", "ChecksumSHA256"),
    ("sha1", "ChecksumSHA1"),
)
"""S3's stored full-object checksums (returned with ChecksumMode=ENABLED), cheapest first."""
_NETWORK = (
    bce.ConnectionError,
    bce.HTTPClientError,
    bce.ResponseStreamingError,
    bce.IncompleteReadError,
    OSError,
)


def translate_error(
    exc: BaseException, operation: str, target: StorageTarget, key: str = "", endpoint: str | None = None
) -> StorageError:
    """The one mapping from a botocore failure to a `StorageError` (secrets redacted).

    A network error names the endpoint it tried: "could not connect" means little without it.
    """
    where = f"s3://{target.bucket}/{key}" if key else f"s3://{target.bucket}"
    code: str | None = None
    status: int | None = None
    request_id: str | None = None
    if isinstance(exc, ClientError):
        err, meta = exc.response.get("Error", {}), exc.response.get("ResponseMetadata", {})
        code, status = err.get("Code") or None, meta.get("HTTPStatusCode")
        request_id, text = meta.get("RequestId") or None, err.get("Message") or ""
        reason = reason_for(code, status, operation, text)
    elif isinstance(exc, _NETWORK):
        reason, text = Reason.NETWORK, str(exc)
        tried = endpoint or target.endpoint
        if tried and tried not in text:
            text = f"{text} (endpoint {tried})"
    else:
        reason, text = Reason.OTHER, f"{type(exc).__name__}: {exc}"
    message = f"{where}: {text or reason.describe}"
    if target.credentials is not None:
        message = target.credentials.redact(message)
    return StorageError(
        reason, message, provider="s3", operation=operation, code=code, status=status, request_id=request_id
    )


class S3Session(Session):
    def __init__(self, provider: S3Provider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        creds = self.require_credentials()
        config = Config(
            s3={"addressing_style": cast(Addressing, target.options.get("addressing", "auto"))},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"total_max_attempts": 1, "mode": "standard"},  # core owns retries
            connect_timeout=10,
            read_timeout=60,
            max_pool_connections=64,  # one client serves every download thread
        )
        session_token = creds.session_token.get_secret_value() if creds.session_token else None
        try:
            with _BOTO_LOCK:  # one botocore session (models loaded once); create_client is not thread-safe
                self.client: S3Client = _boto_session().client(
                    "s3",
                    endpoint_url=target.endpoint,
                    region_name=target.region or "us-east-1",
                    config=config,
                    aws_access_key_id=creds.access_key,
                    aws_secret_access_key=creds.secret_key.get_secret_value(),
                    aws_session_token=session_token,
                )
        except bce.ProfileNotFound as exc:
            raise ConfigurationError(f"s3: {exc}") from exc
        self.bucket = target.bucket
        # Core verifies every download against the stored checksum itself (one rule for every
        # provider); botocore checking it a second time would only double the hashing.
        self.client.meta.events.register("before-call.s3.GetObject", _no_sdk_response_validation)

    sdk_errors = (BotoCoreError, ClientError, OSError)  # OSError: sockets cut mid-body

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        return translate_error(exc, operation, self.target, key, self.client.meta.endpoint_url)

    def head_bucket(self) -> None:
        with self.sdk("head_bucket"):
            self.client.head_bucket(Bucket=self.bucket)

    def put(self, key: str, data: Body, content_type: str = "application/octet-stream") -> ObjectInfo:
        if isinstance(data, bytes):
            size = len(data)
        elif data.seekable():
            start = data.tell()
            size = data.seek(0, 2) - start
            data.seek(start)
        else:
            data = data.read()
            size = len(data)
        with self.sdk("put", key):
            resp = self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)
        return ObjectInfo(key, size, _etag(resp.get("ETag")))

    def get(self, key: str) -> ObjectStream:
        with self.sdk("get", key):
            resp = self.client.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        body = resp["Body"]

        def chunks() -> Iterator[bytes]:
            with self.sdk("get", key):  # a stalled or cut body fails while iterating
                yield from body.iter_chunks(CHUNK_SIZE)

        etag = self._plain_etag(resp)
        stored: dict[str, str] = {}
        if resp.get("ChecksumType") != "COMPOSITE":  # composite (per-part) values describe no bytes
            fields = cast(dict[str, Any], resp)
            stored = {a: str(v) for a, name in _STORED if (v := fields.get(name)) and "-" not in str(v)}
        info = ObjectInfo(
            key, resp["ContentLength"], etag, resp.get("LastModified"), MappingProxyType(stored)
        )
        return ObjectStream(info, chunks(), body.close)

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": limit}
        if cursor is not None:
            kwargs["ContinuationToken"] = cursor
        with self.sdk("list", prefix):
            resp = self.client.list_objects_v2(**kwargs)
        items = [
            ObjectInfo(o["Key"], o["Size"], _etag(o.get("ETag")), o.get("LastModified"))
            for o in resp.get("Contents", [])
        ]
        return Page.resuming(
            items,
            resp.get("NextContinuationToken"),
            bool(resp.get("IsTruncated")),
            f"s3://{self.bucket}/{prefix}",
            "NextContinuationToken",
        )

    def stat(self, key: str) -> ObjectInfo:
        with self.sdk("stat", key):
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(key, head["ContentLength"], self._plain_etag(head), head.get("LastModified"))

    def delete(self, key: str) -> None:
        with self.sdk("delete", key):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def checksum(self, info: ObjectInfo) -> Checksum | None:
        """A stored full-object checksum if the object has one; else the ETag: the MD5 of the bytes
        for a single-part upload, the MD5 of the part MD5s (``-N``) for a multipart one, whose part
        boundaries `HeadObject` of each part but the last tells (S3 allows uneven parts; a
        snapshot is rarely multipart, so N-1 HEADs are cheap where they happen)."""
        simple = Checksum.of(super().checksum(info))  # stored checksum, else the MD5 ETag
        if simple is not None:
            return simple
        etag = (info.etag or "").lower()
        multipart = _MULTIPART.fullmatch(etag)
        if multipart is None:
            return None
        parts = int(multipart.group(1))
        sizes: list[int] = []
        for number in range(1, parts):  # every part but the last: S3 allows uneven parts
            with self.sdk("head", info.key):
                head = self.client.head_object(Bucket=self.bucket, Key=info.key, PartNumber=number)
            if head.get("PartsCount") != parts:
                return None  # not the object the GET saw (it changed since)
            sizes.append(int(head["ContentLength"]))
        if len(set(sizes)) == 1:
            return Checksum("md5-multipart", etag, MappingProxyType({"part_size": sizes[0]}))
        return Checksum("md5-multipart", etag, MappingProxyType({"part_sizes": tuple(sizes)}))

    @staticmethod
    def _plain_etag(resp: Any) -> str | None:
        """The ETag, unless encryption makes it something other than the MD5 of the bytes."""
        if resp.get("ServerSideEncryption") == "aws:kms" or resp.get("SSECustomerAlgorithm"):
            return None
        return _etag(resp.get("ETag"))

    def close(self) -> None:
        self.client.close()


class S3Provider(ThirdPartyProvider):
    name = "s3"
    scheme = "s3"
    vendor = 0
    region_table = "s3"
    capabilities = Capabilities(
        list=True,
        delete=True,
        upload=True,
        checksums=("md5", "md5-multipart", *(a for a, _ in _STORED)),
    )
    sdk_loggers = ("botocore", "boto3", "s3transfer", "urllib3")
    thread_safe_sessions = True  # boto3 low-level clients are thread-safe (boto3 docs)
    options = MappingProxyType(
        {
            "addressing": "path, virtual or auto (default: botocore's choice, which is path-style whenever "
            "an endpoint is given; use virtual for OSS/COS-style servers that reject path-style)"
        }
    )
    credentials_hint = "configure the AWS chain"
    description = "Amazon S3 and S3-compatible storage (boto3); credentials from the AWS chain"
    target_help = "s3://BUCKET[/PREFIX]?region=us-east-1[&endpoint=URL][&addressing=path|virtual|auto]"
    credentials_help = (
        "the AWS chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), AWS_PROFILE, "
        "~/.aws/credentials, SSO, instance roles"
    )

    def check_target(self, target: StorageTarget) -> None:
        super().check_target(target)
        if target.options.get("addressing", "auto") not in ADDRESSING:
            raise ConfigurationError(f"target option 'addressing': expected one of {', '.join(ADDRESSING)}")

    def credentials_from_env(self, target: StorageTarget) -> Credentials | None:
        """The standard AWS chain: env vars, shared credentials/config files, SSO, container/instance roles."""
        try:
            found = botocore.session.Session().get_credentials()
        except bce.ProfileNotFound as exc:
            raise ConfigurationError(f"s3 credentials: {exc}") from exc
        if found is None:
            return None
        frozen = found.get_frozen_credentials()
        if not frozen.access_key or not frozen.secret_key:
            return None
        return Credentials.of(
            frozen.access_key, frozen.secret_key, frozen.token, source=f"aws-chain:{found.method}"
        )

    def open(self, target: StorageTarget) -> S3Session:
        return S3Session(self, target)


_BOTO_LOCK = threading.Lock()


@functools.cache
def _boto_session() -> Boto3Session:
    return Boto3Session()


def _no_sdk_response_validation(params: dict[str, Any], **_: Any) -> None:
    params.get("context", {}).get("checksum", {}).pop("response_algorithms", None)


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


__all__ = ["ADDRESSING", "S3Provider", "S3Session", "translate_error"]
