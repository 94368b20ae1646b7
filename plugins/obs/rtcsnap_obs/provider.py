"""Huawei OBS over the official `esdk-obs-python` SDK (StorageConfig Type 2, Vendor 2, spec §3.3.4).

Target: ``obs://BUCKET[/PREFIX]?region=cn-north-4[&endpoint=URL][&signature=obs|v4|v2][&proxy=HOST:PORT]``;
without an endpoint it is ``https://obs.<region>.myhuaweicloud.com`` and the region must be one
RTC accepts (`rtcsnap.regions` table ``obs``). Credentials: the target's, else
``OBS_ACCESS_KEY_ID``/``OBS_SECRET_ACCESS_KEY`` (+ ``OBS_SECURITY_TOKEN``).

The SDK's traps, and what this module does about each:

* it never raises on an HTTP error: every response goes through `Session.check` (`failure`);
* it retries 5xx and follows redirects by itself: ``max_retry_count=0``, ``max_redirect_count=0``
  (a redirect means the target names the wrong region or endpoint: reported, not followed);
* its TLS context does not verify certificates (``CERT_NONE``, no hostname check): replaced by
  the system's default verifying context;
* it hands listing dates over in local time (`rtcsnap_obs.sdkdates`);
* addressing and signature choices it makes silently are made explicitly (`rtcsnap_obs.endpoint`).
"""

from __future__ import annotations

import hashlib
import ssl
import warnings
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from rtcsnap import checksums
from rtcsnap.errors import ChecksumMismatchError, StorageError
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
from rtcsnap.providers.dates import http_date
from rtcsnap.target import StorageTarget

from rtcsnap_obs.endpoint import SIGNATURES, settings
from rtcsnap_obs.errors import NETWORK_ERRORS, raised_failure, returned_failure
from rtcsnap_obs.sdkdates import listed_date

with warnings.catch_warnings():
    # esdk-obs-python 3.26's const.py has an invalid "\." escape: compiled without a .pyc cache,
    # the import would print a warning into rtcsnap's CLI output (a SyntaxWarning from Python 3.12)
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    from obs import ObsClient, PutObjectHeader

TIMEOUT = 60
"""Seconds for connect and for each socket read (the SDK has one timeout for both)."""


def verifying_context() -> ssl.SSLContext:
    """Certificates and host names checked, from the system store (SSL_CERT_FILE honoured), else certifi's."""
    context = ssl.create_default_context()
    if not context.cert_store_stats().get("x509_ca"):
        try:
            import certifi
        except ImportError:  # pragma: no cover - certifi comes with httpx, a core dependency
            return context
        context.load_verify_locations(certifi.where())
    return context


class ObsSession(Session):
    sdk_errors = NETWORK_ERRORS
    sdk_exact_errors = (Exception,)  # the SDK's own checks raise bare Exceptions (a cut body)

    def __init__(self, provider: ObsProvider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        creds = self.require_credentials()
        self.settings = settings(target)
        self.bucket = target.bucket
        self.client = ObsClient(
            access_key_id=creds.access_key,
            secret_access_key=creds.secret_key.get_secret_value(),
            security_token=creds.session_token.get_secret_value() if creds.session_token else None,
            is_signature_negotiation=False,  # no unsigned HEAD ?apiversion before the first call
            max_retry_count=0,  # core owns retries
            max_redirect_count=0,
            timeout=TIMEOUT,
            # keep-alive (one connection per session, not one per request), but not through a
            # proxy: the SDK calls set_tunnel() on every request, which http.client refuses on a
            # kept-alive connection ("Can't set up tunnel for established connection")
            long_conn_mode=self.settings.proxy is None,
            **self.settings.kwargs(),
        )
        if self.client.is_secure:
            self.client.context = verifying_context()

    # -- failures ---------------------------------------------------------------------------

    def _where(self, key: str = "") -> str:
        return f"obs://{self.bucket}/{key}" if key else f"obs://{self.bucket}"

    def failure(self, result: Any, operation: str, key: str = "") -> StorageError | None:
        return returned_failure(result, operation, self._where(key))

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        return raised_failure(exc, operation, self._where(key), self.settings.server)

    # -- primitives -------------------------------------------------------------------------

    def head_bucket(self) -> None:
        with self.sdk("head_bucket"):
            self.check(self.client.headBucket(self.bucket), "head_bucket")

    def put(self, key: str, data: Body, content_type: str = "application/octet-stream") -> ObjectInfo:
        """A simple PUT carrying its CRC64 (``x-obs-checksum-crc64ecma``): OBS checks the bytes on
        arrival and stores the CRC, so later downloads are verified by it. A server that ignores
        the header is still held to what it reports: its CRC64, else its MD5 ETag."""
        content = data if isinstance(data, bytes) else data.read()
        crc = checksums.new_hasher("crc64ecma")
        crc.update(content)
        sent = crc.value()
        header = PutObjectHeader(contentType=content_type, crc64=sent)
        with self.sdk("put", key):
            resp = self.check(self.client.putContent(self.bucket, key, content, headers=header), "put", key)
        body = resp.body
        etag = _plain_etag(body)
        stored = getattr(body, "crc64", None)
        if stored and not checksums.same("crc64ecma", str(stored), sent):
            raise ChecksumMismatchError(key, "crc64ecma", sent, str(stored), provider="obs")
        if not stored and etag and len(etag) == 32:
            md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
            if etag.lower() != md5:
                raise ChecksumMismatchError(key, "md5", md5, etag, provider="obs")
        return ObjectInfo(key, len(content), etag, checksums=_crc(body))

    def get(self, key: str) -> ObjectStream:
        with self.sdk("get", key):
            resp = self.check(self.client.getObject(self.bucket, key, loadStreamInMemory=False), "get", key)
        stream = resp.body.response  # the SDK's wrapper of the http.client response
        finished = False

        def chunks() -> Iterator[bytes]:
            nonlocal finished
            with self.sdk("get", key):  # a cut body: the SDK's length check raises at the end
                while chunk := stream.read(CHUNK_SIZE):
                    yield chunk
            finished = True

        def close() -> None:
            if not finished:  # body left unread: the pooled connection must not carry it to the next call
                stream.conn._clear = True
            stream.close()

        return ObjectStream(_info(key, resp.body), chunks(), close)

    def stat(self, key: str) -> ObjectInfo:
        with self.sdk("stat", key):
            resp = self.check(self.client.getObjectMetadata(self.bucket, key), "stat", key)
        return _info(key, resp.body)

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        """One ListObjects (v1, the only listing the SDK has) page. OBS documents NextMarker on
        every truncated page, delimiter or not, so a page that says "more" without one is an
        error here (`Page.resuming`), never a silent end or a guessed last-key cursor."""
        with self.sdk("list", prefix):
            resp = self.check(
                self.client.listObjects(self.bucket, prefix=prefix or None, marker=cursor, max_keys=limit),
                "list",
                prefix,
            )
        body = resp.body
        items = [
            ObjectInfo(str(o.key), int(o.size), _etag(o.etag), listed_date(o.lastModified))
            for o in body.contents or []
        ]
        return Page.resuming(
            items, body.next_marker, bool(body.is_truncated), f"obs://{self.bucket}/{prefix}", "NextMarker"
        )

    def delete(self, key: str) -> None:
        with self.sdk("delete", key):
            self.check(self.client.deleteObject(self.bucket, key), "delete", key)

    def close(self) -> None:
        self.client.close()


class ObsProvider(ThirdPartyProvider):
    name = "obs"
    scheme = "obs"
    vendor = 2
    region_table = "obs"
    capabilities = Capabilities(checksums=("crc64ecma", "md5"))
    options = MappingProxyType(
        {
            "signature": f"{', '.join(SIGNATURES)}: obs (OBS's own) by default, v2 for an IP "
            "endpoint (the SDK cannot address one virtual-host); v4 is AWS SigV4",
            "proxy": "HOST:PORT of an HTTP proxy the SDK tunnels through (CONNECT)",
        }
    )
    credential_env = ("OBS_ACCESS_KEY_ID", "OBS_SECRET_ACCESS_KEY")
    session_token_env = "OBS_SECURITY_TOKEN"
    credentials_hint = "set OBS_ACCESS_KEY_ID/OBS_SECRET_ACCESS_KEY (+ OBS_SECURITY_TOKEN)"
    sdk_loggers = ("OBS_LOGGER",)
    thread_safe_sessions = False  # ObsClient is not documented thread-safe; one per worker is cheap
    description = "Huawei Cloud OBS (esdk-obs-python); credentials OBS_ACCESS_KEY_ID/OBS_SECRET_ACCESS_KEY"
    target_help = (
        "obs://BUCKET[/PREFIX]?region=cn-north-4[&endpoint=URL][&signature=obs|v4|v2][&proxy=HOST:PORT]"
    )
    credentials_help = "OBS_ACCESS_KEY_ID/OBS_SECRET_ACCESS_KEY (+ OBS_SECURITY_TOKEN)"

    def check_target(self, target: StorageTarget) -> None:
        super().check_target(target)
        settings(target)  # endpoint, region, signature and proxy rules, before any request

    def open(self, target: StorageTarget) -> ObsSession:
        return ObsSession(self, target)


def _etag(value: Any) -> str | None:
    return str(value).strip('"') or None if value else None


def _plain_etag(body: Any) -> str | None:
    """The ETag, unless encryption with a KMS or customer key makes it something other than the MD5."""
    if getattr(body, "sseKms", None) in ("kms", "aws:kms") or getattr(body, "sseC", None):
        return None
    return _etag(getattr(body, "etag", None))


def _crc(body: Any) -> MappingProxyType[str, str]:
    value = getattr(body, "crc64", None)
    return MappingProxyType({"crc64ecma": str(value)} if value not in (None, "") else {})


def _info(key: str, body: Any) -> ObjectInfo:
    size = body.contentLength
    return ObjectInfo(
        key,
        int(size) if size is not None else -1,
        _plain_etag(body),
        http_date(body.lastModified),
        _crc(body),
    )


__all__ = ["TIMEOUT", "ObsProvider", "ObsSession", "verifying_context"]
