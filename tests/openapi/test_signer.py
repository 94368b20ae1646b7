"""Our V4 signer against two independent oracles: the official `volcengine` SignerV4 and spec §5.4."""

from __future__ import annotations

import random
import string
from collections import OrderedDict
from datetime import UTC, datetime

import pytest
from rtcsnap.protocol import signer
from volcengine.auth.SignerV4 import SignerV4
from volcengine.auth.SignParam import SignParam
from volcengine.Credentials import Credentials as VolcCredentials

SPEC_BODY = (
    b'{"AppId":"Your_AppId","RoomId":"Your_RoomId","TaskId":"Your_TaskId",'
    b'"StorageConfig":{"Type":0,"TosConfig":{"AccountId":"2000000000","Bucket":"my-bucket","Region":0}}}'
)


def test_spec_vector() -> None:
    h = signer.sign(
        "POST",
        "rtc.volcengineapi.com",
        "/",
        {"Action": "StartSnapshot", "Version": "2023-11-01"},
        {"Content-Type": "application/json"},
        SPEC_BODY,
        access_key="AKLTexampleAK",
        secret_key="exampleSK==",
        region="cn-north-1",
        now=datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    assert h["X-Content-Sha256"] == "ba4205347febb0eb79087a092af84735d4e493201ccbb68cac0c6d93c7d0e778"
    assert h["Authorization"] == (
        "HMAC-SHA256 Credential=AKLTexampleAK/20240102/cn-north-1/rtc/request, "
        "SignedHeaders=content-type;host;x-content-sha256;x-date, "
        "Signature=4a352b82c86243946ced8f324abc0c5bf2ac1d63a0028043f5981684298f197e"
    )


def official(method, host, query, headers, body, ak, sk, token, region, service, when) -> str:
    p = SignParam()
    p.set_method(method)
    p.set_host(host)
    p.set_path("/")
    p.set_query(OrderedDict(query))
    p.set_body(body)
    p.set_date(when)
    p.set_header_list(OrderedDict({"Host": host, **headers}))
    creds = VolcCredentials(ak, sk, service, region, token or "")
    return str(SignerV4.sign_only(p, creds).authorization)


def case(seed: int) -> dict:  # type: ignore[type-arg]
    rng = random.Random(seed)

    def rand(n: int, alphabet: str = string.ascii_letters + string.digits + "-_.~ /+=&é") -> str:
        return "".join(rng.choice(alphabet) for _ in range(n))

    method = rng.choice(["GET", "POST"])
    query = {"Action": "StartSnapshot", "Version": rng.choice(["2022-06-01", "2023-11-01"])}
    if method == "GET":
        query.update({"AppId": rand(8), "RoomId": rand(10), "TaskId": rand(6)})
    return {
        "method": method,
        "query": query,
        "headers": {"Content-Type": "application/json"} if method == "POST" else {},
        "body": rand(rng.randint(0, 300)).encode() if method == "POST" else b"",
        "token": rand(20) if seed % 3 == 0 else None,
        "region": rng.choice(["cn-north-1", "ap-singapore-1"]),
        "host": rng.choice(["rtc.volcengineapi.com", "127.0.0.1:8123", "rtc.volcengineapi.com:443"]),
        "ak": "AKLT" + rand(8, string.ascii_letters),
        "sk": rand(24),
        "when": datetime(2024, 1, 1, 0, seed, seed, tzinfo=UTC),
    }


@pytest.mark.parametrize("seed", range(40))
def test_identical_to_official_signer(seed: int) -> None:
    c = case(seed)
    ours = signer.sign(
        c["method"],
        c["host"],
        "/",
        c["query"],
        c["headers"],
        c["body"],
        access_key=c["ak"],
        secret_key=c["sk"],
        session_token=c["token"],
        region=c["region"],
        now=c["when"],
    )
    extra = {"X-Security-Token": c["token"]} if c["token"] else {}
    want = official(
        c["method"],
        c["host"],
        c["query"],
        {**c["headers"], **extra},
        c["body"],
        c["ak"],
        c["sk"],
        c["token"],
        c["region"],
        "rtc",
        c["when"].replace(tzinfo=None),
    )
    assert ours["Authorization"] == want


def test_verify_roundtrip_and_tamper() -> None:
    h = signer.sign(
        "POST",
        "h:1",
        "/",
        {"Action": "A", "Version": "V"},
        {"Content-Type": "application/json"},
        b"{}",
        access_key="AK",
        secret_key="SK",
        region="cn-north-1",
    )
    auth = signer.parse_authorization(h["Authorization"])
    assert auth is not None and auth.access_key == "AK" and auth.service == "rtc"
    lower = {k.lower(): v for k, v in h.items()}
    assert signer.verify(auth, "SK", "POST", "/", {"Action": "A", "Version": "V"}, lower, b"{}")
    assert not signer.verify(auth, "WRONG", "POST", "/", {"Action": "A", "Version": "V"}, lower, b"{}")
    assert not signer.verify(auth, "SK", "POST", "/", {"Action": "A", "Version": "V"}, lower, b"{ }")
    assert not signer.verify(auth, "SK", "POST", "/", {"Action": "B", "Version": "V"}, lower, b"{}")
