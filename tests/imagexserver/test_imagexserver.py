"""LocalImageXServer proven with the official volcengine SDK (ImagexService v2) over real HTTP."""

from __future__ import annotations

import json
import zlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest
import requests
from rtcsnap.testing.imagexserver import ERRORS, LocalImageXServer, encode_marker

from .conftest import raw_call, sdk_error

FILES = {f"snaps/room-{i // 3}/u{i}.jpg": bytes([i]) * (1000 + i) + b"\xff\xd8" for i in range(6)}


def upload(svc: Any, sid: str, files: dict[str, bytes]) -> dict[str, Any]:
    """The SDK's whole upload flow: ApplyImageUpload, PUT with Content-CRC32, CommitImageUpload."""
    params = {"ServiceId": sid, "StoreKeys": list(files), "Overwrite": True}
    result: dict[str, Any] = svc.upload_image_data(params, list(files.values()))
    return result


def list_all(svc: Any, sid: str, limit: int, **extra: str) -> list[dict[str, Any]]:
    """Every page of GetImageStorageFiles, following Marker while HasMore."""
    pages, marker = [], ""
    while True:
        result = svc.get_image_storage_files({"ServiceId": sid, "Limit": limit, "Marker": marker, **extra})[
            "Result"
        ]
        pages.append(result)
        if not result["HasMore"]:
            assert result["Marker"] == ""
            return pages
        marker = result["Marker"]
        assert len(pages) < 50, "Marker does not advance"


def resource_url(svc: Any, server: LocalImageXServer, sid: str, key: str) -> dict[str, str]:
    domain = svc.get_service_domains({"ServiceId": sid})["Result"][0]["domain"]
    query = {"ServiceId": sid, "Domain": domain, "URI": server.store_uri(sid, key), "Proto": "http"}
    result: dict[str, str] = svc.get_resource_url(query)["Result"]
    return result


class Fetched(NamedTuple):
    status_code: int
    content: bytes
    headers: Mapping[str, str]


def fetch(url: str) -> Fetched:
    """A streamed GET, read in small chunks as a downloader would."""
    with requests.get(url, stream=True, timeout=10) as resp:
        return Fetched(resp.status_code, b"".join(resp.iter_content(7)), resp.headers)


# -- the full flow with the admin key ------------------------------------------------------------


def test_admin_upload_list_download_delete(server: LocalImageXServer, sid: str) -> None:
    svc = server.service()
    info = svc.get_image_service({"ServiceId": sid})["Result"]
    assert info["ServiceId"] == sid and info["Storage"]["BktName"] == f"tos-cn-i-{sid}"
    assert sid in [s["ServiceId"] for s in svc.get_all_image_services()["Result"]["Services"]]

    committed = upload(svc, sid, FILES)
    assert sorted(r["Uri"] for r in committed["Results"]) == sorted(server.store_uri(sid, k) for k in FILES)
    assert {r["UriStatus"] for r in committed["Results"]} == {2000}
    assert server.files(sid) == FILES

    pages = list_all(svc, sid, limit=2)
    assert len(pages) == 3 and all(len(p["Items"]) == 2 for p in pages)
    keys = [item["Key"] for page in pages for item in page["Items"]]
    assert keys == sorted(FILES)  # every key once, in order
    item = pages[0]["Items"][0]
    assert item["StoreUri"] == server.store_uri(sid, item["Key"]) and item["FileSize"] == len(
        FILES[item["Key"]]
    )
    assert item["StorageClass"] == "STANDARD" and item["LastModified"].endswith("Z")

    key = keys[3]
    urls = resource_url(svc, server, sid, key)
    assert urls["ObjURL"].startswith(f"{server.endpoint}/tos-cn-i-{sid}/{key}?")
    assert fetch(urls["ObjURL"]).content == FILES[key]
    assert fetch(urls["ObjCompactURL"]).content == FILES[key]

    gone = svc.delete_image_upload_files({"ServiceId": sid}, {"StoreUris": [server.store_uri(sid, key), key]})
    assert gone["Result"] == {"DeletedFiles": [server.store_uri(sid, key)], "InvaildFiles": [key]}
    assert key not in [i["Key"] for p in list_all(svc, sid, limit=1000) for i in p["Items"]]
    assert fetch(urls["ObjURL"]).status_code == 404


def test_listing_prefix_delimiter_and_bad_parameters(server: LocalImageXServer, sid: str) -> None:
    for key in ("a/1.jpg", "a/2.jpg", "a/b/3.jpg", "a/b/4.jpg", "c.jpg"):
        server.put_file(sid, key, b"x")
    svc = server.service()
    pages = list_all(svc, sid, limit=2, Prefix="a/", Delimiter="/")
    assert [i["Key"] for p in pages for i in p["Items"]] == ["a/1.jpg", "a/2.jpg"]
    assert [c for p in pages for c in p["CommonPrefix"]] == ["a/b/"]
    default = svc.get_image_storage_files({"ServiceId": sid})["Result"]
    assert len(default["Items"]) == 5 and default["HasMore"] is False  # Limit defaults to 10
    after = svc.get_image_storage_files({"ServiceId": sid, "Marker": encode_marker("a/b/4.jpg")})["Result"]
    assert [i["Key"] for i in after["Items"]] == ["c.jpg"]
    for bad in ({"Limit": 0}, {"Limit": 1001}, {"Marker": "not-a-marker"}):
        with pytest.raises(Exception) as err:
            svc.get_image_storage_files({"ServiceId": sid, **bad})
        assert sdk_error(err.value)["Code"] == "InvalidParameter"


def test_upload_without_store_keys_and_overwrite_rules(server: LocalImageXServer, sid: str) -> None:
    svc = server.service()
    done = svc.upload_image_data({"ServiceId": sid}, [b"first"])
    (uri,) = [r["Uri"] for r in done["Results"]]
    assert uri.startswith(f"tos-cn-i-{sid}/") and list(server.files(sid).values()) == [b"first"]
    with pytest.raises(Exception) as err:  # the SDK's default Overwrite is False
        svc.upload_image_data({"ServiceId": sid, "StoreKeys": [uri.split("/", 1)[1]]}, [b"second"])
    assert sdk_error(err.value)["Code"] == "InvalidParameter"
    with pytest.raises(Exception) as err:
        svc.upload_image_data({"ServiceId": sid, "StoreKeys": ["/bad key"]}, [b"x"])
    assert sdk_error(err.value)["Code"] == "InvalidParameter"


# -- authentication and errors --------------------------------------------------------------------


def test_sdk_sees_signature_key_and_service_errors(server: LocalImageXServer, sid: str) -> None:
    ak, _ = server.admin_credentials
    cases = [
        (server.service((ak, "not-the-secret-key")), sid, "SignatureDoesNotMatch"),
        (server.service(("AKLTUNKNOWNKEY000000", "whatever-secret")), sid, "InvalidAccessKey"),
        (server.service(), "nosuchsvc0", "ServiceNotFound"),
    ]
    for svc, service_id, code in cases:
        with pytest.raises(Exception) as err:
            svc.get_image_service({"ServiceId": service_id})
        assert isinstance(err.value.args[0], str)  # GET actions: the body as str
        assert sdk_error(err.value)["Code"] == code
        with pytest.raises(Exception) as err:
            svc.delete_image_upload_files({"ServiceId": service_id}, {"StoreUris": ["x"]})
        assert isinstance(err.value.args[0], bytes)  # POST actions: the body as bytes
        assert sdk_error(err.value)["Code"] == code


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("ok", 200, None),
        ("wrong_secret", 401, "SignatureDoesNotMatch"),
        ("unknown_key", 401, "InvalidAccessKey"),
        ("unknown_service", 404, "ServiceNotFound"),
        ("stale_date", 400, "InvalidTimestamp"),
        ("other_scope", 401, "SignatureDoesNotMatch"),
        ("tampered_query", 401, "SignatureDoesNotMatch"),
        ("unknown_action", 404, "InvalidActionOrVersion"),
        ("denied", 403, "AccessDenied"),
        ("no_auth", 401, "MissingAuthenticationToken"),
    ],
)
def test_error_envelope_statuses(
    server: LocalImageXServer, sid: str, case: str, status: int, code: str | None
) -> None:
    ak, sk = server.admin_credentials
    args: dict[str, Any] = {"query": {"ServiceId": sid}}
    if case == "wrong_secret":
        args["creds"] = (ak, sk + "x")
    elif case == "unknown_key":
        args["creds"] = ("AKLTNOSUCHKEY0000000", sk)
    elif case == "unknown_service":
        args["query"] = {"ServiceId": "nosuchsvc0"}
    elif case == "stale_date":
        args["now"] = datetime.now(UTC) - timedelta(minutes=16)
    elif case == "other_scope":
        args["service"] = "rtc"
    elif case == "tampered_query":
        args["extra_query"] = "&Limit=5"
    elif case == "denied":
        args["creds"] = server.key(["Write"]).credentials
    if case == "unknown_action":
        resp = raw_call(server, "GetImageServiceX", **args)
    elif case == "no_auth":
        resp = requests.get(
            f"{server.endpoint}/?Action=GetImageService&Version=2018-08-01&ServiceId={sid}", timeout=10
        )
    else:
        resp = raw_call(server, "GetImageStorageFiles" if case == "denied" else "GetImageService", **args)
    assert resp.status_code == status
    meta = resp.json()["ResponseMetadata"]
    assert meta["Service"] == "ImageX" and meta["Region"] == server.region and meta["RequestId"]
    if code is None:
        assert "Error" not in meta and resp.json()["Result"]["ServiceId"] == sid
    else:
        assert meta["Error"] == {"CodeN": ERRORS[code][1], "Code": code, "Message": meta["Error"]["Message"]}
        assert ERRORS[code][0] == status and meta["Error"]["Message"]


# -- what each kind of key may do -----------------------------------------------------------------


def test_write_only_key_uploads_and_nothing_else(server: LocalImageXServer, sid: str) -> None:
    writer = server.service(server.key(["Write"]))
    upload(writer, sid, {"rtc/a.jpg": b"A" * 64, "rtc/b.jpg": b"B" * 64})
    assert server.files(sid) == {"rtc/a.jpg": b"A" * 64, "rtc/b.jpg": b"B" * 64}
    assert writer.get_image_service({"ServiceId": sid})["Result"]["ServiceId"] == sid
    denied = [
        lambda: writer.get_image_storage_files({"ServiceId": sid}),
        lambda: resource_url(writer, server, sid, "rtc/a.jpg"),
        lambda: writer.delete_image_upload_files(
            {"ServiceId": sid}, {"StoreUris": [server.store_uri(sid, "rtc/a.jpg")]}
        ),
    ]
    for call in denied:
        with pytest.raises(Exception) as err:
            call()
        error = sdk_error(err.value)
        assert (error["Code"], error["CodeN"]) == ("AccessDenied", 100013)
        assert f"ServiceId/{sid}" in error["Message"]
    assert len(server.files(sid)) == 2


def test_read_list_key_reads_but_cannot_write_or_delete(server: LocalImageXServer, sid: str) -> None:
    server.put_file(sid, "seed/x.png", b"\x89PNG-seed")
    reader = server.service(server.key(["Read", "List"]))
    (page,) = list_all(reader, sid, limit=10)
    assert [i["Key"] for i in page["Items"]] == ["seed/x.png"]
    resp = fetch(resource_url(reader, server, sid, "seed/x.png")["ObjURL"])
    assert resp.status_code == 200 and resp.content == b"\x89PNG-seed"
    assert resp.headers["Content-Type"] == "image/png"
    for call in (
        lambda: upload(reader, sid, {"seed/y.png": b"y"}),
        lambda: reader.delete_image_upload_files(
            {"ServiceId": sid}, {"StoreUris": [server.store_uri(sid, "seed/x.png")]}
        ),
    ):
        with pytest.raises(Exception) as err:
            call()
        assert sdk_error(err.value)["Code"] == "AccessDenied"
    assert server.files(sid) == {"seed/x.png": b"\x89PNG-seed"}


def test_key_limited_to_one_service(server: LocalImageXServer, sid: str) -> None:
    other = server.create_service()
    scoped = server.service(server.key(["Admin"], bucket=sid))
    assert [s["ServiceId"] for s in scoped.get_all_image_services()["Result"]["Services"]] == [sid]
    with pytest.raises(Exception) as err:
        scoped.get_image_service({"ServiceId": other})
    assert sdk_error(err.value)["Code"] == "AccessDenied"


def test_sdk_environment_credentials_do_not_override(
    server: LocalImageXServer, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOLC_ACCESSKEY", "AKLTFROMTHEENVIRONMENT")
    monkeypatch.setenv("VOLC_SECRETKEY", "secret-from-the-environment")
    assert server.service().get_image_service({"ServiceId": sid})["Result"]["ServiceId"] == sid


def test_two_clients_keep_their_own_credentials_and_host(server: LocalImageXServer, sid: str) -> None:
    writer = server.service(server.key(["Write"]))
    reader = server.service(server.key(["List"]))
    with LocalImageXServer() as elsewhere:
        foreign = elsewhere.service()  # built last: with the SDK's shared ServiceInfo it would win
        assert writer.service_info is not reader.service_info is not foreign.service_info
        upload(writer, sid, {"k.jpg": b"k"})
        assert [i["Key"] for i in reader.get_image_storage_files({"ServiceId": sid})["Result"]["Items"]] == [
            "k.jpg"
        ]
        with pytest.raises(Exception) as err:
            writer.get_image_storage_files({"ServiceId": sid})
        assert sdk_error(err.value)["Code"] == "AccessDenied"
        with pytest.raises(Exception) as err:
            foreign.get_image_service({"ServiceId": sid})  # it talks to the other server only
        assert sdk_error(err.value)["Code"] == "ServiceNotFound"


# -- tokens: file URLs and the upload PUT -------------------------------------------------------------


def test_file_url_needs_a_valid_unexpired_token(server: LocalImageXServer, sid: str) -> None:
    server.put_file(sid, "t/a.jpg", b"secret-a")
    server.put_file(sid, "t/b.jpg", b"secret-b")
    good = server.signed_url(sid, "t/a.jpg")
    assert fetch(good).content == b"secret-a"
    base, token = good.split("?auth_key=")
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    other = server.signed_url(sid, "t/b.jpg").split("?")[1]
    for url in (
        base,
        f"{base}?auth_key=",
        f"{base}?auth_key={forged}",
        f"{base}?{other}",
        server.signed_url(sid, "t/a.jpg", expires_in=-1),
    ):
        resp = fetch(url)
        assert resp.status_code == 403 and b"secret" not in resp.content, url


def _apply(svc: Any, sid: str, key: str) -> dict[str, Any]:
    address: dict[str, Any] = svc.apply_upload({"ServiceId": sid, "StoreKeys": [key], "UploadNum": 1})[
        "Result"
    ]["UploadAddress"]
    return address


def _put(
    server: LocalImageXServer, uri: str, data: bytes, auth: str, crc: int | None = None
) -> requests.Response:
    crc_hex = f"{(zlib.crc32(data) if crc is None else crc) & 0xFFFFFFFF:08x}"
    headers = {"Authorization": auth, "Content-CRC32": crc_hex}
    return requests.put(f"{server.endpoint}/{uri}", data=data, headers=headers, timeout=10)


def _commit(svc: Any, sid: str, address: dict[str, Any]) -> list[int]:
    body = {
        "SessionKey": address["SessionKey"],
        "SuccessOids": [i["StoreUri"] for i in address["StoreInfos"]],
    }
    return [r["UriStatus"] for r in svc.commit_image_upload({"ServiceId": sid}, body)["Result"]["Results"]]


def test_put_with_wrong_crc32_is_rejected_and_nothing_is_stored(server: LocalImageXServer, sid: str) -> None:
    svc = server.service()
    address = _apply(svc, sid, "crc/a.jpg")
    (info,) = address["StoreInfos"]
    bad = _put(server, info["StoreUri"], b"payload", info["Auth"], crc=zlib.crc32(b"payload") ^ 1)
    assert bad.status_code == 400 and bad.json()["success"] != 0
    assert _commit(svc, sid, address) == [2001] and server.files(sid) == {}

    address = _apply(svc, sid, "crc/a.jpg")
    (info,) = address["StoreInfos"]
    ok = _put(server, info["StoreUri"], b"payload", info["Auth"])
    assert ok.status_code == 200 and ok.json()["success"] == 0
    assert server.files(sid) == {}  # visible only once committed
    assert _commit(svc, sid, address) == [2000] and server.files(sid) == {"crc/a.jpg": b"payload"}


def test_put_with_forged_or_expired_auth_is_rejected(server: LocalImageXServer, sid: str) -> None:
    svc = server.service()
    address = _apply(svc, sid, "auth/a.jpg")
    (info,) = address["StoreInfos"]
    forged = info["Auth"][:-1] + ("0" if info["Auth"][-1] != "0" else "1")
    for uri, auth in (
        (info["StoreUri"], forged),
        (info["StoreUri"], ""),
        (server.store_uri(sid, "auth/elsewhere.jpg"), info["Auth"]),  # bound to its StoreUri
    ):
        resp = _put(server, uri, b"data", auth)
        assert resp.status_code == 403 and resp.json()["success"] != 0
    assert _commit(svc, sid, address) == [2001] and server.files(sid) == {}

    with LocalImageXServer() as strict:
        strict.upload_ttl = -1  # every Auth it issues is already expired
        other_sid = strict.create_service()
        address = _apply(strict.service(), other_sid, "late.jpg")
        (info,) = address["StoreInfos"]
        assert _put(strict, info["StoreUri"], b"late", info["Auth"]).status_code == 403


# -- faults on file GETs ------------------------------------------------------------------------------


def test_faults_fail_and_corrupt_one_file_get() -> None:
    with LocalImageXServer() as server:
        sid = server.create_service()
        data = bytes(range(256)) * 8
        server.put_file(sid, "f/one.jpg", data)
        url = resource_url(server.service(), server, sid, "f/one.jpg")["ObjURL"]

        server.faults.fail("GET", "f/one.jpg", status=503)
        assert fetch(url).status_code == 503
        assert fetch(url).content == data

        server.faults.corrupt("f/one.jpg", times=1)
        corrupted = fetch(url)
        assert corrupted.status_code == 200 and len(corrupted.content) == len(data)
        assert corrupted.content != data
        assert fetch(url).content == data
        assert server.faults.count("GET", "f/one.jpg") == 4


def test_upload_response_is_what_the_sdk_reads(server: LocalImageXServer, sid: str) -> None:
    """The SDK's chunked path parses ``{"success": 0, "payload": ...}``; keep the single PUT's reply in that shape."""
    address = _apply(server.service(), sid, "shape.jpg")
    (info,) = address["StoreInfos"]
    resp = _put(server, info["StoreUri"], b"abc", info["Auth"])
    assert json.loads(resp.text)["payload"] == {"hash": f"{zlib.crc32(b'abc'):08x}"}
    assert resp.headers["X-Tt-Logid"]
    assert address["UploadHosts"] == [server.host]


def test_commit_needs_this_services_unused_session(server: LocalImageXServer, sid: str) -> None:
    svc = server.service()
    address = _apply(svc, sid, "s/a.jpg")
    (info,) = address["StoreInfos"]
    assert _put(server, info["StoreUri"], b"a", info["Auth"]).status_code == 200
    other = server.create_service()
    with pytest.raises(Exception) as err:  # another service's session
        _commit(svc, other, address)
    assert sdk_error(err.value)["Code"] == "InvalidParameter"
    assert _commit(svc, sid, address) == [2000]
    with pytest.raises(Exception) as err:  # the same session twice
        _commit(svc, sid, address)
    assert sdk_error(err.value)["Code"] == "InvalidParameter"
