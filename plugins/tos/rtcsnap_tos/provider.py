"""Volcengine TOS over the official `tos` SDK (StorageConfig Type 0, spec §3.3.1).

RTC writes to TOS with the main account's service authorization (`AccountId` in the payload),
not with a key: what `verify` proves with the user's key is that the bucket exists in that
region and what the key itself may do — not RTC's own write path (see `verify_notes`).
"""

from __future__ import annotations

import ipaddress
import warnings
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from rtcsnap import checksums
from rtcsnap.errors import ChecksumMismatchError, Reason, StorageError
from rtcsnap.providers.contract import (
    CHUNK_SIZE,
    Body,
    Capabilities,
    MainAccountProvider,
    ObjectInfo,
    ObjectStream,
    Page,
    Session,
)
from rtcsnap.providers.s3family import reason_for
from rtcsnap.target import StorageTarget

with warnings.catch_warnings():
    # tos 2.9.3's utils.py has an invalid "\d" escape: compiled without a .pyc cache, every
    # import would print a warning into rtcsnap's CLI output
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import tos
    from tos.exceptions import TosClientError, TosServerError

_TOS_CODES: dict[str | int, Reason] = {
    "InvalidAccessKeyId": Reason.UNKNOWN_ACCESS_KEY,
    "AccountDisable": Reason.PERMISSION_DENIED,
    "RequestTimeTooSkewed": Reason.OTHER,
    "ExceedAccountQPSLimit": Reason.THROTTLED,
    "ExceedBucketQPSLimit": Reason.THROTTLED,
    "InvalidLocationConstraint": Reason.WRONG_REGION,
    "InvalidRegion": Reason.WRONG_REGION,
}
"""TOS's own codes beyond the S3 family's (`rtcsnap.providers.s3family`)."""
_CRC_FAILED = ("crc", "is not equal to tos crc")


def _is_local(endpoint: str) -> bool:
    """An IP or localhost endpoint: a local server, reached as an HTTP proxy (the SDK is
    virtual-host only and ``BUCKET.127.0.0.1`` resolves nowhere; sdk-lab §2, §10)."""
    host = urlsplit(endpoint).hostname or ""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class TosSession(Session):
    sdk_errors = (TosServerError, TosClientError, OSError)

    def __init__(self, provider: TosProvider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        creds = self.require_credentials()
        region = target.region or "cn-beijing"
        kwargs: dict[str, Any] = {}
        endpoint = target.endpoint or f"https://tos-{region}.volces.com"
        if target.endpoint and _is_local(target.endpoint):
            parts = urlsplit(target.endpoint)
            kwargs.update(proxy_host=parts.hostname, proxy_port=parts.port or 80)
            endpoint = f"http://tos-{region}.rtcsnap.invalid"  # never resolved: the proxy gets it
        self.bucket = target.bucket
        self.endpoint = target.endpoint or endpoint
        self.client = tos.TosClientV2(
            creds.access_key,
            creds.secret_key.get_secret_value(),
            endpoint=endpoint,
            region=region,
            security_token=creds.session_token.get_secret_value() if creds.session_token else None,
            max_retry_count=0,  # core owns retries
            enable_crc=False,  # core checks both ways: the SDK's CRC would hash every GET twice
            connection_time=10,
            socket_timeout=60,
            dns_cache_time=0,  # no DNS-cache thread per client
            **kwargs,
        )

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        where = f"tos://{self.bucket}/{key}" if key else f"tos://{self.bucket}"
        code = status = request_id = None
        if isinstance(exc, TosServerError):
            code, status, request_id = exc.code or None, exc.status_code, exc.request_id or None
            text = exc.message or ""
            reason = reason_for(code, status, operation, text, _TOS_CODES)
        elif isinstance(exc, TosClientError) and any(m in str(exc.message).lower() for m in _CRC_FAILED):
            reason, text = Reason.CHECKSUM_MISMATCH, str(exc.message)
        elif isinstance(exc, TosClientError | OSError):
            cause = getattr(exc, "cause", None)
            reason = Reason.NETWORK
            text = f"{getattr(exc, 'message', exc)}" + (f" ({type(cause).__name__})" if cause else "")
            text = f"{text} (endpoint {self.endpoint})"
        else:
            reason, text = Reason.OTHER, type(exc).__name__
        return StorageError(
            reason,
            f"{where}: {text or reason.describe}",
            provider="tos",
            operation=operation,
            code=code,
            status=status,
            request_id=request_id,
        )

    def head_bucket(self) -> None:
        with self.sdk("head_bucket"):
            self.client.head_bucket(self.bucket)

    def put(self, key: str, data: Body, content_type: str = "application/octet-stream") -> ObjectInfo:
        content = data if isinstance(data, bytes) else data.read()
        with self.sdk("put", key):
            resp = self.client.put_object(self.bucket, key, content=content, content_type=content_type)
        stored = getattr(resp, "hash_crc64_ecma", None)
        if stored is not None:  # what the service stored must be what we sent
            sent = checksums.new_hasher("crc64ecma")
            sent.update(content)
            if not checksums.same("crc64ecma", str(stored), sent.value()):
                raise ChecksumMismatchError(key, "crc64ecma", sent.value(), str(stored), provider="tos")
        return ObjectInfo(key, len(content), _etag(resp.etag), checksums=_crc(resp))

    def get(self, key: str) -> ObjectStream:
        with self.sdk("get", key):
            resp = self.client.get_object(self.bucket, key)

        def chunks() -> Iterator[bytes]:
            with self.sdk("get", key):  # a cut body, or the SDK's own end-of-stream CRC check
                while chunk := resp.read(CHUNK_SIZE):
                    yield chunk

        return ObjectStream(_info(key, resp), chunks(), resp.resp.resp.close)  # the requests.Response

    def stat(self, key: str) -> ObjectInfo:
        with self.sdk("stat", key):
            return _info(key, self.client.head_object(self.bucket, key))

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        with self.sdk("list", prefix):
            resp = self.client.list_objects_type2(
                self.bucket,
                prefix=prefix,
                max_keys=limit,
                continuation_token=cursor,
                list_only_once=True,  # one page per call: the loop is core's
            )
        items = [
            ObjectInfo(o.key, int(o.size), _etag(o.etag), o.last_modified, _crc(o)) for o in resp.contents
        ]
        return Page.resuming(
            items,
            resp.next_continuation_token,
            bool(resp.is_truncated),
            f"tos://{self.bucket}/{prefix}",
            "NextContinuationToken",
        )

    def delete(self, key: str) -> None:
        with self.sdk("delete", key):
            self.client.delete_object(self.bucket, key)

    def close(self) -> None:
        self.client.close()


class TosProvider(MainAccountProvider):
    name = "tos"
    scheme = "tos"
    storage_type = 0
    region_table = "tos"
    sub_config = "tos_config"
    bucket_field = "bucket"
    default_region = "cn-beijing"
    capabilities = Capabilities(checksums=("crc64ecma", "md5"))
    credential_env = ("TOS_ACCESS_KEY", "TOS_SECRET_KEY")
    session_token_env = "TOS_SECURITY_TOKEN"
    sdk_loggers = ("tos", "urllib3", "requests")
    credentials_hint = "set TOS_ACCESS_KEY/TOS_SECRET_KEY or VOLC_ACCESSKEY/VOLC_SECRETKEY"
    description = "Volcengine TOS (tos SDK); credentials TOS_ACCESS_KEY/TOS_SECRET_KEY or VOLC_ACCESSKEY"
    target_help = "tos://BUCKET[/PREFIX]?region=cn-beijing&account_id=2100000000[&endpoint=URL]"
    credentials_help = (
        "TOS_ACCESS_KEY/TOS_SECRET_KEY (+ TOS_SECURITY_TOKEN), then VOLC_ACCESSKEY/VOLC_SECRETKEY, "
        "~/.volc/credentials"
    )
    rtc_write_path = "the main account's service authorization (TosConfig.AccountId)"

    def open(self, target: StorageTarget) -> TosSession:
        return TosSession(self, target)


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


def _crc(obj: Any) -> MappingProxyType[str, str]:
    value = getattr(obj, "hash_crc64_ecma", None)
    return MappingProxyType({"crc64ecma": str(value)} if value not in (None, "") else {})


def _info(key: str, resp: Any) -> ObjectInfo:
    return ObjectInfo(key, int(resp.content_length), _etag(resp.etag), resp.last_modified, _crc(resp))


__all__ = ["TosProvider", "TosSession"]
