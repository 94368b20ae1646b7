"""`rtcsnap emulator storage KIND`, end to end, as a user runs it: the server in its own process,
its JSON line, the official SDK configured as docs/local-servers.md says, then rtcsnap's own
`verify`, `ls` and `download` against it."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from rtcsnap import secrets

from tests.conftest import run_cli

OBJECTS = {f"snaps/{i:02d}.jpg": bytes([i]) * (900 + i) for i in range(7)}
BUCKET = {
    "s3": "cli-emu-bucket",
    "tos": "cli-emu-bucket",
    "veimagex": "cliemusvc1",
    "oss": "cli-emu-bucket",
    "obs": "cli-emu-bucket",
    "cos": "cli-emu-bucket-1250000000",  # COS names carry the APPID
    "kodo": "cli-emu-bucket",
}
MISSING = {"cos": "nosuchbkt9-1250000000"}
"""A bucket that does not exist (but is well-formed, so verify reaches the server)."""


@dataclass
class Sdk:
    """The official SDK's put / one listing page / get for one KIND, and how it reports a failed
    authentication (the error code it surfaces)."""

    put: Callable[[str, bytes], None]
    page: Callable[[str | None], tuple[list[str], str | None]]
    get: Callable[[str], bytes]
    auth_error: Callable[[str, str], str]


def _s3(info: dict[str, Any], creds: tuple[str, str]) -> Sdk:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    def client(ak: str, sk: str) -> Any:
        return boto3.client(
            "s3", endpoint_url=info["endpoint"], region_name="us-east-1", aws_access_key_id=ak,
            aws_secret_access_key=sk, config=Config(s3={"addressing_style": "path"}, retries={"total_max_attempts": 1}),
        )  # fmt: skip

    c, bucket = client(*creds), info["buckets"][0]

    def page(token: str | None) -> tuple[list[str], str | None]:
        kw = {"ContinuationToken": token} if token else {}
        r = c.list_objects_v2(Bucket=bucket, Prefix="snaps/", MaxKeys=2, **kw)
        return [o["Key"] for o in r.get("Contents", [])], r.get("NextContinuationToken")

    def auth_error(ak: str, sk: str) -> str:
        try:
            client(ak, sk).get_object(Bucket=bucket, Key="snaps/00.jpg")
        except ClientError as exc:
            return str(exc.response["Error"]["Code"])
        return "accepted"

    return Sdk(
        lambda k, d: c.put_object(Bucket=bucket, Key=k, Body=d),
        page,
        lambda k: c.get_object(Bucket=bucket, Key=k)["Body"].read(),
        auth_error,
    )


def _tos(info: dict[str, Any], creds: tuple[str, str]) -> Sdk:
    import tos

    port = urlsplit(info["endpoint"]).port

    def client(ak: str, sk: str) -> Any:
        return tos.TosClientV2(
            ak, sk, endpoint="http://tos-cn-beijing.rtcsnap.invalid", region="cn-beijing",
            proxy_host="127.0.0.1", proxy_port=port, max_retry_count=0, enable_crc=True, dns_cache_time=0,
        )  # fmt: skip

    c, bucket = client(*creds), info["buckets"][0]

    def page(token: str | None) -> tuple[list[str], str | None]:
        r = c.list_objects_type2(
            bucket, prefix="snaps/", max_keys=2, continuation_token=token, list_only_once=True
        )
        return [o.key for o in r.contents], r.next_continuation_token if r.is_truncated else None

    def auth_error(ak: str, sk: str) -> str:
        try:
            client(ak, sk).get_object(bucket, "snaps/00.jpg").read()
        except tos.exceptions.TosServerError as exc:
            return str(exc.code)
        return "accepted"

    return Sdk(
        lambda k, d: c.put_object(bucket, k, content=d) and None,
        page,
        lambda k: c.get_object(bucket, k).read(),
        auth_error,
    )


def _veimagex(info: dict[str, Any], creds: tuple[str, str]) -> Sdk:
    import requests
    from rtcsnap.testing.imagexserver import plain_http_uploads
    from volcengine.imagex.v2.imagex_service import ImagexService

    host, sid = urlsplit(info["endpoint"]).netloc, info["buckets"][0]

    def client(ak: str, sk: str) -> Any:
        svc = ImagexService("cn-north-1")
        svc.service_info = copy.deepcopy(svc.service_info)
        svc.set_ak(ak)
        svc.set_sk(sk)
        svc.set_host(host)
        svc.set_scheme("http")
        plain_http_uploads(svc.session, host)
        return svc

    svc = client(*creds)
    layout = svc.get_image_service({"ServiceId": sid})["Result"]
    bucket, domain = layout["Storage"]["BktName"], layout["DomainInfos"][0]["DomainName"]

    def page(marker: str | None) -> tuple[list[str], str | None]:
        q = {"ServiceId": sid, "Prefix": "snaps/", "Limit": 2, **({"Marker": marker} if marker else {})}
        r = svc.get_image_storage_files(q)["Result"]
        return [i["Key"] for i in r["Items"]], r["Marker"] if r["HasMore"] else None

    def get(key: str) -> bytes:
        q = {"ServiceId": sid, "Domain": domain, "URI": f"{bucket}/{key}"}
        url = svc.get_resource_url(q)["Result"]["ObjURL"]
        return bytes(requests.get(url, timeout=10).content)

    def auth_error(ak: str, sk: str) -> str:
        try:
            client(ak, sk).get_image_service({"ServiceId": sid})
        except Exception as exc:
            return str(json.loads(exc.args[0])["ResponseMetadata"]["Error"]["Code"])
        return "accepted"

    def put(key: str, data: bytes) -> None:
        svc.upload_image_data({"ServiceId": sid, "StoreKeys": [key], "Overwrite": True}, [data])

    return Sdk(put, page, get, auth_error)


def _cos(info: dict[str, Any], creds: tuple[str, str]) -> Sdk:
    import requests
    from qcloud_cos import CosConfig, CosS3Client
    from qcloud_cos.cos_exception import CosServiceError

    parts, region = urlsplit(info["endpoint"]), "ap-guangzhou"

    def client(ak: str, sk: str) -> Any:
        return CosS3Client(CosConfig(
            Region=region, SecretId=ak, SecretKey=sk, Scheme="http", Endpoint=f"cos.{region}.rtcsnap.invalid",
            IP=parts.hostname, Port=parts.port,
        ), retry=0, session=requests.Session())  # fmt: skip

    c, bucket = client(*creds), info["buckets"][0]

    def page(marker: str | None) -> tuple[list[str], str | None]:
        r = c.list_objects(Bucket=bucket, Prefix="snaps/", Marker=marker or "", MaxKeys=2)
        keys = [o["Key"] for o in r.get("Contents", [])]
        return keys, r["NextMarker"] if r["IsTruncated"] == "true" else None  # IsTruncated: a string

    def auth_error(ak: str, sk: str) -> str:
        try:
            client(ak, sk).get_object(Bucket=bucket, Key="snaps/00.jpg")
        except CosServiceError as exc:
            return str(exc.get_error_code())
        return "accepted"

    return Sdk(
        lambda k, d: c.put_object(Bucket=bucket, Body=d, Key=k) and None,
        page,
        lambda k: c.get_object(Bucket=bucket, Key=k)["Body"].get_raw_stream().read(),
        auth_error,
    )


# AUTH_CODES["cos"] = ("SignatureDoesNotMatch", "InvalidAccessKeyId")


def _kodo(info: dict[str, Any], creds: tuple[str, str]) -> Sdk:
    from urllib.parse import parse_qs, quote

    import qiniu
    import requests
    from qiniu.http.endpoint import Endpoint
    from qiniu.http.region import Region, ServiceName

    ep, bucket = info["endpoint"], info["buckets"][0]
    domain = parse_qs(urlsplit(info["target"]).query)["domain"][0]  # http://<bucket>.kodo.invalid
    services = {sn: [Endpoint.from_host(ep)] for sn in ServiceName if sn is not ServiceName.UP_ACC}
    region = Region(region_id="z0", services=services)  # every service (uc too) at the server

    def manager(ak: str, sk: str) -> Any:
        return qiniu.BucketManager(qiniu.Auth(ak, sk), regions=[region], preferred_scheme="http")

    auth, bm = qiniu.Auth(*creds), manager(*creds)

    def put(key: str, data: bytes) -> None:
        ret, resp = qiniu.put_data(auth.upload_token(bucket, key), key, data, regions=[region])
        assert resp.status_code == 200 and ret["key"] == key, resp

    def page(marker: str | None) -> tuple[list[str], str | None]:
        ret, _eof, resp = bm.list(bucket, prefix="snaps/", marker=marker, limit=2)
        assert resp.status_code == 200, resp
        return [i["key"] for i in ret["items"]], ret.get("marker") or None

    def get(key: str) -> bytes:
        url = auth.private_download_url(f"{domain}/{quote(key)}", expires=300)
        return bytes(requests.get(url, proxies={"http": ep}, timeout=10).content)  # the server as proxy

    def auth_error(ak: str, sk: str) -> str:
        _ret, resp = manager(ak, sk).stat(bucket, "snaps/00.jpg")
        return "accepted" if resp.ok() else str(json.loads(resp.text_body)["error"])

    return Sdk(put, page, get, auth_error)


def _oss(info: dict[str, Any], creds: tuple[str, str]) -> Sdk:
    import oss2

    def client(ak: str, sk: str) -> Any:
        return oss2.Bucket(
            oss2.ProviderAuthV4(oss2.credentials.StaticCredentialsProvider(ak, sk)), info["endpoint"],
            info["buckets"][0], region="cn-hangzhou", session=oss2.Session(), enable_crc=True,
        )  # fmt: skip

    c = client(*creds)

    def page(token: str | None) -> tuple[list[str], str | None]:
        r = c.list_objects_v2(prefix="snaps/", max_keys=2, continuation_token=token or "")
        return [o.key for o in r.object_list], r.next_continuation_token if r.is_truncated else None

    def auth_error(ak: str, sk: str) -> str:
        try:
            client(ak, sk).get_object("snaps/00.jpg").read()
        except oss2.exceptions.OssError as exc:
            return str(exc.code)
        return "accepted"

    return Sdk(
        lambda k, d: c.put_object(k, d) and None,
        page,
        lambda k: c.get_object(k).read(),
        auth_error,
    )


def _obs(info: dict[str, Any], creds: tuple[str, str]) -> Sdk:
    import obs

    def client(ak: str, sk: str) -> Any:
        return obs.ObsClient(
            access_key_id=ak, secret_access_key=sk, server=info["endpoint"], signature="v2", path_style=True,
            region="cn-north-4", is_signature_negotiation=False, max_retry_count=0, max_redirect_count=0,
        )  # fmt: skip

    c, bucket = client(*creds), info["buckets"][0]

    def ok(resp: Any) -> Any:
        assert resp.status < 300, (resp.status, resp.errorCode)  # the SDK returns, never raises, HTTP errors
        return resp

    def page(marker: str | None) -> tuple[list[str], str | None]:
        body = ok(c.listObjects(bucket, prefix="snaps/", max_keys=2, marker=marker)).body
        return [o.key for o in body.contents], body.next_marker if body.is_truncated else None

    def auth_error(ak: str, sk: str) -> str:
        resp = client(ak, sk).getObject(bucket, "snaps/00.jpg", loadStreamInMemory=True)
        return str(resp.errorCode) if resp.status >= 300 else "accepted"

    return Sdk(
        lambda k, d: ok(c.putContent(bucket, k, d)) and None,
        page,
        lambda k: bytes(ok(c.getObject(bucket, k, loadStreamInMemory=True)).body.buffer),
        auth_error,
    )


SDKS = {
    "s3": _s3,
    "tos": _tos,
    "veimagex": _veimagex,
    "oss": _oss,
    "obs": _obs,
    "cos": _cos,
    "kodo": _kodo,
}
AUTH_CODES = {  # (wrong secret, unknown key): what each official SDK surfaces
    "s3": ("SignatureDoesNotMatch", "InvalidAccessKeyId"),
    "tos": ("SignatureDoesNotMatch", "InvalidAccessKeyId"),
    "veimagex": ("SignatureDoesNotMatch", "InvalidAccessKey"),
    "oss": ("SignatureDoesNotMatch", "InvalidAccessKeyId"),
    "obs": ("SignatureDoesNotMatch", "InvalidAccessKeyId"),
    "cos": ("SignatureDoesNotMatch", "InvalidAccessKeyId"),
    "kodo": ("bad token", "app/accesskey is not found"),  # Kodo's `error` text: both are HTTP 401
}


@pytest.fixture(params=sorted(SDKS))
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    kind = request.param
    if kind == "s3":
        from rtcsnap.testing.seaweed import find_weed

        if find_weed() is None and not os.environ.get("RTCSNAP_REQUIRE_SERVICES"):
            pytest.skip("SeaweedFS `weed` binary not installed (rtcsnap[testing] ships it)")
    exe = Path(sys.executable).with_name("rtcsnap")
    env = {**os.environ, "HOME": str(tmp_path)}
    env = {
        k: v
        for k, v in env.items()
        if not k.startswith(("VOLC_", "AWS_", "TOS_", "OSS_", "OBS_", "TENCENTCLOUD_", "QINIU_"))
    }
    proc = subprocess.Popen(
        [str(exe), "emulator", "storage", kind, "--bucket", BUCKET[kind]],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the server is ready (or died)
        assert line, f"no JSON line; stderr: {proc.stderr.read() if proc.stderr else ''}"
        info: dict[str, Any] = json.loads(line)
        secrets.register(info["secret_key"], info["keys"]["write_only"][1], info["keys"]["read_only"][1])
        info["env"] = env
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, "SIGTERM stops the server cleanly"


def _cli(info: dict[str, Any], *args: str, key: tuple[str, str] | list[str] | None = None) -> Any:
    ak, sk = key or (info["access_key"], info["secret_key"])
    env = {**info["env"], "RTCSNAP_ACCESS_KEY": ak, "RTCSNAP_SECRET_KEY": sk}
    return run_cli(*args, env=env)


def test_the_json_line_describes_a_usable_server(served: dict[str, Any], tmp_path: Path) -> None:
    info, kind = served, served["kind"]
    assert set(info) - {"env"} == {
        "kind",
        "endpoint",
        "buckets",
        "access_key",
        "secret_key",
        "keys",
        "target",
    }
    assert info["buckets"] == [BUCKET[kind]] and info["target"].startswith(f"{kind}://{BUCKET[kind]}?")

    # the official SDK, configured as docs/local-servers.md says
    sdk = SDKS[kind](info, (info["access_key"], info["secret_key"]))
    for k, data in OBJECTS.items():
        sdk.put(k, data)
    pages, token = [], None
    while True:
        keys, token = sdk.page(token)
        pages.append(keys)
        if token is None:
            break
    assert len(pages) >= 3 and [k for p in pages for k in p] == sorted(OBJECTS)
    assert all(sdk.get(k) == data for k, data in OBJECTS.items())
    wrong = sdk.auth_error(info["access_key"], "wrong-secret-000000")
    unknown = sdk.auth_error("AKLTUNKNOWN000000000000", "whatever-secret-00000")
    assert (wrong, unknown) == AUTH_CODES[kind]

    # rtcsnap verify: fit; write-only fit for RTC only; three distinct failure reasons
    target = info["target"]
    assert _cli(info, "verify", target).returncode == 0
    writer = info["keys"]["write_only"]
    assert _cli(info, "verify", target, "--for", "rtc", key=writer).returncode == 0
    assert _cli(info, "verify", target, "--for", "read", key=writer).returncode == 1
    reasons = set()
    for bad_key, bad_target in (
        ((info["access_key"], "wrong-secret-00000000"), target),
        (("AKLTUNKNOWN000000000000", "whatever-secret-00000"), target),
        (None, target.replace(f"://{BUCKET[kind]}?", f"://{MISSING.get(kind, 'nosuchbkt9')}?")),
    ):
        r = _cli(info, "verify", bad_target, key=bad_key)
        assert r.returncode == 1, r.stdout + r.stderr
        reasons.add(next(ln.split()[1] for ln in r.stdout.splitlines() if ln.startswith("reason:")))
    assert reasons == {"bad_secret", "unknown_access_key", "bucket_missing"}

    # ls and a resumable download
    listed = _cli(info, "ls", target, "snaps/")
    assert listed.returncode == 0 and listed.stdout.split() == sorted(OBJECTS)
    dest = tmp_path / "dest"
    first = _cli(info, "download", target, str(dest), "--prefix", "snaps/", "--json", "-q")
    summary = json.loads(first.stdout.splitlines()[-1])["summary"]
    assert first.returncode == 0 and summary["downloaded"] == len(OBJECTS) and summary["failed"] == 0
    assert summary["unverified"] == (len(OBJECTS) if kind == "veimagex" else 0), "all but veImageX: verified"
    assert all(
        (dest / k).read_bytes() == data for k, data in OBJECTS.items()
    )  # write-only probes stay outside snaps/
    again = json.loads(
        _cli(info, "download", target, str(dest), "--prefix", "snaps/", "--json", "-q").stdout.splitlines()[
            -1
        ]
    )
    assert again["summary"]["downloaded"] == 0 and again["summary"]["skipped_complete"] == len(OBJECTS)


def test_the_cli_offers_every_kind_of_the_test_kit() -> None:
    """The CLI spells the kinds out (importing the test kit would slow every start): keep them equal."""
    from rtcsnap.cli.emulator import STORAGE_KINDS
    from rtcsnap.testing.storage_servers import KINDS

    assert STORAGE_KINDS == KINDS
    assert set(SDKS) <= set(KINDS)
