"""Qiniu Kodo over the official `qiniu` SDK (StorageConfig Type 2, CustomConfig Vendor 4).

A target is a bucket: ``kodo://BUCKET[/PREFIX]?region=cn-east-1[&domain=https://cdn.example.com]
[&endpoint=URL]``. `region` picks the real hosts (and RTC's Region integer); an `endpoint` serves
every service instead (a local or private Kodo). Downloads are private-URL GETs on the bucket's
download `domain` — the first domain uc lists for the bucket when the target names none.

The SDK never raises: every call returns ``(ret, info)`` (``(ret, eof, info)`` for a listing),
so each one goes through `check` → `failure` (`rtcsnap_kodo.errors`); a server that is not Kodo
answers ``({}, 200)`` without ``X-Reqid``, which is a wrong endpoint, not a success. Hosts are
given to the SDK per session (`rtcsnap_kodo.hosts`), never through ``qiniu.set_default``, and
its retries are off: one region, one host per service, no urllib3 retries on those hosts.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import urllib3
from qiniu import Auth, BucketManager
from qiniu.http.response import ResponseInfo
from qiniu.services.storage.uploaders import FormUploader
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
    TargetField,
    ThirdPartyProvider,
)
from rtcsnap.providers.dates import epoch_date, http_date
from rtcsnap.target import StorageTarget

from rtcsnap_kodo import hosts
from rtcsnap_kodo.errors import error_text, reason_for, without_tokens

DOMAIN = TargetField(
    "the bucket's download domain, e.g. https://cdn.example.com (default: the first domain uc "
    "lists for the bucket, over http)",
    pattern=r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?",
    rule="an http(s):// URL of a domain (scheme and host, no path)",
)
TIMEOUT = (10, 60)
"""Download (connect, read) seconds; SDK calls use the SDK's own (process-wide) 30 s."""
URL_TTL = 600
"""Seconds a private download URL or an upload token stays valid: each is used at once."""
LIST_LIMIT = 1000


def _qetag(value: str) -> str | None:
    """`value` if it is a qetag rtcsnap can recompute from the bytes alone (core's rule: a hash
    prefixed 0x9E, of v2 parts of another size, is none), else None."""
    return value if value and checksums.get("qetag").applies(value, {}, -1) else None


def url_path(key: str) -> str:
    """`key` as a URL path segment: quoted, ``/`` kept — but a leading ``/`` as ``%2F``, since
    HTTP clients (urllib3) fold the ``//`` of ``http://domain//key`` into one."""
    quoted = quote(key, safe="/~")
    return "%2F" + quoted[1:] if quoted.startswith("/") else quoted


def _info(key: str, fields: dict[str, Any]) -> ObjectInfo:
    """An object of a listing or a stat: ``hash`` is the qetag, ``putTime`` counts 100 ns."""
    digest = str(fields.get("hash") or "") or None
    qetag = _qetag(digest or "")
    return ObjectInfo(
        key,
        int(fields.get("fsize", -1)),
        digest,
        epoch_date(fields.get("putTime"), per_second=10_000_000),
        MappingProxyType({"qetag": qetag} if qetag else {}),
    )


class KodoSession(Session):
    sdk_errors = (requests.RequestException, urllib3.exceptions.HTTPError, OSError)

    def __init__(self, provider: KodoProvider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        creds = self.require_credentials()
        if creds.session_token is not None:
            raise ConfigurationError("kodo: Kodo takes no session token; give a long-term key pair")
        self.bucket = target.bucket
        self.hosts = hosts.for_target(target)
        hosts.no_sdk_retries(self.hosts)
        self.auth = Auth(creds.access_key, creds.secret_key.get_secret_value())
        region, scheme = [self.hosts.region], self.hosts.scheme
        self.manager = BucketManager(self.auth, regions=region, preferred_scheme=scheme)
        self.uploader = FormUploader(self.bucket, regions=region, preferred_scheme=scheme)
        self.http = requests.Session()  # downloads: requests' default adapters do not retry
        self._domain = provider.field(target, "domain")
        self._lock = threading.Lock()

    # -- failures ------------------------------------------------------------------------------

    def _where(self, key: str) -> str:
        return f"kodo://{self.bucket}/{key}" if key else f"kodo://{self.bucket}"

    def _error(self, reason: Reason, operation: str, message: str, **kw: Any) -> StorageError:
        return StorageError(reason, message, provider="kodo", operation=operation, **kw)

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        text = without_tokens(f"{type(exc).__name__}: {exc}")
        return self._error(Reason.NETWORK, operation, f"{self._where(key)}: {text} ({self._tried()})")

    def _tried(self) -> str:
        return f"endpoint {self.hosts.endpoint}" if self.hosts.endpoint else f"region {self.target.region}"

    def failure(self, result: Any, operation: str, key: str = "") -> StorageError | None:
        """A download's `requests.Response`, or the SDK's ``(ret, info)`` / ``(ret, eof, info)``."""
        where = self._where(key)
        if isinstance(result, requests.Response):
            if result.status_code == 200:
                return None
            status, text, rid = result.status_code, error_text(result.text), result.headers.get("X-Reqid")
        else:
            info: ResponseInfo = result[-1]
            if info.status_code == -1:  # no answer at all
                text = without_tokens(str(info.error))
                return self._error(Reason.NETWORK, operation, f"{where}: {text} ({self._tried()})")
            status, rid = info.status_code, info.req_id
            if info.ok():
                if rid is not None:
                    return None
                return self._error(
                    Reason.WRONG_REGION,
                    operation,
                    f"{where}: HTTP {status} without X-Reqid: not a Kodo service ({self._tried()})",
                    status=status,
                )
            text = error_text(info.text_body)
        return self._error(
            reason_for(status, text, operation),
            operation,
            f"{where}: HTTP {status} {text or 'error'}",
            status=status,
            request_id=rid,
        )

    # -- primitives ----------------------------------------------------------------------------

    def head_bucket(self) -> None:
        """A one-item listing: Kodo has no HEAD bucket, and this is what a reader needs anyway."""
        with self.sdk("head_bucket"):
            result = self.manager.list(self.bucket, limit=1)
        self.check(result, "head_bucket")

    def put(self, key: str, data: Body, content_type: str = "application/octet-stream") -> ObjectInfo:
        content = data if isinstance(data, bytes) else data.read()
        token = self.auth.upload_token(self.bucket, key, URL_TTL)  # scope bucket:key: may overwrite
        with self.sdk("put", key):
            result = self.uploader.upload(
                key=key, data=io.BytesIO(content), mime_type=content_type, up_token=token
            )
        ret, _ = self.check(result, "put", key)
        stored = str(ret.get("hash") or "") if isinstance(ret, dict) else ""
        if not isinstance(ret, dict) or ret.get("key") != key or not stored:
            raise self._error(Reason.OTHER, "put", f"{self._where(key)}: the upload answered no key and hash")
        sent = checksums.new_hasher("qetag")
        sent.update(content)
        if not checksums.same("qetag", stored, sent.value()):  # what Kodo stored must be what we sent
            raise ChecksumMismatchError(key, "qetag", sent.value(), stored, provider="kodo")
        return ObjectInfo(key, len(content), stored, checksums=MappingProxyType({"qetag": stored}))

    def get(self, key: str) -> ObjectStream:
        url, headers = self._signed(key)
        with self.sdk("get", key):
            resp = self.http.get(url, headers=headers, stream=True, timeout=TIMEOUT)
        try:
            self.check(resp, "get", key)
        except StorageError:
            resp.close()
            raise
        tag = (resp.headers.get("ETag") or "").removeprefix("W/").strip('"')
        digest = _qetag(tag)  # Kodo's io (and its CDN) send the object's hash as the ETag
        size = resp.headers.get("Content-Length")
        info = ObjectInfo(
            key,
            int(size) if size is not None else -1,
            digest or tag or None,
            http_date(resp.headers.get("Last-Modified")),
            MappingProxyType({"qetag": digest} if digest else {}),
        )

        def chunks() -> Iterator[bytes]:
            with self.sdk("get", key):  # the raw bytes: a CDN's gzip must not change them
                yield from resp.raw.stream(CHUNK_SIZE, decode_content=False)

        return ObjectStream(info, chunks(), resp.close)

    def stat(self, key: str) -> ObjectInfo:
        with self.sdk("stat", key):
            result = self.manager.stat(self.bucket, key)
        ret, _ = self.check(result, "stat", key)
        return _info(key, ret if isinstance(ret, dict) else {})

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        with self.sdk("list", prefix):
            result = self.manager.list(
                self.bucket, prefix=prefix, marker=cursor, limit=min(limit, LIST_LIMIT)
            )
        ret = self.check(result, "list", prefix)[0]
        ret = ret if isinstance(ret, dict) else {}
        items = [_info(str(item["key"]), item) for item in ret.get("items") or []]
        return Page(items, str(ret.get("marker") or "") or None)  # Kodo's "more" is the marker itself

    def delete(self, key: str) -> None:
        with self.sdk("delete", key):
            result = self.manager.delete(self.bucket, key)
        self.check(result, "delete", key)

    def close(self) -> None:
        self.http.close()

    # -- downloads -----------------------------------------------------------------------------

    def _signed(self, key: str) -> tuple[str, dict[str, str]]:
        """(the private URL to GET, its headers). Through an endpoint the GET goes to the endpoint
        with ``Host: <domain>``, as one reaches a bucket through Kodo's io source host."""
        parts = urlsplit(self._download_domain())
        path = "/" + url_path(key)
        headers = {"Accept-Encoding": "identity"}
        if self.hosts.endpoint is None:
            return str(
                self.auth.private_download_url(f"{parts.scheme}://{parts.netloc}{path}", URL_TTL)
            ), headers
        origin = f"{self.hosts.scheme}://{parts.netloc}"
        signed = str(self.auth.private_download_url(f"{origin}{path}", URL_TTL))
        return self.hosts.endpoint + signed[len(origin) :], headers | {"Host": parts.netloc}

    def _download_domain(self) -> str:
        """The target's `domain`, else the first one uc lists for the bucket (asked once)."""
        with self._lock:
            if self._domain:
                return self._domain.rstrip("/")
            with self.sdk("get"):
                result = self.manager.list_domains(self.bucket)
            ret = self.check(result, "get")[0]
            names = [d if isinstance(d, str) else (d or {}).get("domain") for d in ret or []]
            found = next((str(n) for n in names if n), None)
            if found is None:
                raise self._error(
                    Reason.OTHER,
                    "get",
                    f"{self._where('')}: the bucket has no download domain; add ?domain=https://… to the target",
                )
            scheme = self.hosts.scheme if self.hosts.endpoint else "http"
            self._domain = found if "://" in found else f"{scheme}://{found}"
            return self._domain


class KodoProvider(ThirdPartyProvider):
    name = "kodo"
    scheme = "kodo"
    vendor = 4
    region_table = "kodo"
    capabilities = Capabilities(checksums=("qetag",))
    fields = MappingProxyType({"domain": DOMAIN})
    credential_env = ("QINIU_ACCESS_KEY", "QINIU_SECRET_KEY")
    credentials_hint = "set QINIU_ACCESS_KEY/QINIU_SECRET_KEY"
    sdk_loggers = ("qiniu", "urllib3", "requests")
    description = "Qiniu Kodo (qiniu SDK); credentials QINIU_ACCESS_KEY/QINIU_SECRET_KEY"
    target_help = "kodo://BUCKET[/PREFIX]?region=cn-east-1[&domain=https://cdn.example.com][&endpoint=URL]"
    credentials_help = "QINIU_ACCESS_KEY/QINIU_SECRET_KEY"

    def check_target(self, target: StorageTarget) -> None:
        super().check_target(target)
        if target.endpoint:
            if urlsplit(target.endpoint).path not in ("", "/"):
                raise ConfigurationError(
                    f"target option 'endpoint': {target.endpoint!r} has a path; Kodo's endpoint "
                    "serves every service (up, rs, rsf, uc, io) at its root"
                )
        elif target.region and target.region.lower() not in hosts.ZONES:
            raise ConfigurationError(hosts.unknown_region(target.region))

    def open(self, target: StorageTarget) -> KodoSession:
        return KodoSession(self, target)


__all__ = ["DOMAIN", "KodoProvider", "KodoSession", "url_path"]
