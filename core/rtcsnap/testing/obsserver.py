"""A local Huawei OBS endpoint for tests: moto's S3 store behind a hand-written OBS layer.

The official SDK (``esdk-obs-python``, import ``obs``) reaches it two ways:

* **virtual-host, OBS signature** — what the SDK does against real OBS. ``BUCKET.127.0.0.1``
  resolves nowhere, so the server doubles as the SDK's HTTP proxy: the SDK opens a ``CONNECT``
  tunnel to it and then sends ``GET /key`` with ``Host: BUCKET.obs.<region>.rtcsnap.invalid``
  (a name that can never resolve, should the proxy setting be dropped);
* **path-style, signature v2 or v4** — an IP endpoint: the SDK forces path-style there and
  silently turns its default ``signature='obs'`` into ``'v2'`` (``obs/client.py``).

::

    with LocalOBSServer() as server:
        server.create_bucket("snaps")
        rtc = server.key(["Write"])                         # a write-only key, like RTC's
        client = obs.ObsClient(*rtc.credentials,            # what server.client(rtc) returns
            server="http://obs.cn-north-4.rtcsnap.invalid", signature="obs",
            proxy_host="127.0.0.1", proxy_port=server.port,
            is_signature_negotiation=False, max_retry_count=0, max_redirect_count=0)

WSGI stack: `_Addressing` (``Host`` → ``/bucket/key``, so fault rules and counters see the paths
they see on `LocalS3Server`) → `faults` → `ObsLayer` (signatures, key permissions, the OBS
dialect) → moto's S3 backend. moto's state is process-global: use unique bucket names.

Written from the definitions (the OBS API reference "Authentication of Signature in a Header"
and "Authentication of Signature in a URL"; AWS Signature Version 4, which OBS implements with
the ``Date`` header standing in for ``X-Amz-Date``), never from the SDK's signer: V2 (``OBS
ak:sig`` with ``x-obs-*`` headers, ``AWS ak:sig`` with ``x-amz-*``; HMAC-SHA1 over
VERB/Content-MD5/Content-Type/Date/headers/resource), V2 query strings (``AccessKeyId`` or
``AWSAccessKeyId`` + ``Expires`` + ``Signature``) and V4 headers. Errors are OBS's XML
``<Error><Code/><Message/><RequestId/><HostId/></Error>`` with ``x-obs-request-id`` and, as real
OBS sends them, ``x-obs-error-code``/``x-obs-error-message`` headers (the only place a HEAD error
carries its code). An object uploaded with ``x-obs-checksum-crc64ecma`` (``x-amz-…`` for AWS
signatures) is checked against it and answers GET/HEAD with it; other objects carry none.
Guessed (UNCONFIRMED, each a named constant): `UNKNOWN_KEY_CODE`, `CRC_MISMATCH_CODE`,
`RESPONSE_PREFIX`, `ANONYMOUS_CODE`, `UNDATED_CODE`, `EXPIRED_CODE`, `WRONG_REGION_CODE`; also
that only objects uploaded with a CRC64 answer with one, and HEAD bucket needing ``List``
(SeaweedFS's rule). A security token is signed like any ``x-obs-*`` header but not validated.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
import xml.etree.ElementTree as ET
from calendar import timegm
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote
from xml.sax.saxutils import escape

from rtcsnap.testing.dialect import (
    S3_LIST_PARAMS,
    DialectError,
    DialectLayer,
    DialectServer,
    MotoBackend,
    crc64,
    get_header,
    header,
    hmac_sha1_signature,
    put_header,
    raw_path,
    v2_string_to_sign,
    xml_error,
)
from rtcsnap.testing.faults import Faults, Headers, StartResponse, WSGIApp
from rtcsnap.testing.keys import KeyRing, ServerKey
from rtcsnap.testing.s3server import MotoQuietHandler

if TYPE_CHECKING:
    from obs import ObsClient

UNKNOWN_KEY_CODE = "InvalidAccessKeyId"
"""UNCONFIRMED: the code is in OBS's documented server-side error table (403), and SeaweedFS and
S3 answer an unknown key with it, but no source shows what real OBS answers for one."""
CRC_MISMATCH_CODE = "BadDigest"
"""UNCONFIRMED: OBS documents ``x-obs-checksum-crc64ecma`` on upload but not the code of a
mismatch; BadDigest (400) is what it documents for a Content-MD5 that does not match."""
RESPONSE_PREFIX = {"OBS": "x-obs-", "AWS": "x-amz-", "AWS4-HMAC-SHA256": "x-amz-"}
"""UNCONFIRMED: OBS speaks both protocols and the SDK reads ``x-amz-*`` response headers
(version id, CRC64, bucket region) under signature v2/v4, so an AWS-signed request is taken to
get ``x-amz-*`` headers and an OBS-signed one ``x-obs-*``. Errors always carry ``x-obs-*``."""
ANONYMOUS_CODE = "AccessDenied"
"""UNCONFIRMED: the code of a request with no signature at all (S3's answer for a private bucket)."""
UNDATED_CODE = "AccessDenied"
"""UNCONFIRMED: the code of a signed request without a readable Date/x-obs-date (S3's answer)."""
EXPIRED_CODE = "AccessDenied"
"""UNCONFIRMED: the code of a signed URL past its Expires (S3's answer, "Request has expired")."""
WRONG_REGION_CODE = "AuthorizationHeaderMalformed"
"""UNCONFIRMED: the code (and S3's wording, "the region 'x' is wrong; expecting 'y'") of a V4
credential scope naming another region than the server's."""
MAX_SKEW = 15 * 60
DOMAIN = "rtcsnap.invalid"
HOST_ID = "cnRjc25hcC1sb2NhbC1vYnM="
V4 = "AWS4-HMAC-SHA256"
SUBRESOURCES = frozenset(
    s.lower()
    for s in (
        *("acl", "append", "attname", "cors", "customdomain", "delete", "deletebucket"),
        *("directcoldaccess", "encryption", "inventory", "length", "lifecycle", "location"),
        *("logging", "metadata", "modify", "name", "notification", "object-lock"),
        *("obscompresspolicy", "partNumber", "policy", "position", "quota", "rename"),
        *("replication", "restore", "retention", "select", "storageClass", "storagePolicy"),
        *("storageinfo", "tagging", "torrent", "truncate", "uploadId", "uploads", "versionId"),
        *("versioning", "versions", "website", "x-image-process", "x-image-save-bucket"),
        *("x-image-save-object", "response-cache-control", "response-content-disposition"),
        *("response-content-encoding", "response-content-language", "response-content-type"),
        "response-expires",
    )
)
"""Query parameters that are part of a V2 CanonicalizedResource (the OBS API reference's list);
any other parameter (prefix, marker, max-keys…) is not signed."""
_SIGNED_PREFIX = {"OBS": "x-obs-", "AWS": "x-amz-"}
"""The headers a V2 signature covers, by its Authorization scheme."""
_QUERY_AUTH = frozenset({"accesskeyid", "awsaccesskeyid", "signature", "expires"})
_ADDR = "rtcsnap.obs.address"
_KEEP = ("DATE", "SECURITY_TOKEN", "CONTENT_SHA256", "CHECKSUM_CRC64ECMA")
_CLIENT_AMZ = ("HTTP_X_AMZ_DATE", "HTTP_X_AMZ_SECURITY_TOKEN", "HTTP_X_AMZ_CONTENT_SHA256")
_NEXT_MARKER = re.compile(rb"<NextMarker>[^<]*</NextMarker>")
_ERRORS = {  # code → (status, message)
    "AccessDenied": (403, "Access Denied"),
    "AuthorizationHeaderMalformed": (400, "the authorization header is malformed"),
    "BadDigest": (400, "the checksum you specified did not match what we received"),
    "InvalidRequest": (400, "no bucket in the Host header or the path"),
    "NoSuchBucket": (404, "The specified bucket does not exist"),
    "NoSuchKey": (404, "The specified key does not exist."),
    "RequestTimeTooSkewed": (
        403,
        "the difference between the request time and the server's time is too large",
    ),
    "SignatureDoesNotMatch": (
        403,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "XAmzContentSHA256Mismatch": (400, "the provided x-amz-content-sha256 does not match the body"),
    UNKNOWN_KEY_CODE: (403, "The OBS Access Key Id you provided does not exist in our records."),
}


class ObsError(DialectError):
    """An error answer: HTTP status, OBS code and message (by default the usual one for `code`)."""

    defaults = _ERRORS


@dataclass(frozen=True)
class Address:
    """Where a request goes and what its client signed: `bucket` (None: the service), the key as
    sent (still percent-encoded), whether the bucket came in ``Host``, and the path as sent."""

    bucket: str | None
    raw_key: str
    virtual: bool
    sent_path: str

    @property
    def key(self) -> str:
        return unquote(self.raw_key)


# -- the signature definitions --------------------------------------------------------------------


def query_items(query_string: str) -> list[tuple[str, str | None]]:
    """The decoded query; a parameter without ``=`` (``?acl``) has the value None, as V2 signs it."""
    items: list[tuple[str, str | None]] = []
    for part in query_string.split("&"):
        if not part:
            continue
        name, eq, value = part.partition("=")
        items.append((unquote(name.replace("+", " ")), unquote(value.replace("+", " ")) if eq else None))
    return items


def canonical_resource(address: Address, query: Iterable[tuple[str, str | None]]) -> str:
    """``/bucket/key`` (virtual-host bucket-level: ``/bucket/``; path-style: ``/bucket``) plus
    the sorted sub-resources, ``name`` or ``name=value`` with the value undecorated."""
    if address.bucket is None:
        resource = "/"
    elif address.virtual or address.raw_key:
        resource = f"/{address.bucket}/{address.raw_key}"
    else:
        resource = f"/{address.bucket}"
    subs = sorted((k, v) for k, v in query if k.lower() in SUBRESOURCES)
    if subs:
        resource += "?" + "&".join(k if v is None else f"{k}={v}" for k, v in subs)
    return resource


def obs_string_to_sign(
    method: str, headers: Mapping[str, str], prefix: str, resource: str, date: str | None = None
) -> str:
    """VERB, Content-MD5, Content-Type, Date (empty when ``<prefix>date`` is sent; the expiry
    time for a URL), the ``<prefix>*`` headers (lower-cased, sorted, ``name:value``), resource."""
    lower = {k.lower(): v for k, v in headers.items()}
    if date is None:
        date = "" if f"{prefix}date" in lower else lower.get("date", "")
    canonical = "".join(
        f"{name}:{value.strip() if name.startswith(f'{prefix}meta-') else value}\n"
        for name, value in sorted(lower.items())
        if name.startswith(prefix)
    )
    return v2_string_to_sign(method, lower, date, canonical, resource)


def v4_canonical_request(
    method: str,
    path: str,
    query: Iterable[tuple[str, str | None]],
    headers: Mapping[str, str],
    signed: Sequence[str],
    payload: str,
) -> str:
    """Method, the URI-encoded path, the sorted encoded query, the signed headers (trimmed,
    inner spaces collapsed), their names, the payload hash."""
    pairs = sorted((quote(k, safe="-_.~"), quote(v or "", safe="-_.~")) for k, v in query)
    q = "&".join(f"{k}={v}" for k, v in pairs)
    lines = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    return "\n".join([method.upper(), quote(path, safe="/~"), q, lines, ";".join(signed), payload])


def v4_signature(secret: str, long_date: str, region: str, canonical: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed by ``AWS4``+secret → day → region → s3 → aws4_request."""
    scope = f"{long_date[:8]}/{region}/s3/aws4_request"
    to_sign = f"{V4}\n{long_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{secret}".encode()
    for part in (long_date[:8], region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _error_body(code: str, message: str, request_id: str) -> bytes:
    return xml_error((("Code", code), ("Message", message), ("RequestId", request_id), ("HostId", HOST_ID)))


def _epoch(value: str) -> float | None:
    """An RFC 1123 date or an ISO basic one (``20261201T101010Z``) as seconds since the epoch."""
    try:
        if re.fullmatch(r"\d{8}T\d{6}Z", value):
            return float(timegm(time.strptime(value, "%Y%m%dT%H%M%SZ")))
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


# -- the layer ----------------------------------------------------------------------------------------


class ObsLayer(DialectLayer):
    """WSGI app in front of moto: checks who asks and what they may do, then speaks OBS."""

    request_id_header = "x-obs-request-id"
    error_class = ObsError

    def __init__(self, backend: MotoBackend, keys: KeyRing, region: str) -> None:
        super().__init__(backend, keys)
        self.region = region

    def error_response(self, err: DialectError, request_id: str) -> tuple[Headers, bytes]:
        headers = [
            ("Content-Type", "application/xml"),
            ("x-obs-error-code", err.code),
            ("x-obs-error-message", err.message.encode("ascii", "replace").decode()),
        ]
        return headers, _error_body(err.code, err.message, request_id)

    def handle(self, environ: dict[str, Any], body: bytes) -> tuple[int, Headers, bytes]:
        address: Address = environ.get(_ADDR) or _path_style(environ)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        query = query_items(environ.get("QUERY_STRING", ""))
        key, prefix = self._authenticate(environ, method, address, query, body)
        if address.bucket is None and address.sent_path not in ("", "/"):
            raise ObsError("InvalidRequest")
        forwarded = [
            (k, v or "")
            for k, v in query
            if k.lower() not in _QUERY_AUTH and not k.lower().startswith(("x-obs-", "x-amz-"))
        ]
        params = {k for k, _ in forwarded}
        bucket, name = address.bucket, address.key
        self.authorize(key, method, bucket, name, params)
        sent_crc = header(environ, f"{prefix}checksum-crc64ecma")
        if method == "PUT" and name and sent_crc is not None and sent_crc.strip() != crc64(body):
            raise ObsError(
                CRC_MISMATCH_CODE, f"{prefix}checksum-crc64ecma {sent_crc} is not the body's CRC64"
            )
        env = {k: v for k, v in environ.items() if k not in _CLIENT_AMZ and "CHECKSUM" not in k}
        status, headers, out = self.backend.forward(env, method, forwarded, body)
        if status == 404 and not out and name and bucket:  # a HEAD: which of the two is missing?
            probe = self.backend.forward(env, "HEAD", [], b"", path=f"/{quote(bucket)}")[0]
            raise ObsError("NoSuchBucket" if probe == 404 else "NoSuchKey")
        if status == 404 and not out:
            raise ObsError("NoSuchBucket")
        if status >= 300:
            raise ObsError.from_moto(status, out)
        headers = self._response_headers(headers, prefix)
        if bucket and name and "uploadId" not in params and "HTTP_X_OBS_COPY_SOURCE" not in environ:
            headers += self._object_crc(method, status, (bucket, name, headers), sent_crc, prefix)
        elif bucket and method == "GET" and params <= S3_LIST_PARAMS and "list-type" not in params:
            out = self._key_markers(out)
            headers = put_header(headers, "Content-Length", str(len(out)))
        elif bucket and method == "HEAD" and not name:
            location = "x-obs-bucket-location" if prefix == "x-obs-" else "x-amz-bucket-region"
            headers = put_header(headers, location, self.region)
        return status, headers, out

    def _response_headers(self, headers: Headers, prefix: str) -> Headers:
        if prefix == "x-obs-":
            return self.backend.vendor_headers(headers)
        drop = ("x-amz-request-id", "x-amzn-requestid")
        return [(k, v) for k, v in headers if k.lower() not in drop]

    def _object_crc(
        self, method: str, status: int, obj: tuple[str, str, Headers], sent: str | None, prefix: str
    ) -> Headers:
        """The CRC64 an object was uploaded with (remembered on its PUT), on its PUT, GET and HEAD."""
        bucket, name, headers = obj
        ident = (bucket, name, (get_header(headers, "etag") or "").strip('"'))
        if method == "PUT":
            if sent is None:
                return []
            self.crcs.put(ident, sent.strip())
        elif method not in ("GET", "HEAD") or status != 200:  # a range is not the whole object
            return []
        crc = self.crcs.get(ident)
        return [(f"{prefix}checksum-crc64ecma", crc)] if crc else []

    @staticmethod
    def _key_markers(xml: bytes) -> bytes:
        """A truncated v1 listing's NextMarker as OBS documents it — the last key (or common
        prefix) listed — where moto puts an opaque token."""
        root = ET.fromstring(xml)
        if (root.findtext("{*}IsTruncated") or "").lower() != "true":
            return xml
        last = [el.text or "" for el in root.findall("{*}Contents/{*}Key")[-1:]]
        last += [el.text or "" for el in root.findall("{*}CommonPrefixes/{*}Prefix")[-1:]]
        if not last:
            return xml
        marker = f"<NextMarker>{escape(max(last))}</NextMarker>".encode()
        xml = _NEXT_MARKER.sub(b"", xml)
        return xml.replace(b"</IsTruncated>", b"</IsTruncated>" + marker, 1)

    def seed(self, bucket: str, key: str, data: bytes, crc: bool = False) -> str:
        """Store an object straight in moto (no HTTP); with `crc`, as if uploaded with its CRC64."""
        etag = super().seed(bucket, key, data)
        if not crc:
            self.crcs.put((bucket, key, etag), "")  # a CRC64 nobody attached: GET sends none
        return etag

    # -- authentication -----------------------------------------------------------------------------

    def _authenticate(
        self,
        environ: dict[str, Any],
        method: str,
        address: Address,
        query: list[tuple[str, str | None]],
        body: bytes,
    ) -> tuple[ServerKey, str]:
        """The key that signed this request and the header prefix of its protocol, or an ObsError."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        params = {k.lower(): v or "" for k, v in query}
        scheme = auth.partition(" ")[0]
        if scheme == V4:
            return self._v4(environ, method, address, query, auth, body), RESPONSE_PREFIX[V4]
        if scheme in ("OBS", "AWS"):
            access_key, _, given = auth.partition(" ")[2].strip().rpartition(":")
            key, prefix = self._key(access_key), _SIGNED_PREFIX[scheme]
            self._check_date(environ, prefix)
            to_sign = obs_string_to_sign(
                method, _headers(environ), prefix, canonical_resource(address, query)
            )
        elif "signature" in params and ({"accesskeyid", "awsaccesskeyid"} & params.keys()):
            prefix = "x-obs-" if "accesskeyid" in params else "x-amz-"
            key = self._key(params.get("accesskeyid") or params.get("awsaccesskeyid", ""))
            given, expires = params["signature"], params.get("expires", "")
            if not expires.isdigit():
                raise ObsError("AccessDenied", "a signed URL needs Expires (seconds since the epoch)")
            if int(expires) < time.time():
                raise ObsError(EXPIRED_CODE, "Request has expired", 403)
            resource = canonical_resource(address, [(k, v) for k, v in query if k.lower() not in _QUERY_AUTH])
            to_sign = obs_string_to_sign(method, _headers(environ), prefix, resource, date=expires)
        else:
            raise ObsError(ANONYMOUS_CODE, "anonymous access is not allowed", 403)
        if not hmac.compare_digest(hmac_sha1_signature(key.secret_key, to_sign), given):
            raise ObsError("SignatureDoesNotMatch")
        return key, prefix

    def _key(self, access_key: str) -> ServerKey:
        key = self.keys.get(access_key)
        if key is None:
            raise ObsError(UNKNOWN_KEY_CODE)
        return key

    @staticmethod
    def _check_date(environ: dict[str, Any], prefix: str) -> float:
        value = header(environ, f"{prefix}date") or header(environ, "Date") or ""
        when = _epoch(value)
        if when is None:
            raise ObsError(UNDATED_CODE, "a valid Date or x-obs-date header is required", 403)
        if abs(when - time.time()) > MAX_SKEW:
            raise ObsError("RequestTimeTooSkewed")
        return when

    def _v4(
        self,
        environ: dict[str, Any],
        method: str,
        address: Address,
        query: list[tuple[str, str | None]],
        auth: str,
        body: bytes,
    ) -> ServerKey:
        fields = dict(p.strip().split("=", 1) for p in auth[len(V4) :].split(",") if "=" in p)
        if not {"Credential", "SignedHeaders", "Signature"} <= fields.keys():
            raise ObsError("AuthorizationHeaderMalformed")
        scope = fields["Credential"].split("/")
        key = self._key(scope[0])
        when = self._check_date(environ, "x-amz-")
        long_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(when))
        if len(scope) != 5 or scope[1] != long_date[:8] or scope[3:] != ["s3", "aws4_request"]:
            raise ObsError("AuthorizationHeaderMalformed", f"bad credential scope {'/'.join(scope[1:])}")
        if scope[2] != self.region:
            raise ObsError(
                WRONG_REGION_CODE, f"the region '{scope[2]}' is wrong; expecting '{self.region}'", 400
            )
        payload = header(environ, "x-amz-content-sha256") or "UNSIGNED-PAYLOAD"
        if re.fullmatch(r"[0-9a-f]{64}", payload) and payload != hashlib.sha256(body).hexdigest():
            raise ObsError("XAmzContentSHA256Mismatch")
        names = [n for n in fields["SignedHeaders"].lower().split(";") if n]
        headers = {n: v for n in names if (v := header(environ, n)) is not None}
        if set(names) - headers.keys():
            raise ObsError("SignatureDoesNotMatch")
        canonical = v4_canonical_request(method, unquote(address.sent_path), query, headers, names, payload)
        if not hmac.compare_digest(
            v4_signature(key.secret_key, long_date, scope[2], canonical), fields["Signature"]
        ):
            raise ObsError("SignatureDoesNotMatch")
        return key


def _headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request headers by lower-case name (CONTENT_TYPE/CONTENT_LENGTH included)."""
    out = {k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            out[name.replace("_", "-").lower()] = str(environ[name])
    return out


def _path_style(environ: Mapping[str, Any]) -> Address:
    raw = raw_path(environ)
    _, _, rest = raw.partition("/")
    bucket, _, raw_key = rest.partition("/")
    return Address(unquote(bucket) or None, raw_key, False, raw)


class _Addressing:
    """Outermost: ``<bucket>.obs.<region>.rtcsnap.invalid`` in Host → ``/bucket/key`` for the
    layers below; any other Host (an IP) is path-style already."""

    def __init__(self, app: WSGIApp, virtual_host: str) -> None:
        self.app, self.virtual_host = app, virtual_host

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST", "").rsplit(":", 1)[0].lower()
        raw, qs = raw_path(environ), environ.get("QUERY_STRING", "")
        if host == self.virtual_host:
            environ[_ADDR] = Address(None, raw[1:], True, raw)
        elif host.endswith(f".{self.virtual_host}"):
            bucket = host[: -len(self.virtual_host) - 1]
            environ[_ADDR] = Address(bucket, raw[1:], True, raw)
            environ["PATH_INFO"] = f"/{bucket}{environ.get('PATH_INFO', '')}"
            environ["RAW_URI"] = environ["REQUEST_URI"] = f"/{bucket}{raw}" + (f"?{qs}" if qs else "")
        else:
            environ[_ADDR] = _path_style(environ)
        return self.app(environ, start_response)


class TunnelHandler(MotoQuietHandler):
    """Answers the SDK's ``CONNECT host:80`` with 200 and then serves the tunnelled requests on
    the same connection as ordinary ones: the server is its own HTTP proxy."""

    def do_CONNECT(self) -> None:
        self.wfile.write(f"{self.protocol_version} 200 Connection established\r\n\r\n".encode())
        self.close_connection = False


class LocalOBSServer(DialectServer):
    """OBS on ``127.0.0.1:<free port>`` in a daemon thread; a context manager."""

    layer: ObsLayer

    handler = TunnelHandler

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, region: str = "cn-north-4") -> None:
        super().__init__(host, port)
        self.host = host
        self.region = region
        self.keys = KeyRing()
        self.layer = ObsLayer(MotoBackend("obs", keep=_KEEP), self.keys, region)
        self.faults = Faults(self.layer, render_error=self.layer.render_fault)
        self.app = _Addressing(self.faults, f"obs.{region}.{DOMAIN}")

    @property
    def virtual_endpoint(self) -> str:
        """The OBS endpoint virtual-host clients are configured with (through the proxy); never resolved."""
        return f"http://obs.{self.region}.{DOMAIN}"

    def put_object(self, bucket: str, key: str, data: bytes, *, crc64: bool = False) -> str:
        """Store an object server-side (seeding a benchmark: no HTTP); returns its ETag. Without
        `crc64` it is like an object RTC uploaded: no CRC64 attached, the MD5 ETag only."""
        return self.layer.seed(bucket, key, data, crc=crc64)

    def client(
        self,
        credentials: ServerKey | tuple[str, str] | None = None,
        *,
        signature: str = "obs",
        **options: Any,
    ) -> ObsClient:
        """An official-SDK client for this server (admin key by default): ``signature="obs"``
        virtual-host through the server as proxy (the SDK's production setup), ``"v2"``/``"v4"``
        path-style on the IP endpoint. `options` override any ObsClient argument."""
        from obs import ObsClient

        creds = credentials or self.admin
        ak, sk = creds.credentials if isinstance(creds, ServerKey) else creds
        config: dict[str, Any] = {
            "signature": signature,
            "region": self.region,
            "is_signature_negotiation": False,
            "max_retry_count": 0,
            "max_redirect_count": 0,
            "timeout": 30,
        }
        if signature == "obs":
            config |= {"server": self.virtual_endpoint, "proxy_host": self.host, "proxy_port": self.port}
        else:
            config |= {"server": self.endpoint, "path_style": True}
        return ObsClient(access_key_id=ak, secret_access_key=sk, **(config | options))


def http_now(offset: float = 0.0) -> str:
    """An RFC 1123 date `offset` seconds from now (for tests that skew a request's clock)."""
    from datetime import UTC, datetime

    return format_datetime(datetime.fromtimestamp(time.time() + offset, UTC), usegmt=True)


__all__ = [
    "ANONYMOUS_CODE",
    "CRC_MISMATCH_CODE",
    "EXPIRED_CODE",
    "RESPONSE_PREFIX",
    "SUBRESOURCES",
    "UNDATED_CODE",
    "UNKNOWN_KEY_CODE",
    "WRONG_REGION_CODE",
    "Address",
    "LocalOBSServer",
    "ObsError",
    "ObsLayer",
    "TunnelHandler",
    "canonical_resource",
    "http_now",
    "obs_string_to_sign",
    "query_items",
    "v4_canonical_request",
    "v4_signature",
]
