"""A local Aliyun OSS endpoint for tests: moto's S3 store behind a hand-written OSS layer.

The official SDK (``oss2`` 2.19) addresses an IP or ``localhost`` endpoint path-style
(``http://127.0.0.1:PORT/<bucket>/<key>``) on its own, so it needs no proxy or DNS trick:

    with LocalOSSServer() as server:
        server.create_bucket("snaps")
        key = server.key(["Write"])                       # a write-only key, like RTC's
        bucket = oss2.Bucket(                             # what server.bucket("snaps", key) returns
            oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(*key.credentials)),
            server.endpoint, "snaps", region="cn-hangzhou",
            session=oss2.Session(), enable_crc=True)
        bucket.put_object("a.jpg", b"...")              # V1 (oss2.Auth) is verified too

WSGI stack: `faults` → `OssLayer` (signature, permissions, OSS dialect) → moto's S3 backend. moto's
state is process-global: use unique bucket names.

Modelled on the real service (SDK source ``oss2/auth.py``, ``api.py``, ``xml_utils.py``,
``exceptions.py``; Aliyun's error-response and 403 pages): signature V1 (``OSS ak:sig``, HMAC-SHA1,
with the signed sub-resource list) and V4 (``OSS4-HMAC-SHA256``, scope ``day/region/oss/
aliyun_v4_request``, key chain from ``"aliyun_v4" + secret``), both as headers and as presigned
URLs (``Bucket.sign_url``); ``Date``/``x-oss-date`` within ±15 min; XML errors without a namespace
(``<Error><Code/><Message/><RequestId/><HostId/>…``: oss2 ignores a namespaced ``Error``);
``x-oss-request-id`` on every answer; on a HEAD error the XML body base64-encoded in ``x-oss-err``
(the body itself is empty), which is how oss2 learns a HEAD's code; ``x-oss-hash-crc64ecma`` on
PUT/GET/HEAD; ``x-oss-object-type``; upper-case hex ETags; namespace-free listings with ``<Type>``
in each ``<Contents>`` (oss2 requires it), a key-valued ``NextMarker`` on truncated v1 pages and no
``<Owner>`` in v2 pages unless ``fetch-owner=true``; ``GET /<bucket>/?bucketInfo`` and
``?location``, which moto does not answer; buckets remember their region.

Guessed (UNCONFIRMED, each in one named place below): `WRONG_ENDPOINT` (the answer when a V4 scope
names another region than the bucket's), `MALFORMED_AUTH_CODE`, `EXPIRED_URL_MESSAGE`, and the
codes for a missing date and an anonymous request; that ``GetBucketInfo``/``GetBucketLocation``
need the coarse ``List`` action (HEAD-bucket's, as SeaweedFS asks for it). Not modelled: signature
V2 (``OSS2 …``, refused), STS tokens (signed like any ``x-oss-*`` header, never validated), EC
sub-codes. Re-creating an existing bucket succeeds (moto's us-east-1 rule).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
import xml.etree.ElementTree as ET
from calendar import timegm
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from rtcsnap.testing.dialect import (
    S3_LIST_PARAMS,
    UNSIGNED,
    DialectError,
    DialectLayer,
    DialectServer,
    MotoBackend,
    Query,
    get_header,
    hmac_sha1_signature,
    moto_error_fields,
    put_header,
    s3_action,
    v2_string_to_sign,
    xml_error,
)
from rtcsnap.testing.faults import Faults, Headers, Injected, StartResponse, request_path
from rtcsnap.testing.keys import KeyRing, ServerKey

if TYPE_CHECKING:
    import oss2

ALGORITHM_V4 = "OSS4-HMAC-SHA256"
MAX_SKEW = 15 * 60
MAX_URL_TTL = 7 * 24 * 3600  # a V4 presigned URL lives at most 7 days (Aliyun's upgrade guide)
HOST_ID = "rtcsnap-local-oss"
MAX_KEYS = 1000  # a listing's max-keys: "greater than 0, at most 1000" (Aliyun's ListObjectsV2 page)
# fmt: off
SUBRESOURCES = frozenset({
    "acl", "uploads", "location", "cors", "logging", "website", "referer", "lifecycle", "delete", "append",
    "tagging", "objectMeta", "objectInfo", "uploadId", "partNumber", "security-token", "position", "style",
    "styleName", "replication", "replicationProgress", "replicationLocation", "cname", "bucketInfo", "comp",
    "qos", "live", "status", "vod", "startTime", "endTime", "symlink", "x-oss-process",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "x-oss-traffic-limit", "restore",
    "callback", "callback-var", "qosInfo", "policy", "stat", "encryption", "versions", "versioning",
    "versionId", "requestPayment", "x-oss-request-payer", "sequential", "inventory", "inventoryId",
    "continuation-token", "asyncFetch", "worm", "wormId", "wormExtend", "transferAcceleration", "metaQuery",
    "resourceGroup", "regionList", "link", "group", "x-oss-ac-source-ip", "x-oss-ac-subnet-mask",
    "x-oss-ac-vpc-id", "x-oss-ac-forward-allow", "x-oss-async-process", "x-oss-write-get-object-response",
    "bucketArchiveDirectRead", "httpsConfig", "redundancyTransition", "x-oss-target-redundancy-type",
    "x-oss-redundancy-transition-taskid", "accessPoint", "accessPointPolicy", "publicAccessBlock",
    "x-oss-access-point-name", "requesterQosInfo", "qosRequester", "resourcePoolInfo", "resourcePool",
    "resourcePoolBuckets"
})
# fmt: on
"""The query parameters V1 signs (the ``CanonicalizedResource`` sub-resources), copied from the
definition in oss2 2.19.1 ``auth.py`` (``ProviderAuth._subresource_key_set``: the SDK tracks the
service's list; a test keeps the two equal). ``continuation-token`` is one, so the empty ``continuation-token=`` oss2 always sends on a v2 listing is signed as a bare
``?continuation-token``."""
AUTH_PARAMS = frozenset(
    {"OSSAccessKeyId", "Expires", "Signature", "security-token"}
    | {"x-oss-signature-version", "x-oss-credential", "x-oss-date", "x-oss-expires", "x-oss-signature"}
    | {"x-oss-additional-headers", "x-oss-security-token"}
)
"""Query parameters of a presigned URL: checked here, never forwarded to moto."""
_XMLNS = re.compile(rb' xmlns="[^"]*"')
"""moto's S3 namespace on a result's root element: oss2 parses without namespaces."""
_ETAG = re.compile(rb"<ETag>([^<]*)</ETag>")
_KEEP = ("DATE", "CONTENT_SHA256", "SECURITY_TOKEN")  # x-oss-* auth headers: not forwarded as x-amz-*
_EMPTY_IS_ABSENT = frozenset({"continuation-token", "start-after", "marker", "delimiter"})
"""Listing parameters oss2 always sends, empty when unused (moto refuses an empty continuation
token): not replayed to moto when empty, though signed as sent."""
_OBJECT_PARAMS = frozenset({"uploadId", "partNumber", "versionId"})
"""Query parameters of a request on an object's bytes (else a sub-resource: ``?acl``, ``?tagging``)."""
_BUCKET_READS = frozenset({"bucketInfo", "location"})
"""Bucket sub-resources answered here from the bucket's record (moto ignores them)."""

WRONG_ENDPOINT = (
    "AccessDenied",
    403,
    "The bucket you are attempting to access must be addressed using the specified endpoint. "
    "Please send all future requests to this endpoint.",
)
"""UNCONFIRMED: the answer to a V4 request whose scope names another region than the bucket's.
Real OSS answers a request sent to another region's endpoint with this 403 and an ``<Endpoint>``
element (aliyun-oss-go-sdk issue #81 shows code AccessDenied; Aliyun's current 403 table lists the
message under PermanentRedirect); with the default endpoints (``oss-<region>.aliyuncs.com``) a
wrong region is exactly that mistake. What the service says when only the scope's region is wrong
is not documented. The provider recognises both codes."""
MALFORMED_AUTH_CODE = "InvalidArgument"
"""UNCONFIRMED: the code for an Authorization header that is neither ``OSS ak:sig`` nor a complete
``OSS4-HMAC-SHA256 Credential=…, Signature=…`` (Aliyun documents EC codes, not the Code, for these)."""
EXPIRED_URL_MESSAGE = "Request has expired."
"""UNCONFIRMED: 403 AccessDenied with this message for a presigned URL past its expiry (what S3
answers; Aliyun's pages name the code AccessDenied but quote no message)."""

_ERRORS: dict[str, tuple[int, str]] = {  # code → (status, default message)
    "AccessDenied": (403, "You have no right to access this object because of bucket acl."),
    MALFORMED_AUTH_CODE: (400, "Authorization header is invalid."),
    "InvalidAccessKeyId": (403, "The OSS Access Key Id you provided does not exist in our records."),
    "SignatureDoesNotMatch": (
        403,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "RequestTimeTooSkewed": (
        403,
        "The difference between the request time and the current time is too large.",
    ),
    "NoSuchBucket": (404, "The specified bucket does not exist."),
    "NoSuchKey": (404, "The specified key does not exist."),
}


class OssError(DialectError):
    """An error answer: HTTP status, OSS code, message and the extra elements OSS adds
    (``OSSAccessKeyId``, ``StringToSign``, ``Bucket``, ``Endpoint``…), in document order."""

    defaults = _ERRORS

    def __init__(
        self,
        code: str,
        message: str | None = None,
        status: int | None = None,
        extra: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(code, message, status)
        self.extra = tuple(extra)


# -- signature V1 ------------------------------------------------------------------------------


def canonical_resource(bucket: str | None, key: str, query: Iterable[tuple[str, str]]) -> str:
    """``/bucket/key`` (``/bucket/`` for a bucket, ``/`` for the service) and the signed
    sub-resources, sorted, decoded, ``k=v`` or a bare ``k`` when the value is empty."""
    subs = sorted((k, v) for k, v in query if k in SUBRESOURCES)
    tail = ("?" + "&".join(f"{k}={v}" if v else k for k, v in subs)) if subs else ""
    return (f"/{bucket}/{key}" if bucket else "/") + tail


def string_to_sign_v1(method: str, headers: Mapping[str, str], resource: str, date: str) -> str:
    """``VERB\\nContent-MD5\\nContent-Type\\nDate\\n`` + the ``x-oss-*`` headers (lower-case, sorted,
    ``name:value\\n``) + the canonical resource: Aliyun's V1 definition, written from it, never by
    calling the SDK's signer. `headers` holds lower-case names."""
    oss = "".join(f"{k}:{v}\n" for k, v in sorted(headers.items()) if k.startswith("x-oss-"))
    return v2_string_to_sign(method, headers, date, oss, resource)


# -- signature V4 ------------------------------------------------------------------------------


def v4_quote(text: str, keep_slash: bool) -> str:
    """Percent-encode all but ``A-Za-z0-9_-~.`` (and ``/`` in the path), upper-case hex."""
    safe = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-~." + (
        b"/" if keep_slash else b""
    )
    return "".join(chr(b) if b in safe else f"%{b:02X}" for b in text.encode())


def canonical_request_v4(
    method: str,
    bucket: str | None,
    key: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    additional: Sequence[str],
) -> str:
    """Method, encoded ``/bucket/key``, every query parameter (encoded, sorted), the signed headers
    (``x-oss-*``, ``content-type``, ``content-md5`` and the additional ones, ``name:value\\n``),
    the additional header names, the payload hash. `headers` holds lower-case names."""
    uri = v4_quote(f"/{bucket}/{key}" if bucket else "/", keep_slash=True)
    pairs = sorted((v4_quote(k, False), v4_quote(v, False)) for k, v in query)
    q = "&".join(f"{k}={v}" if v else k for k, v in pairs)
    wanted = {"content-type", "content-md5", *additional}
    signed = sorted((k, v) for k, v in headers.items() if k.startswith("x-oss-") or k in wanted)
    lines = "".join(f"{k}:{v}\n" for k, v in signed)
    payload = headers.get("x-oss-content-sha256", UNSIGNED)
    return "\n".join([method.upper(), uri, q, lines, ";".join(sorted(additional)), payload])


def signature_v4(secret: str, when: str, region: str, canonical: str) -> str:
    """Hex HMAC-SHA256 of the string to sign, keyed by the chain ``"aliyun_v4" + secret`` → day →
    region → ``oss`` → ``aliyun_v4_request``; `when` is the ISO basic time (``20261201T100000Z``)."""
    scope = f"{when[:8]}/{region}/oss/aliyun_v4_request"
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    to_sign = f"{ALGORITHM_V4}\n{when}\n{scope}\n{digest}"
    key = f"aliyun_v4{secret}".encode()
    for part in (when[:8], region, "oss", "aliyun_v4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


# -- the layer ---------------------------------------------------------------------------------


def oss_region(region: str) -> str:
    """A region id in its ``oss-`` form (``cn-hangzhou`` → ``oss-cn-hangzhou``)."""
    return region if region.startswith("oss-") else f"oss-{region}"


def _error_body(err: DialectError, request_id: str) -> bytes:
    extra = err.extra if isinstance(err, OssError) else ()
    fields = [("Code", err.code), ("Message", err.message), ("RequestId", request_id), ("HostId", HOST_ID)]
    return xml_error([*fields, *extra])


def _request_headers(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers by lower-case name (WSGI keeps Content-Type/-Length apart)."""
    out = {k[5:].lower().replace("_", "-"): str(v) for k, v in environ.items() if k.startswith("HTTP_")}
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            out[name.lower().replace("_", "-")] = str(environ[name])
    return out


def _clock(when: str) -> float | None:
    """Seconds since the epoch of an ISO basic time, or None."""
    try:
        return float(timegm(time.strptime(when, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        return None


class OssLayer(DialectLayer):
    """WSGI app in front of moto: checks who asks and what they may do, then speaks OSS."""

    request_id_header = "x-oss-request-id"
    error_class: ClassVar[type[DialectError]] = OssError

    def __init__(self, backend: MotoBackend, keys: KeyRing, region: str) -> None:
        super().__init__(backend, keys)
        self.region = oss_region(region)
        self._regions: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- bucket regions ----------------------------------------------------------------------

    def bucket_region(self, bucket: str) -> str:
        """The region a bucket was created in (`region` unless recorded otherwise)."""
        with self._lock:
            return self._regions.get(bucket, self.region)

    def set_bucket_region(self, bucket: str, region: str | None) -> None:
        with self._lock:
            if region is None:
                self._regions.pop(bucket, None)
            else:
                self._regions[bucket] = oss_region(region)

    # -- WSGI ----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD", "").upper() == "HEAD":
            return super().__call__(environ, start_response)

        def body_carries_the_error(status: str, headers: Headers, exc_info: Any = None) -> Any:
            return start_response(status, [(k, v) for k, v in headers if k.lower() != "x-oss-err"], exc_info)

        return super().__call__(environ, body_carries_the_error)

    def error_response(self, err: DialectError, request_id: str) -> tuple[Headers, bytes]:
        """OSS's XML error; ``x-oss-err`` carries it base64-encoded for HEAD answers, whose body
        is dropped (`__call__` strips the header from every other answer)."""
        body = _error_body(err, request_id)
        return [("Content-Type", "application/xml"), ("x-oss-err", base64.b64encode(body).decode())], body

    def render_fault(self, injected: Injected) -> tuple[Headers, bytes]:
        headers, body = super().render_fault(injected)
        return [(k, v) for k, v in headers if injected.head or k.lower() != "x-oss-err"], body

    def handle(self, environ: dict[str, Any], body: bytes) -> tuple[int, Headers, bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = request_path(environ)
        bucket_part, _, name = path[1:].partition("/")
        bucket = bucket_part or None
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        key, scope_region = self._authenticate(environ, method, bucket, name, query)
        if bucket is not None and scope_region is not None:
            self._check_region(bucket, scope_region)
        forwarded = [(k, v) for k, v in query if k not in AUTH_PARAMS]
        params = {k for k, _ in forwarded}
        self.authorize(key, method, bucket, name, params)
        if bucket is not None and not name and method == "GET" and params & _BUCKET_READS:
            return self._bucket_read(bucket, params)
        if bucket and not name and method == "GET" and params <= S3_LIST_PARAMS:
            wanted = dict(forwarded).get("max-keys", "1")
            if not wanted.isdigit() or not 0 < int(wanted) <= MAX_KEYS:
                raise OssError("InvalidArgument", f"max-keys must be 1 to {MAX_KEYS}", 400)
        replay = [(k, v) for k, v in forwarded if v or k not in _EMPTY_IS_ABSENT]
        if method == "POST" and "uploadId" in params:  # CompleteMultipartUpload: our ETags are upper-case
            body = _ETAG.sub(lambda m: b"<ETag>" + m.group(1).lower() + b"</ETag>", body)
        status, headers, out = self.backend.forward(environ, method, replay, body)
        if status >= 300:
            raise self._moto_error(environ, method, forwarded, status, out)
        headers = [(k, v) for k, v in self.backend.vendor_headers(headers) if k.lower() != "x-oss-id-2"]
        plain = not {p for p in params if not p.startswith("response-")} - _OBJECT_PARAMS
        if bucket and name and plain and method in ("PUT", "GET", "HEAD"):
            if "HTTP_X_OSS_COPY_SOURCE" not in environ:
                data = body if method == "PUT" else out
                headers = self._object_headers(environ, bucket, name, headers, data, status)
            return status, headers, out  # an object's bytes: never rewritten
        if bucket and not name and method == "GET" and params <= S3_LIST_PARAMS:
            out = self._listing(out, dict(forwarded))
        elif bucket and not name and method == "PUT" and not params:
            self.set_bucket_region(bucket, scope_region or self.region)
        elif bucket and not name and method == "DELETE" and not params:
            self.set_bucket_region(bucket, None)
        elif "xml" in (get_header(headers, "Content-Type") or ""):  # e.g. InitiateMultipartUploadResult
            out = _XMLNS.sub(b"", out, count=1)
        return status, headers, out

    def authorize(
        self, key: ServerKey, method: str, bucket: str | None, name: str, params: Iterable[str]
    ) -> None:
        """As the base, but GetBucketInfo/GetBucketLocation (bucket metadata, like a HEAD bucket)
        need ``List`` (UNCONFIRMED, the coarse action model's choice), not ``Admin``."""
        names = set(params)
        action = "List" if bucket and not name and method == "GET" and names & _BUCKET_READS else None
        action = action or s3_action(method, bucket, name, names)
        if not key.allows(action, bucket or "*"):
            raise OssError("AccessDenied", f"this key may not {action} here", 403)

    # -- authentication ------------------------------------------------------------------------

    def _authenticate(
        self, environ: dict[str, Any], method: str, bucket: str | None, name: str, query: Query
    ) -> tuple[ServerKey, str | None]:
        """The key that signed the request, and for V4 the region its scope names (else None)."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        params = dict(query)
        headers = _request_headers(environ)
        if auth.startswith("OSS "):
            return self._v1(auth[4:], method, bucket, name, query, headers), None
        if auth.startswith(f"{ALGORITHM_V4} "):
            return self._v4_header(auth[len(ALGORITHM_V4) + 1 :], method, bucket, name, query, headers)
        if auth:
            raise OssError(
                MALFORMED_AUTH_CODE, "only OSS (V1) and OSS4-HMAC-SHA256 (V4) signatures are accepted"
            )
        if "Signature" in params and "OSSAccessKeyId" in params:
            return self._v1_url(params, method, bucket, name, query, headers), None
        if params.get("x-oss-signature-version") == ALGORITHM_V4:
            return self._v4_url(params, method, bucket, name, query, headers)
        raise OssError(
            "AccessDenied", "Anonymous user has no right to access this bucket."
        )  # UNCONFIRMED code

    def _lookup(self, access_key: str) -> ServerKey:
        key = self.keys.get(access_key)
        if key is None:
            raise OssError("InvalidAccessKeyId", extra=[("OSSAccessKeyId", access_key)])
        return key

    def _v1(
        self,
        credential: str,
        method: str,
        bucket: str | None,
        name: str,
        query: Query,
        headers: dict[str, str],
    ) -> ServerKey:
        access_key, sep, given = credential.rpartition(":")
        if not sep or not access_key or not given:
            raise OssError(
                MALFORMED_AUTH_CODE, "Authorization header is invalid: expected OSS AccessKeyId:Signature"
            )
        key = self._lookup(access_key.strip())
        date = headers.get("x-oss-date") or headers.get("date", "")
        try:
            skew = parsedate_to_datetime(date).timestamp() - time.time()
        except (TypeError, ValueError, IndexError):
            raise OssError(
                "AccessDenied", "OSS authentication requires a valid Date."
            ) from None  # UNCONFIRMED code
        if abs(skew) > MAX_SKEW:
            raise OssError("RequestTimeTooSkewed")
        to_sign = string_to_sign_v1(method, headers, canonical_resource(bucket, name, query), date)
        self._compare(hmac_sha1_signature(key.secret_key, to_sign), given, key, to_sign)
        return key

    def _v1_url(
        self,
        params: dict[str, str],
        method: str,
        bucket: str | None,
        name: str,
        query: Query,
        headers: dict[str, str],
    ) -> ServerKey:
        key = self._lookup(params["OSSAccessKeyId"])
        expires = params.get("Expires", "")
        if not expires.isdigit():
            raise OssError(
                "AccessDenied", "Expires is not a number of seconds since the epoch."
            )  # UNCONFIRMED
        if int(expires) < time.time():
            raise OssError("AccessDenied", EXPIRED_URL_MESSAGE)
        to_sign = string_to_sign_v1(method, headers, canonical_resource(bucket, name, query), expires)
        self._compare(hmac_sha1_signature(key.secret_key, to_sign), params["Signature"], key, to_sign)
        return key

    def _v4_header(
        self, rest: str, method: str, bucket: str | None, name: str, query: Query, headers: dict[str, str]
    ) -> tuple[ServerKey, str]:
        fields = dict(p.strip().split("=", 1) for p in rest.split(",") if "=" in p)
        if not {"Credential", "Signature"} <= fields.keys():
            raise OssError(MALFORMED_AUTH_CODE, f"expected {ALGORITHM_V4} Credential=…, Signature=…")
        when = headers.get("x-oss-date", "")
        additional = [h.strip().lower() for h in fields.get("AdditionalHeaders", "").split(";") if h.strip()]
        return self._v4(
            fields["Credential"],
            fields["Signature"],
            when,
            None,
            additional,
            method,
            bucket,
            name,
            query,
            headers,
        )

    def _v4_url(
        self,
        params: dict[str, str],
        method: str,
        bucket: str | None,
        name: str,
        query: Query,
        headers: dict[str, str],
    ) -> tuple[ServerKey, str]:
        expires = params.get("x-oss-expires", "")
        if not expires.isdigit() or int(expires) > MAX_URL_TTL:
            raise OssError("AccessDenied", f"x-oss-expires must be 1 to {MAX_URL_TTL} seconds")  # UNCONFIRMED
        additional = [h for h in params.get("x-oss-additional-headers", "").lower().split(";") if h]
        unsigned = [(k, v) for k, v in query if k != "x-oss-signature"]
        return self._v4(
            params.get("x-oss-credential", ""),
            params.get("x-oss-signature", ""),
            params.get("x-oss-date", ""),
            int(expires),
            additional,
            method,
            bucket,
            name,
            unsigned,
            headers,
        )

    def _v4(
        self,
        credential: str,
        given: str,
        when: str,
        expires: int | None,
        additional: Sequence[str],
        method: str,
        bucket: str | None,
        name: str,
        query: Query,
        headers: dict[str, str],
    ) -> tuple[ServerKey, str]:
        scope = credential.split("/")
        if len(scope) != 5 or scope[3:] != ["oss", "aliyun_v4_request"]:
            raise OssError(
                MALFORMED_AUTH_CODE, "Credential must be AccessKeyId/day/region/oss/aliyun_v4_request"
            )
        key = self._lookup(scope[0])
        at = _clock(when)
        if at is None or scope[1] != when[:8]:
            raise OssError(
                "AccessDenied", "x-oss-date is missing, not ISO basic, or not the scope's day"
            )  # UNCONFIRMED
        skew = at - time.time()
        if skew > MAX_SKEW or (expires is None and skew < -MAX_SKEW):
            raise OssError("RequestTimeTooSkewed")
        if expires is not None and skew + expires < 0:
            raise OssError("AccessDenied", EXPIRED_URL_MESSAGE)
        if any(h not in headers for h in additional):
            raise OssError("SignatureDoesNotMatch", "an AdditionalHeaders header is not in the request")
        canonical = canonical_request_v4(method, bucket, name, query, headers, additional)
        expected = signature_v4(key.secret_key, when, scope[2], canonical)
        self._compare(expected, given, key, canonical)
        return key, scope[2]

    @staticmethod
    def _compare(expected: str, given: str, key: ServerKey, signed: str) -> None:
        if not hmac.compare_digest(expected.encode(), given.strip().encode()):
            raise OssError(
                "SignatureDoesNotMatch", extra=[("OSSAccessKeyId", key.access_key), ("StringToSign", signed)]
            )

    def _check_region(self, bucket: str, scope_region: str) -> None:
        """A V4 scope of another region than the bucket's: what OSS says to a request sent to
        another region's endpoint (`WRONG_ENDPOINT`). Only for buckets that exist."""
        if not self._bucket_exists(bucket):
            return
        region = self.bucket_region(bucket)
        if oss_region(scope_region) != region or scope_region.startswith("oss-"):
            code, status, message = WRONG_ENDPOINT
            extra = [("Bucket", bucket), ("Endpoint", f"{region}.aliyuncs.com")]
            raise OssError(code, message, status, extra)

    # -- answers -------------------------------------------------------------------------------

    @staticmethod
    def _moto_bucket(bucket: str) -> Any:
        from moto.backends import get_backend
        from moto.core.models import DEFAULT_ACCOUNT_ID

        return get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"].buckets.get(bucket)

    def _bucket_exists(self, bucket: str) -> bool:
        return self._moto_bucket(bucket) is not None

    def _bucket_read(self, bucket: str, params: set[str]) -> tuple[int, Headers, bytes]:
        """GetBucketInfo / GetBucketLocation from the bucket's record (moto answers neither)."""
        found = self._moto_bucket(bucket)
        if found is None:
            raise OssError("NoSuchBucket", extra=[("BucketName", bucket)])
        region = self.bucket_region(bucket)
        if "location" in params:
            xml = f"<LocationConstraint>{region}</LocationConstraint>"
        else:
            created = found.creation_date.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            xml = (
                f"<BucketInfo><Bucket><AccessMonitor>Disabled</AccessMonitor><CreationDate>{created}</CreationDate>"
                f"<ExtranetEndpoint>{region}.aliyuncs.com</ExtranetEndpoint>"
                f"<IntranetEndpoint>{region}-internal.aliyuncs.com</IntranetEndpoint>"
                f"<Location>{region}</Location><StorageClass>Standard</StorageClass>"
                "<TransferAcceleration>Disabled</TransferAcceleration>"
                f"<CrossRegionReplication>Disabled</CrossRegionReplication><Name>{escape(bucket)}</Name>"
                "<Owner><DisplayName>rtcsnap</DisplayName><ID>rtcsnap</ID></Owner>"
                "<AccessControlList><Grant>private</Grant></AccessControlList>"
                "<DataRedundancyType>LRS</DataRedundancyType></Bucket></BucketInfo>"
            )
        body = f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}'.encode()
        return 200, [("Content-Type", "application/xml")], body

    def _moto_error(
        self, environ: dict[str, Any], method: str, query: Query, status: int, body: bytes
    ) -> OssError:
        """moto's XML error as an OssError; a HEAD has no body, so its GET twin tells the code
        (NoSuchBucket or NoSuchKey: real OSS puts the right one in ``x-oss-err``)."""
        if method == "HEAD" and not body:
            status2, _, body2 = self.backend.forward(environ, "GET", query, b"")
            if status2 == status:
                body = body2
        code, message = moto_error_fields(status, body)
        return OssError(code, message, status)

    def _object_headers(
        self, environ: dict[str, Any], bucket: str, name: str, headers: Headers, data: bytes, status: int
    ) -> Headers:
        """CRC64, object type and OSS's upper-case ETag on an object's PUT/GET/HEAD."""
        etag = (get_header(headers, "etag") or "").strip('"')
        crc = self.object_crc(environ, (bucket, name, etag.lower()), data, status)
        if crc is not None:
            headers = put_header(headers, "x-oss-hash-crc64ecma", crc)
        if etag:
            headers = put_header(headers, "ETag", f'"{etag.upper()}"')
            if environ["REQUEST_METHOD"].upper() != "PUT":
                headers = put_header(headers, "x-oss-object-type", "Multipart" if "-" in etag else "Normal")
        return headers

    @staticmethod
    def _listing(xml: bytes, params: dict[str, str]) -> bytes:
        """moto's ListBucketResult as OSS writes it: no namespace, ``<Type>`` after each ``<Key>``,
        upper-case ETags, a key as v1's NextMarker, no ``<Owner>`` in v2 without fetch-owner."""
        root = ET.fromstring(xml)
        for el in root.iter():
            el.tag = el.tag.rpartition("}")[2]
        v2 = params.get("list-type") == "2"
        for item in root.findall("Contents"):
            etag = item.find("ETag")
            if etag is not None and etag.text:
                etag.text = etag.text.upper()
            kind = ET.Element("Type")
            kind.text = "Multipart" if etag is not None and "-" in (etag.text or "") else "Normal"
            children = list(item)
            at = next((i for i, c in enumerate(children) if c.tag == "Key"), len(children) - 1)
            item.insert(at + 1, kind)
            owner = item.find("Owner")
            if v2 and owner is not None and params.get("fetch-owner", "").lower() != "true":
                item.remove(owner)
        if not v2 and root.findtext("IsTruncated") == "true":
            last = [c.findtext("Key") or "" for c in root.findall("Contents")[-1:]]
            last += [c.findtext("Prefix") or "" for c in root.findall("CommonPrefixes")[-1:]]
            marker = root.find("NextMarker")
            if marker is None:
                marker = ET.SubElement(root, "NextMarker")
            marker.text = max(last) if last else ""
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root)


class LocalOSSServer(DialectServer):
    """OSS on ``127.0.0.1:<free port>`` in a daemon thread; a context manager.

    `region` is the region new buckets are in (either form: ``oss-cn-hangzhou`` or ``cn-hangzhou``);
    V4 clients sign with its bare id (`signing_region`)."""

    layer: OssLayer

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, region: str = "oss-cn-hangzhou") -> None:
        super().__init__(host, port)
        self.keys = KeyRing(prefix="LTAI")
        self.layer = OssLayer(MotoBackend("oss", keep=_KEEP), self.keys, region)
        self.faults = Faults(self.layer, render_error=self.layer.render_fault)
        self.app = self.faults

    @property
    def region(self) -> str:
        """The default bucket region, ``oss-`` form (what target URLs and GetBucketInfo say)."""
        return self.layer.region

    @property
    def signing_region(self) -> str:
        """The region id V4 signs with: the `region` without its ``oss-`` prefix."""
        return self.region.removeprefix("oss-")

    def create_bucket(self, name: str, region: str | None = None) -> str:
        """Create `name` straight in moto (no SDK involved), in `region` (default: the server's)."""
        status, body = self.layer.backend.create_bucket(name)
        if status >= 300:
            code, message = moto_error_fields(status, body)
            raise OssError(code, message, status)
        self.layer.set_bucket_region(name, region or self.region)
        return name

    def target_options(self, bucket: str) -> dict[str, str]:
        """Target URL options beyond region and endpoint: none (the IP endpoint means path-style)."""
        return {}

    def client(
        self, credentials: ServerKey | tuple[str, str] | None = None, **options: Any
    ) -> Callable[[str], oss2.Bucket]:
        """An `oss2.Bucket` factory for this server (oss2 has one client per bucket):
        ``server.client(key)("snaps")`` is ``server.bucket("snaps", key)``."""
        return lambda bucket: self.bucket(bucket, credentials, **options)

    def bucket(
        self,
        name: str,
        credentials: ServerKey | tuple[str, str] | None = None,
        *,
        signature: str = "v4",
        session_token: str | None = None,
        **options: Any,
    ) -> oss2.Bucket:
        """An official-SDK `oss2.Bucket` of `name` on this server (admin key by default), set up as
        the module docstring shows: V4 with the server's signing region (``signature="v1"``: V1),
        its own `oss2.Session`, the SDK's CRC check on. `options` override any Bucket argument."""
        import oss2

        creds = credentials or self.admin
        ak, sk = creds.credentials if isinstance(creds, ServerKey) else creds
        version = {"v1": oss2.AUTH_VERSION_1, "v4": oss2.AUTH_VERSION_4}[signature]
        if session_token:
            auth: Any = oss2.StsAuth(ak, sk, session_token, auth_version=version)
        elif signature == "v4":
            auth = oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(ak, sk))
        else:
            auth = oss2.Auth(ak, sk)
        config: dict[str, Any] = {
            "region": self.signing_region,
            "session": oss2.Session(),
            "enable_crc": True,
        }
        return oss2.Bucket(auth, self.endpoint, name, **(config | options))


__all__ = [
    "ALGORITHM_V4",
    "AUTH_PARAMS",
    "EXPIRED_URL_MESSAGE",
    "MALFORMED_AUTH_CODE",
    "SUBRESOURCES",
    "WRONG_ENDPOINT",
    "LocalOSSServer",
    "OssError",
    "OssLayer",
    "canonical_request_v4",
    "canonical_resource",
    "oss_region",
    "signature_v4",
    "string_to_sign_v1",
    "v4_quote",
]
