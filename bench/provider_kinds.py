"""The per-provider half of `bench_providers.py`: for each provider, the raw SDK loop (its client
configured exactly as the provider configures its own: retries off, the same timeouts and
addressing), the local server it runs against, server-side seeding, the parent's check listing
over HTTP, and what its target URLs carry. `bench_providers.py` is the provider-neutral driver.

Adding a provider here is: a ``Raw<Name>`` class (``pages()`` of key lists, ``fetch(key, path)``,
``close()``), a ``start_<name>(buckets) -> Server``, and a `Kind` in `KINDS`.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

PAGE_SIZE = 1000
CHUNK = 256 * 1024  # rtcsnap.providers.contract.CHUNK_SIZE: what the providers read per call
TIMEOUT = (10, 60)  # (connect, read) seconds, as the providers set them
URL_TTL = 600  # seconds a signed download URL lives (veImageX GetResourceURL, Kodo private URLs)
ACCOUNT_ID = "2100000000"
AK_ENV, SK_ENV = "RTCSNAP_BENCH_ACCESS_KEY", "RTCSNAP_BENCH_SECRET_KEY"
Inventory = dict[str, tuple[int, str]]  # key -> (size, MD5 hex): what verify_download checks


def credentials() -> tuple[str, str]:
    """The admin key pair, set by the parent in the child's environment (`child_env`)."""
    return os.environ[AK_ENV], os.environ[SK_ENV]


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class Raw(Protocol):
    def pages(self) -> Iterator[list[str]]: ...
    def fetch(self, key: str, path: Path) -> int: ...
    def close(self) -> None: ...


def _write(chunks: Iterator[bytes], path: Path) -> int:
    n = 0
    with open(path, "wb") as f:
        for chunk in chunks:
            f.write(chunk)
            n += len(chunk)
    return n


class RawTos:
    """A `tos.TosClientV2` set up as `rtcsnap_tos.provider.TosSession` sets up its own."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        import tos

        ak, sk = credentials()
        region, parts = KINDS["tos"].region, urlsplit(endpoint)
        self.bucket = bucket
        self.client = tos.TosClientV2(
            ak,
            sk,
            endpoint=f"http://tos-{region}.rtcsnap.invalid",
            region=region,
            security_token=None,
            max_retry_count=0,
            enable_crc=False,  # as the provider: rtcsnap hashes in core, the raw loop not at all
            connection_time=TIMEOUT[0],
            socket_timeout=TIMEOUT[1],
            dns_cache_time=0,
            proxy_host=parts.hostname,
            proxy_port=parts.port or 80,
        )

    def pages(self) -> Iterator[list[str]]:
        token: str | None = None
        while True:
            resp = self.client.list_objects_type2(
                self.bucket, prefix="", max_keys=PAGE_SIZE, continuation_token=token, list_only_once=True
            )
            yield [o.key for o in resp.contents]
            if not resp.is_truncated:
                return
            token = resp.next_continuation_token

    def fetch(self, key: str, path: Path) -> int:
        resp = self.client.get_object(self.bucket, key)
        try:
            return _write(iter(lambda: resp.read(CHUNK), b""), path)
        finally:
            resp.resp.resp.close()

    def close(self) -> None:
        self.client.close()


class RawImageX:
    """A volcengine `ImagexService` set up as `rtcsnap_veimagex.provider.VeImageXSession` sets up its own."""

    def __init__(self, endpoint: str, service_id: str) -> None:
        import copy

        from volcengine.imagex.v2.imagex_service import ImagexService

        ak, sk = credentials()
        svc = ImagexService(KINDS["veimagex"].region)
        svc.service_info = copy.deepcopy(svc.service_info)
        svc.set_ak(ak)
        svc.set_sk(sk)
        svc.set_connection_timeout(TIMEOUT[0])
        svc.set_socket_timeout(TIMEOUT[1])
        parts = urlsplit(endpoint)
        svc.set_host(parts.netloc)
        svc.set_scheme(parts.scheme)
        self.svc, self.service_id = svc, service_id
        self._layout: tuple[str, str] | None = None
        self._lock = threading.Lock()

    def layout(self) -> tuple[str, str]:
        """(storage bucket, default domain): one GetImageService per client, as the provider does."""
        with self._lock:
            if self._layout is None:
                info = self.svc.get_image_service({"ServiceId": self.service_id})["Result"]
                domains = info.get("DomainInfos") or [{}]
                domain = next((d for d in domains if d.get("IsDefault")), domains[0]).get("DomainName", "")
                self._layout = (str((info.get("Storage") or {}).get("BktName") or ""), str(domain))
            return self._layout

    def pages(self) -> Iterator[list[str]]:
        marker: str | None = None
        while True:
            query: dict[str, Any] = {"ServiceId": self.service_id, "Prefix": "", "Limit": PAGE_SIZE}
            if marker is not None:
                query["Marker"] = marker
            result = self.svc.get_image_storage_files(query)["Result"]
            yield [str(item["Key"]) for item in result.get("Items") or []]
            if not result.get("HasMore"):
                return
            marker = result["Marker"]

    def fetch(self, key: str, path: Path) -> int:
        bucket, domain = self.layout()
        query = {
            "ServiceId": self.service_id,
            "Domain": domain,
            "URI": f"{bucket}/{key}",
            "Proto": "http",
            "Timestamp": URL_TTL,
        }
        url = self.svc.get_resource_url(query)["Result"]["ObjURL"]
        resp = self.svc.session.get(url, stream=True, timeout=TIMEOUT)
        try:
            if resp.status_code != 200:
                raise RuntimeError(f"GET {key}: HTTP {resp.status_code}")
            return _write(resp.iter_content(CHUNK), path)
        finally:
            resp.close()

    def close(self) -> None:
        self.svc.session.close()


@dataclass
class Bucket:
    name: str
    count: int
    size: int
    keyfn: Callable[[int], str]
    inventory: Inventory = field(default_factory=dict)

    def data(self, i: int) -> bytes:
        """Random bytes for downloads; a short fixed body for the listing bucket."""
        return os.urandom(self.size) if self.size > 64 else b"0123456789abcdef"[: self.size]


@dataclass
class Server:
    endpoint: str
    seed_seconds: float
    stop: Callable[[], None]
    describe: str
    admin: tuple[str, str]
    check: Callable[[Bucket], Inventory]
    """One listing pass over HTTP through the official SDK: key -> (size, MD5 or '')."""


def start_tos(buckets: list[Bucket]) -> Server:
    from rtcsnap.testing.tosserver import LocalTOSServer

    server = LocalTOSServer(region=KINDS["tos"].region).start()
    try:
        t0 = time.perf_counter()
        # Straight into moto's backend, the CRC64 remembered as a PUT would (the TOS layer puts it
        # in listings; seeded behind its back, it would learn it from the first GETs instead).
        for b in buckets:
            server.create_bucket(b.name)
            for i in range(b.count):
                key, data = b.keyfn(i), b.data(i)
                b.inventory[key] = (len(data), server.layer.seed(b.name, key, data))
        seed_s = time.perf_counter() - t0
    except BaseException:
        server.stop()
        raise

    def check(b: Bucket) -> Inventory:
        client = server.client()  # the admin key, configured as the module docstring says
        inv: Inventory = {}
        token: str | None = None
        while True:
            resp = client.list_objects_type2(
                b.name, max_keys=PAGE_SIZE, continuation_token=token, list_only_once=True
            )
            for o in resp.contents:
                if not o.hash_crc64_ecma:
                    raise SystemExit(f"tos://{b.name}/{o.key}: listed without HashCrc64ecma")
                inv[o.key] = (int(o.size), o.etag.strip('"'))
            if not resp.is_truncated:
                break
            token = resp.next_continuation_token
        client.close()
        return inv

    return Server(
        server.endpoint,
        seed_s,
        server.stop,
        "LocalTOSServer (moto + TOS layer)",
        server.admin_credentials,
        check,
    )


def start_imagex(buckets: list[Bucket]) -> Server:
    from rtcsnap.testing.imagexserver import LocalImageXServer

    server = LocalImageXServer(region=KINDS["veimagex"].region).start()
    try:
        t0 = time.perf_counter()
        for b in buckets:
            server.create_service(b.name)
            for i in range(b.count):
                key, data = b.keyfn(i), b.data(i)
                server.put_file(b.name, key, data, content_type="application/octet-stream")
                b.inventory[key] = (len(data), _md5(data))
        seed_s = time.perf_counter() - t0
    except BaseException:
        server.stop()
        raise

    def check(b: Bucket) -> Inventory:
        svc = server.service()
        inv: Inventory = {}
        marker = ""
        while True:
            query: dict[str, Any] = {"ServiceId": b.name, "Limit": PAGE_SIZE}
            if marker:
                query["Marker"] = marker
            result = svc.get_image_storage_files(query)["Result"]
            for item in result.get("Items") or []:  # veImageX lists sizes only: MD5s are the seed's
                key = str(item["Key"])
                inv[key] = (int(item["FileSize"]), b.inventory.get(key, (0, ""))[1])
            if not result.get("HasMore"):
                break
            marker = result["Marker"]
        svc.session.close()
        return inv

    return Server(server.endpoint, seed_s, server.stop, "LocalImageXServer", server.admin_credentials, check)


class RawCos:
    """A `qcloud_cos.CosS3Client` set up as `rtcsnap_cos.provider.CosSession` sets up its own."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        import requests
        from qcloud_cos import CosConfig, CosS3Client
        from requests.adapters import HTTPAdapter

        ak, sk = credentials()
        region, parts = KINDS["cos"].region, urlsplit(endpoint)
        self.bucket = bucket
        self.http = requests.Session()  # the provider's own: no retries, not the SDK's shared pool
        for scheme in ("http://", "https://"):
            self.http.mount(scheme, HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=16))
        self.client = CosS3Client(
            CosConfig(
                Region=region,
                SecretId=ak,
                SecretKey=sk,
                Timeout=TIMEOUT,
                AllowRedirects=False,
                AutoSwitchDomainOnRetry=False,
                Scheme="http",
                Endpoint=f"cos.{region}.rtcsnap.invalid",  # Host: <bucket>.cos.<region>.rtcsnap.invalid
                IP=parts.hostname,
                Port=parts.port,
            ),
            retry=0,
            session=self.http,
        )

    def pages(self) -> Iterator[list[str]]:
        marker = ""
        while True:
            resp = self.client.list_objects(Bucket=self.bucket, Prefix="", Marker=marker, MaxKeys=PAGE_SIZE)
            yield [o["Key"] for o in resp.get("Contents", [])]
            if resp["IsTruncated"] != "true":  # a string
                return
            marker = resp["NextMarker"]

    def fetch(self, key: str, path: Path) -> int:
        raw = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].get_raw_stream()
        try:  # no CRC check, as the provider (core checks)
            return _write(iter(lambda: raw.read(CHUNK), b""), path)
        finally:
            raw.close()

    def close(self) -> None:
        self.http.close()


class RawKodo:
    """A qiniu `BucketManager` + `requests` set up as `rtcsnap_kodo.provider.KodoSession` sets up its own."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        import qiniu
        import requests
        from qiniu.http.default_client import qn_http_client
        from qiniu.http.endpoint import Endpoint
        from qiniu.http.region import Region, ServiceName
        from requests.adapters import HTTPAdapter

        ak, sk = credentials()
        parts = urlsplit(endpoint)
        self.endpoint, self.scheme, self.bucket = f"{parts.scheme}://{parts.netloc}", parts.scheme, bucket
        names = (
            ServiceName.UC,
            ServiceName.UP,
            ServiceName.IO,
            ServiceName.RS,
            ServiceName.RSF,
            ServiceName.API,
        )
        region = Region(
            region_id="endpoint", services={sn: [Endpoint.from_host(self.endpoint)] for sn in names}
        )
        prefix = f"{self.endpoint}/"  # as rtcsnap_kodo.hosts.no_sdk_retries: no urllib3 retries on this host
        if prefix not in qn_http_client.session.adapters:
            qn_http_client.session.mount(
                prefix, HTTPAdapter(pool_connections=16, pool_maxsize=16, max_retries=0)
            )
        self.auth = qiniu.Auth(ak, sk)
        self.manager = qiniu.BucketManager(self.auth, regions=[region], preferred_scheme=self.scheme)
        self.http = requests.Session()
        self._domain: str | None = None
        self._lock = threading.Lock()

    def domain(self) -> str:
        """The bucket's download domain: one uc ``v2/domains`` per client, as the provider asks
        when the target names none."""
        with self._lock:
            if self._domain is None:
                ret, info = self.manager.list_domains(self.bucket)
                if info.status_code != 200 or not ret:
                    raise RuntimeError(f"v2/domains {self.bucket}: HTTP {info.status_code}")
                self._domain = str(ret[0])
            return self._domain

    def pages(self) -> Iterator[list[str]]:
        marker: str | None = None
        while True:
            ret, _eof, info = self.manager.list(self.bucket, prefix="", marker=marker, limit=PAGE_SIZE)
            if info.status_code != 200 or info.req_id is None:
                raise RuntimeError(f"list {self.bucket}: HTTP {info.status_code}")
            yield [str(item["key"]) for item in ret.get("items") or []]
            marker = ret.get("marker") or None
            if marker is None:
                return

    def fetch(self, key: str, path: Path) -> int:
        host = self.domain()
        origin = f"{self.scheme}://{host}"
        quoted = quote(key, safe="/~")
        quoted = "%2F" + quoted[1:] if quoted.startswith("/") else quoted
        signed = self.auth.private_download_url(f"{origin}/{quoted}", URL_TTL)
        url = self.endpoint + signed[len(origin) :]  # to the endpoint, Host: the bucket domain
        resp = self.http.get(
            url, headers={"Host": host, "Accept-Encoding": "identity"}, stream=True, timeout=TIMEOUT
        )
        try:
            if resp.status_code != 200:
                raise RuntimeError(f"GET {key}: HTTP {resp.status_code}")
            return _write(resp.raw.stream(CHUNK, decode_content=False), path)
        finally:
            resp.close()

    def close(self) -> None:
        self.http.close()


class RawS3:
    """A boto3 client set up as `rtcsnap_s3.provider.S3Session` sets up its own (path-style)."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        import boto3
        from botocore.config import Config

        ak, sk = credentials()
        self.bucket = bucket
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            region_name=KINDS["s3"].region,
            aws_access_key_id=ak,
            aws_secret_access_key=sk,
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=TIMEOUT[0],
                read_timeout=TIMEOUT[1],
                max_pool_connections=64,
            ),
        )

    def pages(self) -> Iterator[list[str]]:
        token: str | None = None
        while True:
            resp = (
                self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=PAGE_SIZE, ContinuationToken=token)
                if token
                else self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=PAGE_SIZE)
            )
            yield [o["Key"] for o in resp.get("Contents", [])]
            if not resp.get("IsTruncated"):
                return
            token = resp["NextContinuationToken"]

    def fetch(self, key: str, path: Path) -> int:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            return _write(body.iter_chunks(CHUNK), path)
        finally:
            body.close()

    def close(self) -> None:
        self.client.close()


class RawOss:
    """An `oss2.Bucket` set up as `rtcsnap_oss.provider.OssSession` sets up its own (V4 with the bare
    region id, the SDK's CRC off, its own oss2.Session of 4 connections, no SDK retries)."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        import oss2

        ak, sk = credentials()
        self.bucket = oss2.Bucket(
            oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(ak, sk)),
            endpoint,
            bucket,
            session=oss2.Session(pool_size=4),
            connect_timeout=TIMEOUT,
            enable_crc=False,  # as the provider: rtcsnap hashes in core, the raw loop not at all
            region=KINDS["oss"].region.removeprefix("oss-"),
        )

    def pages(self) -> Iterator[list[str]]:
        token = ""
        while True:
            resp = self.bucket.list_objects_v2(prefix="", continuation_token=token, max_keys=PAGE_SIZE)
            yield [o.key for o in resp.object_list]
            if not resp.is_truncated:
                return
            token = resp.next_continuation_token

    def fetch(self, key: str, path: Path) -> int:
        resp = self.bucket.get_object(key)
        try:
            return _write(iter(lambda: resp.read(CHUNK), b""), path)
        finally:
            resp.close()

    def close(self) -> None:
        self.bucket.session.session.close()


class RawObs:
    """An `obs.ObsClient` set up as `rtcsnap_obs.provider.ObsSession` sets up its own for an IP
    endpoint (path-style, signature v2: the SDK cannot address an IP virtual-host)."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        import obs

        ak, sk = credentials()
        parts = urlsplit(endpoint)
        self.bucket = bucket
        self.client = obs.ObsClient(
            access_key_id=ak,
            secret_access_key=sk,
            server=f"{parts.scheme}://{parts.hostname}:{parts.port}",
            signature="v2",
            path_style=True,
            region=KINDS["obs"].region,
            is_signature_negotiation=False,
            max_retry_count=0,
            max_redirect_count=0,
            timeout=TIMEOUT[1],  # one timeout for connect and read, as the provider sets it (60)
            long_conn_mode=True,
        )

    def pages(self) -> Iterator[list[str]]:
        marker: str | None = None
        while True:
            resp = self.client.listObjects(self.bucket, marker=marker, max_keys=PAGE_SIZE)
            if resp.status >= 300:  # the SDK returns HTTP errors, it never raises them
                raise RuntimeError(f"list: {resp.status} {resp.errorCode}")
            yield [o.key for o in resp.body.contents]
            if not resp.body.is_truncated:
                return
            marker = resp.body.next_marker

    def fetch(self, key: str, path: Path) -> int:
        resp = self.client.getObject(self.bucket, key, loadStreamInMemory=False)
        if resp.status >= 300:
            raise RuntimeError(f"get {key}: {resp.status} {resp.errorCode}")
        stream = resp.body.response
        try:
            return _write(iter(lambda: stream.read(CHUNK), b""), path)
        finally:
            stream.close()

    def close(self) -> None:
        self.client.close()


def start_oss(buckets: list[Bucket]) -> Server:
    from rtcsnap.testing.ossserver import LocalOSSServer

    server = LocalOSSServer(region=KINDS["oss"].region).start()
    return _seeded_dialect(server, buckets, "LocalOSSServer (moto + OSS layer)", RawOss)


def start_cos(buckets: list[Bucket]) -> Server:
    from rtcsnap.testing.cosserver import LocalCOSServer

    server = LocalCOSServer(region=KINDS["cos"].region).start()
    return _seeded_dialect(server, buckets, "LocalCOSServer (moto + COS layer)", RawCos)


def _seeded_dialect(
    server: Any, buckets: list[Bucket], describe: str, raw: Callable[[str, str], Raw]
) -> Server:
    """A moto-based dialect server (COS, OSS, OBS): seeded straight into moto's backend (CRC64s
    remembered as a PUT would), checked with the generic raw loop's listing + a HEAD-free inventory."""
    try:
        t0 = time.perf_counter()
        for b in buckets:
            server.create_bucket(b.name)
            for i in range(b.count):
                key, data = b.keyfn(i), b.data(i)
                b.inventory[key] = (len(data), server.layer.seed(b.name, key, data))
        seed_s = time.perf_counter() - t0
    except BaseException:
        server.stop()
        raise
    return Server(
        server.endpoint, seed_s, server.stop, describe, server.admin_credentials, _listed_check(server, raw)
    )


def _listed_check(server: Any, raw_class: Callable[[str, str], Raw]) -> Callable[[Bucket], Inventory]:
    """The parent's check: every key listed over HTTP by the raw loop, sizes and MD5s from moto."""
    from moto.backends import get_backend
    from moto.core.models import DEFAULT_ACCOUNT_ID

    def check(b: Bucket) -> Inventory:
        os.environ[AK_ENV], os.environ[SK_ENV] = server.admin_credentials
        raw = raw_class(server.endpoint, b.name)
        keys = [k for page in raw.pages() for k in page]
        raw.close()
        store = get_backend("s3")[DEFAULT_ACCOUNT_ID]["global"].buckets[b.name].keys
        return {k: (store[k].size, store[k].etag.strip('"')) for k in keys}

    return check


def start_kodo(buckets: list[Bucket]) -> Server:
    from rtcsnap.testing.kodoserver import LocalKodoServer

    server = LocalKodoServer(region=KINDS["kodo"].region).start()
    try:
        t0 = time.perf_counter()
        for b in buckets:
            server.create_bucket(b.name)
            for i in range(b.count):
                key, data = b.keyfn(i), b.data(i)
                server.put_file(b.name, key, data)
                b.inventory[key] = (len(data), _md5(data))
        seed_s = time.perf_counter() - t0
    except BaseException:
        server.stop()
        raise

    def check(b: Bucket) -> Inventory:
        os.environ[AK_ENV], os.environ[SK_ENV] = server.admin_credentials
        raw = RawKodo(server.endpoint, b.name)
        keys = [k for page in raw.pages() for k in page]
        raw.close()
        stored = server.objects(b.name)
        return {k: (len(stored[k]), _md5(stored[k])) for k in keys}

    return Server(server.endpoint, seed_s, server.stop, "LocalKodoServer", server.admin_credentials, check)


def start_s3(buckets: list[Bucket]) -> Server:
    """SeaweedFS (a native S3 server: the fastest honest baseline), seeded over HTTP as the admin.
    OBS runs on it too: SeaweedFS checks OBS's v2 signatures natively."""
    from concurrent.futures import ThreadPoolExecutor

    from rtcsnap.testing.seaweed import SeaweedS3Server

    server = SeaweedS3Server().start()
    try:
        t0 = time.perf_counter()
        os.environ[AK_ENV], os.environ[SK_ENV] = server.admin_credentials
        client = RawS3(server.endpoint, "").client
        for b in buckets:
            server.create_bucket(b.name)

            def put(i: int, b: Bucket = b) -> tuple[str, tuple[int, str]]:
                key, data = b.keyfn(i), b.data(i)
                client.put_object(Bucket=b.name, Key=key, Body=data)
                return key, (len(data), _md5(data))

            with ThreadPoolExecutor(16) as ex:
                b.inventory.update(ex.map(put, range(b.count)))
        seed_s = time.perf_counter() - t0
    except BaseException:
        server.stop()
        raise

    def check(b: Bucket) -> Inventory:
        inv: Inventory = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=b.name):
            for o in page.get("Contents", []):
                inv[o["Key"]] = (int(o["Size"]), o["ETag"].strip('"'))
        return inv

    return Server(
        server.endpoint, seed_s, server.stop, "SeaweedFS (native S3)", server.admin_credentials, check
    )


@dataclass(frozen=True)
class Kind:
    name: str
    region: str
    sdk: tuple[str, ...]
    """Modules the raw loop imports (before its clock starts, as the rtcsnap variants import them)."""
    plugin: str
    raw: Callable[[str, str], Raw]
    start: Callable[[list[Bucket]], Server]
    account_id: bool = False
    """Its targets name ``account_id`` (TOS, veImageX)."""
    bucket_suffix: str = ""
    """COS buckets carry the APPID."""
    sdk_crc_ablation: bool = False


KINDS: dict[str, Kind] = {
    "s3": Kind("s3", "us-east-1", ("boto3",), "rtcsnap_s3", RawS3, start_s3),
    "tos": Kind("tos", "cn-beijing", ("tos",), "rtcsnap_tos", RawTos, start_tos, account_id=True, sdk_crc_ablation=True),
    "veimagex": Kind(
        "veimagex", "cn-north-1", ("volcengine.imagex.v2.imagex_service",), "rtcsnap_veimagex", RawImageX,
        start_imagex, account_id=True,
    ),
    "oss": Kind("oss", "oss-cn-hangzhou", ("oss2",), "rtcsnap_oss", RawOss, start_oss),
    "obs": Kind("obs", "cn-north-4", ("obs",), "rtcsnap_obs", RawObs, start_s3),
    "cos": Kind(
        "cos", "ap-guangzhou", ("qcloud_cos",), "rtcsnap_cos", RawCos, start_cos, bucket_suffix="-1250000000",
    ),
    "kodo": Kind("kodo", "cn-east-1", ("qiniu",), "rtcsnap_kodo", RawKodo, start_kodo),
}  # fmt: skip
"""Every benchmarked provider, in table order."""
