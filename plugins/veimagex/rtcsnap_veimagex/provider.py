"""Volcengine veImageX over the official `volcengine` SDK (StorageConfig Type 3, spec §3.3.2).

A target is a service: ``veimagex://SERVICE_ID[/PREFIX]?region=cn-north-1&account_id=…``. The
keys users see are the file keys inside the service; the StoreUri the OpenAPI takes (and RTC
callbacks carry as ``VeImageXUri``) is ``{bucket}/{key}``, with the bucket the service reports
in ``GetImageService.Storage.BktName`` (`store_uri`).

The SDK's state is process-wide (`ServiceInfo` singletons, credentials read from the
environment and ``~/.volc``): each session builds its own `ImagexService` with a deep-copied
`service_info` and sets the keys *after* construction, so two sessions never share a key or a
host. The SDK's upload helper retries 3 times with ≥ 1 s back-off (tenacity) and PUTs without a
timeout, so `put` runs ApplyImageUpload → PUT → CommitImageUpload itself: core owns retries.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import json
import threading
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from rtcsnap.errors import ConfigurationError, Reason, StorageError
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
from rtcsnap.providers.dates import http_date, iso_date
from rtcsnap.target import StorageTarget
from volcengine.imagex.v2.imagex_service import ImagexService

_CODES: dict[str, Reason] = {
    "SignatureDoesNotMatch": Reason.BAD_SECRET,
    "InvalidAccessKey": Reason.UNKNOWN_ACCESS_KEY,
    "InvalidCredential": Reason.UNKNOWN_ACCESS_KEY,
    "ServiceNotFound": Reason.BUCKET_MISSING,
    "AccessDenied": Reason.PERMISSION_DENIED,
    "FlowLimitExceeded": Reason.THROTTLED,
    "RequestLimitExceeded": Reason.THROTTLED,
    "InternalError": Reason.TRANSIENT,
    "InternalServiceError": Reason.TRANSIENT,
    "ServiceUnavailableTemp": Reason.TRANSIENT,
}
"""Volcengine OpenAPI error codes (ResponseMetadata.Error.Code) -> reason."""
_HTTP: dict[int, Reason] = {
    401: Reason.PERMISSION_DENIED,
    403: Reason.PERMISSION_DENIED,
    404: Reason.NOT_FOUND,
    429: Reason.THROTTLED,
    500: Reason.TRANSIENT,
    502: Reason.TRANSIENT,
    503: Reason.TRANSIENT,
    504: Reason.TRANSIENT,
}
_TIMEOUT = (10, 60)
_URL_TTL = 600  # seconds a GetResourceURL link stays valid: one GET follows at once


class _PlainHTTP(HTTPAdapter):
    """The SDK builds upload URLs as ``https://{UploadHost}``: for an ``http://`` endpoint (a
    local server) the PUT must go out as http too. Mounted for that one host only."""

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        if request.url and request.url.startswith("https://"):
            request.url = "http://" + request.url[len("https://") :]
        return super().send(request, *args, **kwargs)


def _parse(raw: object) -> dict[str, Any]:
    """The JSON envelope a volcengine failure carries: the body as `str` for GET actions and as
    `bytes` for POST ones, or ``"Action failed, <body>"`` (the body possibly a bytes repr) when
    HTTP said 200 but the envelope holds an Error."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    at = text.find("b'{")
    if at < 0:
        at = text.find('b"{')
    if at >= 0:
        with contextlib.suppress(ValueError, SyntaxError):
            text = ast.literal_eval(text[at:]).decode("utf-8", "replace")
    start = text.find("{")
    if start < 0:
        return {}
    try:
        data = json.loads(text[start:])
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class VeImageXSession(Session):
    sdk_errors = (requests.RequestException, OSError)
    sdk_exact_errors = (Exception,)  # what volcengine raises for every service-side failure

    def __init__(self, provider: VeImageXProvider, target: StorageTarget) -> None:
        super().__init__(provider, target)
        creds = self.require_credentials()
        region = target.region or "cn-north-1"
        try:
            svc = ImagexService(region)
        except Exception as exc:
            raise ConfigurationError(f"veimagex: region {region!r}: {exc}") from None
        svc.service_info = copy.deepcopy(svc.service_info)  # a module-level singleton otherwise
        svc.set_ak(creds.access_key)  # after construction: VOLC_* and ~/.volc override otherwise
        svc.set_sk(creds.secret_key.get_secret_value())
        if creds.session_token is not None:
            svc.set_session_token(creds.session_token.get_secret_value())
        svc.set_connection_timeout(_TIMEOUT[0])
        svc.set_socket_timeout(_TIMEOUT[1])
        self.plain_http = False
        if target.endpoint:
            parts = urlsplit(target.endpoint)
            svc.set_host(parts.netloc)
            svc.set_scheme(parts.scheme)
            self.plain_http = parts.scheme == "http"
        self.svc = svc
        self.service_id = target.bucket
        self._layout: tuple[str, str] | None = None
        self._lock = threading.Lock()

    # -- errors ------------------------------------------------------------------------------

    def translate(self, exc: BaseException, operation: str, key: str = "") -> StorageError:
        where = f"veimagex://{self.service_id}/{key}" if key else f"veimagex://{self.service_id}"
        if isinstance(exc, requests.RequestException | OSError):
            return self._error(Reason.NETWORK, operation, f"{where}: {type(exc).__name__}: {exc}")
        meta = _parse(exc.args[0] if exc.args else "").get("ResponseMetadata", {})
        error = meta.get("Error") or {}
        code = str(error.get("Code") or "") or None
        reason = _CODES.get(code or "", Reason.OTHER)
        text = str(error.get("Message") or "") or (str(exc)[:200] if code is None else "")
        return self._error(
            reason,
            operation,
            f"{where}: {code or 'error'}: {text}",
            code=code,
            request_id=meta.get("RequestId"),
        )

    def failure(self, result: Any, operation: str, key: str = "") -> StorageError | None:
        """A file-host response (`requests.Response`): anything but 200 is a failure."""
        if not isinstance(result, requests.Response) or result.status_code == 200:
            return None
        reason = _HTTP.get(result.status_code, Reason.OTHER)
        where = f"veimagex://{self.service_id}/{key}"
        return self._error(
            reason,
            operation,
            f"{where}: HTTP {result.status_code} {result.text[:200]}",
            status=result.status_code,
        )

    def _error(self, reason: Reason, operation: str, message: str, **kw: Any) -> StorageError:
        return StorageError(reason, message, provider="veimagex", operation=operation, **kw)

    # -- the service's layout --------------------------------------------------------------

    def _service_layout(self) -> tuple[str, str]:
        """(storage bucket, default domain) of the service, asked once per session."""
        with self._lock:
            if self._layout is None:
                with self.sdk("head_bucket"):
                    info = self.svc.get_image_service({"ServiceId": self.service_id})["Result"]
                domains = info.get("DomainInfos") or [{}]
                domain = next((d for d in domains if d.get("IsDefault")), domains[0]).get("DomainName", "")
                self._layout = (str((info.get("Storage") or {}).get("BktName") or ""), str(domain))
            return self._layout

    def store_uri(self, key: str) -> str:
        bucket, _ = self._service_layout()
        return f"{bucket}/{key}"

    # -- primitives --------------------------------------------------------------------------

    def head_bucket(self) -> None:
        with self._lock:
            self._layout = None
        self._service_layout()

    def put(self, key: str, data: Body, content_type: str = "application/octet-stream") -> ObjectInfo:
        content = data if isinstance(data, bytes) else data.read()
        query = {"ServiceId": self.service_id, "UploadNum": 1, "StoreKeys": [key], "Overwrite": "True"}
        with self.sdk("put", key):
            address = self.svc.apply_image_upload(query)["Result"]["UploadAddress"]
        store, host = address["StoreInfos"][0], address["UploadHosts"][0]
        if self.plain_http:
            self.svc.session.mount(f"https://{host}/", _PlainHTTP())
        headers = {
            "Content-CRC32": f"{zlib.crc32(content) & 0xFFFFFFFF:08x}",
            "Authorization": store["Auth"],
            "Specified-Content-Type": content_type,
        }
        url = f"https://{host}/{quote(store['StoreUri'])}"
        with self.sdk("put", key):
            self.check(self.svc.session.put(url, data=content, headers=headers, timeout=_TIMEOUT), "put", key)
        body = {"SessionKey": address["SessionKey"], "SuccessOids": [store["StoreUri"]]}
        with self.sdk("put", key):
            results = self.svc.commit_image_upload({"ServiceId": self.service_id}, body)["Result"]["Results"]
        if not any(r.get("UriStatus") == 2000 for r in results):
            raise self._error(
                Reason.OTHER, "put", f"veimagex://{self.service_id}/{key}: commit failed: {results}"
            )
        return ObjectInfo(key, len(content), uri=str(store["StoreUri"]))

    def get(self, key: str) -> ObjectStream:
        _, domain = self._service_layout()
        query = {
            "ServiceId": self.service_id,
            "Domain": domain,
            "URI": self.store_uri(key),
            "Proto": "http" if self.plain_http else "https",
            "Timestamp": _URL_TTL,
        }
        with self.sdk("get", key):
            url = self.svc.get_resource_url(query)["Result"]["ObjURL"]
            resp = self.check(self.svc.session.get(url, stream=True, timeout=_TIMEOUT), "get", key)
        size = resp.headers.get("Content-Length")
        modified = resp.headers.get("Last-Modified")
        info = ObjectInfo(
            key,
            int(size) if size is not None else -1,
            None,
            http_date(modified),
        )

        def chunks() -> Iterator[bytes]:
            with self.sdk("get", key):
                yield from resp.iter_content(CHUNK_SIZE)

        return ObjectStream(info, chunks(), resp.close)

    def stat(self, key: str) -> ObjectInfo:
        """GetImageStorageFiles by prefix: the listing is the only per-file metadata call."""
        page = self.list_page(key, None, 1)
        if not page.items or page.items[0].key != key:
            raise self._error(Reason.NOT_FOUND, "stat", f"veimagex://{self.service_id}/{key}: no such file")
        return page.items[0]

    def list_page(self, prefix: str, cursor: str | None, limit: int) -> Page:
        query: dict[str, Any] = {"ServiceId": self.service_id, "Prefix": prefix, "Limit": min(limit, 1000)}
        if cursor is not None:
            query["Marker"] = cursor
        with self.sdk("list", prefix):
            result = self.svc.get_image_storage_files(query)["Result"]
        items = [
            ObjectInfo(
                str(item["Key"]),
                int(item.get("FileSize", -1)),
                None,
                iso_date(item.get("LastModified")),
            )
            for item in result.get("Items") or []
        ]
        return Page.resuming(
            items,
            result.get("Marker") or None,
            bool(result.get("HasMore")),
            f"veimagex://{self.service_id}/{prefix}",
            "Marker",
        )

    def delete(self, key: str) -> None:
        with self.sdk("delete", key):
            self.svc.delete_image_upload_files(
                {"ServiceId": self.service_id}, {"StoreUris": [self.store_uri(key)]}
            )

    def close(self) -> None:
        self.svc.session.close()


class VeImageXProvider(MainAccountProvider):
    name = "veimagex"
    scheme = "veimagex"
    storage_type = 3
    region_table = "veimagex"
    sub_config = "ve_image_x_config"
    bucket_field = "service_id"
    default_region = "cn-north-1"
    capabilities = Capabilities()  # no checksum: listings carry FileSize only (sdk-lab §5)
    sdk_loggers = ("volcengine", "urllib3", "requests")
    credentials_hint = "set VOLC_ACCESSKEY/VOLC_SECRETKEY or write ~/.volc/credentials"
    description = "Volcengine veImageX (volcengine SDK); credentials VOLC_ACCESSKEY/VOLC_SECRETKEY or ~/.volc"
    target_help = "veimagex://SERVICE_ID[/PREFIX]?region=cn-north-1&account_id=2100000000[&endpoint=URL]"
    credentials_help = "VOLC_ACCESSKEY/VOLC_SECRETKEY (+ VOLC_SESSION_TOKEN), ~/.volc/credentials"
    rtc_write_path = "the main account's service authorization (VeImageXConfig.AccountId)"

    def open(self, target: StorageTarget) -> VeImageXSession:
        return VeImageXSession(self, target)


__all__ = ["VeImageXProvider", "VeImageXSession"]
