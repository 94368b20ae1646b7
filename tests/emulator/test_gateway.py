"""Gateway checks over real HTTP: official and rtcsnap signatures accepted, each failure coded."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from rtcsnap.emulator import Emulator, EmulatorServer
from rtcsnap.protocol import signer
from rtcsnap.testing.emulator import EmulatorClient, MakeEmulator

from tests.emulator.helpers import APP, ROOM, TASK, code, error, official_headers, start_body

START = {"Action": "StartSnapshot", "Version": "2023-11-01"}


def _body() -> bytes:
    return json.dumps(start_body()).encode()


def _get_query() -> dict[str, str]:
    return {
        "Action": "GetSnapshotTask",
        "Version": "2022-06-01",
        "AppId": APP,
        "RoomId": ROOM,
        "TaskId": TASK,
    }


def _assert_gateway(resp: httpx.Response, expected: str, status: int, code_n: int) -> None:
    err = error(resp)
    assert (resp.status_code, err["Code"], err["CodeN"]) == (status, expected, code_n), resp.text


# --------------------------------------------------------------------------- accepted signatures


@pytest.mark.parametrize("version", ["2022-06-01", "2023-11-01"])
def test_official_sdk_signature_is_accepted_post_and_get(
    emulator: Emulator, emulator_client: EmulatorClient, version: str
) -> None:
    c = emulator_client
    query = {"Action": "StartSnapshot", "Version": version}
    headers = official_headers("POST", c.host, query, _body(), c.access_key, c.secret_key)
    resp = c.send("POST", query, _body(), headers)
    assert (resp.status_code, resp.json().get("Result")) == (200, "ok"), resp.text

    query = {**_get_query(), "Version": version}
    headers = official_headers("GET", c.host, query, b"", c.access_key, c.secret_key)
    resp = c.send("GET", query, b"", headers)
    assert resp.status_code == 200, resp.text
    assert resp.json()["Result"]["SnapshotTask"]["Status"] == 2


def test_rtcsnap_signer_is_accepted(emulator_client: EmulatorClient) -> None:
    resp = emulator_client.call("StartSnapshot", start_body())
    assert (resp.status_code, code(resp)) == (200, "OK")


def test_official_signature_with_sts_token(
    make_emulator: MakeEmulator, emulator_server: EmulatorServer
) -> None:
    make_emulator(keys={"AKLTsts": "sts-secret"}, sessions={"AKLTsts": "token-123"})
    with EmulatorClient.for_server(emulator_server) as c:
        headers = official_headers(
            "POST", c.host, START, _body(), "AKLTsts", "sts-secret", session_token="token-123"
        )
        assert "x-security-token" in headers["Authorization"]
        resp = c.send("POST", START, _body(), headers)
    assert (resp.status_code, code(resp)) == (200, "OK"), resp.text


def test_headers_are_matched_case_insensitively(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    body = _body()
    x_date = datetime.now(UTC).strftime(signer.DATE_FORMAT)
    signed = {
        "Content-Type": "application/json",
        "Host": c.host,
        "X-Date": x_date,
        "X-Content-Sha256": hashlib.sha256(body).hexdigest(),
    }
    names, sig = signer.signature(
        c.secret_key, "POST", "/", START, signed, body, x_date=x_date, region=c.region, service="rtc"
    )
    sent = {
        "CONTENT-TYPE": signed["Content-Type"],
        "x-date": x_date,
        "x-CONTENT-sha256": signed["X-Content-Sha256"],
        "authorization": f"HMAC-SHA256 Credential={c.access_key}/{x_date[:8]}/{c.region}/rtc/request, "
        f"SignedHeaders={names}, Signature={sig}",
    }
    resp = c.send("POST", START, body, sent)
    assert (resp.status_code, code(resp)) == (200, "OK"), resp.text


# --------------------------------------------------------------------------- routing


@pytest.mark.parametrize(
    ("query", "missing"),
    [({"Version": "2023-11-01"}, "Action"), ({"Action": "StartSnapshot"}, "Version"), ({}, "Action")],
)
def test_missing_action_or_version(
    emulator_client: EmulatorClient, query: dict[str, str], missing: str
) -> None:
    c = emulator_client
    resp = c.send("POST", query, _body(), c.signed_headers("POST", query, _body()))
    _assert_gateway(resp, "MissingParameter", 400, 100002)
    assert missing in error(resp)["Message"]


@pytest.mark.parametrize(
    ("method", "action", "version"),
    [
        ("POST", "StartSnapshots", "2023-11-01"),
        ("POST", "StartSnapshot", "2020-12-01"),
        ("POST", "StartSnapshot", "2023-06-01"),
        ("GET", "StartSnapshot", "2023-11-01"),
        ("POST", "GetSnapshotTask", "2022-06-01"),
        ("GET", "GetSnapshotTask", "2020-12-01"),
    ],
)
def test_unknown_action_version_or_method(
    emulator_client: EmulatorClient, method: str, action: str, version: str
) -> None:
    resp = emulator_client.call(action, start_body(), version=version, method=method)
    _assert_gateway(resp, "InvalidActionOrVersion", 404, 100008)
    assert error(resp)["Message"] == f"Could not find operation {action} for version {version}."


def test_other_paths_do_not_exist(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    resp = c.send("POST", START, _body(), c.signed_headers("POST", START, _body()), path="/v1/snapshot")
    _assert_gateway(resp, "InvalidActionOrVersion", 404, 100008)


# --------------------------------------------------------------------------- authentication


def test_missing_authorization(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = c.signed_headers("POST", START, _body())
    del headers["Authorization"]
    _assert_gateway(c.send("POST", START, _body(), headers), "MissingAuthenticationToken", 401, 100003)


@pytest.mark.parametrize(
    "authorization",
    [
        "garbage",
        "HMAC-SHA256 Credential=AKLTtestkey/20240102/cn-north-1/rtc/request, SignedHeaders=host;x-date",
        "HMAC-SHA256 Credential=AKLTtestkey/20240102/cn-north-1/rtc/request, SignedHeaders=host;x-date, Signature=",
        "AWS4-HMAC-SHA256 Credential=AKLTtestkey/20240102/cn-north-1/rtc/aws4_request, "
        "SignedHeaders=host, Signature=" + "0" * 64,
    ],
)
def test_malformed_authorization_is_missing_signature(
    emulator_client: EmulatorClient, authorization: str
) -> None:
    c = emulator_client
    headers = {**c.signed_headers("POST", START, _body()), "Authorization": authorization}
    _assert_gateway(c.send("POST", START, _body(), headers), "MissingSignature", 401, 100005)


def test_missing_x_date(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = c.signed_headers("POST", START, _body())
    del headers["X-Date"]
    _assert_gateway(c.send("POST", START, _body(), headers), "MissingRequestInfo", 400, 100004)


@pytest.mark.parametrize("offset", [timedelta(minutes=-16), timedelta(minutes=16)])
def test_stale_or_future_x_date(emulator_client: EmulatorClient, offset: timedelta) -> None:
    c = emulator_client
    headers = c.signed_headers("POST", START, _body(), now=datetime.now(UTC) + offset)
    _assert_gateway(c.send("POST", START, _body(), headers), "InvalidTimestamp", 400, 100006)


def test_x_date_within_skew_is_accepted(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = c.signed_headers("POST", START, _body(), now=datetime.now(UTC) - timedelta(minutes=14))
    assert code(c.send("POST", START, _body(), headers)) == "OK"


def test_skew_follows_config_and_auth_clock(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    now = datetime.now(UTC).timestamp()
    make_emulator(max_clock_skew=60, auth_clock=lambda: now + 120)
    resp = emulator_client.call("StartSnapshot", start_body())
    _assert_gateway(resp, "InvalidTimestamp", 400, 100006)


def test_malformed_x_date(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = {**c.signed_headers("POST", START, _body()), "X-Date": "2024-01-02T03:04:05Z"}
    _assert_gateway(c.send("POST", START, _body(), headers), "InvalidTimestamp", 400, 100006)


def test_wrong_service_in_scope(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = c.signed_headers("POST", START, _body(), service="vod")
    _assert_gateway(c.send("POST", START, _body(), headers), "ServiceNotFound", 404, 100007)


def test_unknown_access_key(emulator_server: EmulatorServer) -> None:
    with EmulatorClient(emulator_server.url, "AKLTnobody", "whatever") as c:
        _assert_gateway(c.call("StartSnapshot", start_body()), "InvalidAccessKey", 401, 100009)


def test_wrong_secret(emulator_server: EmulatorServer, emulator: Emulator) -> None:
    with EmulatorClient(emulator_server.url, "AKLTtestkey", "not-the-secret") as c:
        _assert_gateway(c.call("StartSnapshot", start_body()), "SignatureDoesNotMatch", 401, 100010)


def test_official_signer_with_wrong_secret(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = official_headers("POST", c.host, START, _body(), c.access_key, c.secret_key + "x")
    _assert_gateway(c.send("POST", START, _body(), headers), "SignatureDoesNotMatch", 401, 100010)


def test_tampered_body_with_stale_content_hash(emulator: Emulator, emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = c.signed_headers("POST", START, _body())
    tampered = json.dumps(start_body(TaskId="other")).encode()
    resp = c.send("POST", START, tampered, headers)
    _assert_gateway(resp, "SignatureDoesNotMatch", 401, 100010)
    assert "X-Content-Sha256" in error(resp)["Message"]
    assert emulator.registry.tasks() == []


def test_tampered_body_with_recomputed_content_hash(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    tampered = json.dumps(start_body(TaskId="other")).encode()
    headers = {
        **c.signed_headers("POST", START, _body()),
        "X-Content-Sha256": hashlib.sha256(tampered).hexdigest(),
    }
    _assert_gateway(c.send("POST", START, tampered, headers), "SignatureDoesNotMatch", 401, 100010)


def test_unsigned_wrong_content_hash_is_rejected(emulator_client: EmulatorClient) -> None:
    """The body is intact and signed; only an unsigned X-Content-Sha256 lies about it."""
    c = emulator_client
    x_date = datetime.now(UTC).strftime(signer.DATE_FORMAT)
    signed = {"Host": c.host, "Content-Type": "application/json", "X-Date": x_date}
    names, sig = signer.signature(
        c.secret_key, "POST", "/", START, signed, _body(), x_date=x_date, region=c.region, service="rtc"
    )
    headers = {
        "Content-Type": "application/json",
        "X-Date": x_date,
        "X-Content-Sha256": hashlib.sha256(b"something else").hexdigest(),
        "Authorization": f"HMAC-SHA256 Credential={c.access_key}/{x_date[:8]}/{c.region}/rtc/request, "
        f"SignedHeaders={names}, Signature={sig}",
    }
    resp = c.send("POST", START, _body(), headers)
    _assert_gateway(resp, "SignatureDoesNotMatch", 401, 100010)
    del headers["X-Content-Sha256"]
    assert code(c.send("POST", START, _body(), headers)) == "OK"


def test_tampered_body_without_content_hash_header(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = c.signed_headers("POST", START, _body())
    del headers["X-Content-Sha256"]  # no longer signed either: the signature still covers the body hash
    _assert_gateway(
        c.send("POST", START, json.dumps(start_body(TaskId="x")).encode(), headers),
        "SignatureDoesNotMatch",
        401,
        100010,
    )


def test_tampered_query(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = c.signed_headers("GET", _get_query(), b"")
    tampered = {**_get_query(), "TaskId": "someone-elses"}
    _assert_gateway(c.send("GET", tampered, b"", headers), "SignatureDoesNotMatch", 401, 100010)


def test_wrong_region(emulator_server: EmulatorServer, emulator: Emulator) -> None:
    key, secret = next(iter(emulator.config.keys.items()))
    with EmulatorClient(emulator_server.url, key, secret, region="ap-singapore-1") as c:
        resp = c.call("StartSnapshot", start_body())
    _assert_gateway(resp, "SignatureDoesNotMatch", 401, 100010)
    assert "region" in error(resp)["Message"]


def test_unsigned_x_date_is_rejected(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    x_date = datetime.now(UTC).strftime(signer.DATE_FORMAT)
    signed = {"Host": c.host, "Content-Type": "application/json"}
    names, sig = signer.signature(
        c.secret_key, "POST", "/", START, signed, _body(), x_date=x_date, region=c.region, service="rtc"
    )
    headers = {
        "Content-Type": "application/json",
        "X-Date": x_date,
        "Authorization": f"HMAC-SHA256 Credential={c.access_key}/{x_date[:8]}/{c.region}/rtc/request, "
        f"SignedHeaders={names}, Signature={sig}",
    }
    resp = c.send("POST", START, _body(), headers)
    _assert_gateway(resp, "SignatureDoesNotMatch", 401, 100010)
    assert "X-Date" in error(resp)["Message"]


# --------------------------------------------------------------------------- STS session tokens


@pytest.mark.parametrize(("token", "expected"), [(None, "InvalidAccessKey"), ("stolen", "InvalidAccessKey")])
def test_session_key_needs_its_token(
    make_emulator: MakeEmulator, emulator_server: EmulatorServer, token: str | None, expected: str
) -> None:
    make_emulator(keys={"AKLTsts": "s"}, sessions={"AKLTsts": "good-token"})
    with EmulatorClient(emulator_server.url, "AKLTsts", "s", session_token=token) as c:
        _assert_gateway(c.call("StartSnapshot", start_body()), expected, 401, 100009)
    with EmulatorClient(emulator_server.url, "AKLTsts", "s", session_token="good-token") as c:
        assert code(c.call("StartSnapshot", start_body())) == "OK"


def test_unlisted_key_with_a_token_is_accepted(emulator_server: EmulatorServer, emulator: Emulator) -> None:
    key, secret = next(iter(emulator.config.keys.items()))
    with EmulatorClient(emulator_server.url, key, secret, session_token="any-token") as c:
        assert code(c.call("StartSnapshot", start_body())) == "OK"


def test_unsigned_session_token_is_rejected(emulator_client: EmulatorClient) -> None:
    c = emulator_client
    headers = {**c.signed_headers("POST", START, _body()), "X-Security-Token": "added-later"}
    _assert_gateway(c.send("POST", START, _body(), headers), "SignatureDoesNotMatch", 401, 100010)


# --------------------------------------------------------------------------- order of checks


def test_order_missing_parameter_before_authentication(emulator_server: EmulatorServer) -> None:
    with EmulatorClient(emulator_server.url, "AKLTnobody", "x") as c:
        resp = c.send("POST", {"Action": "StartSnapshot"}, b"", {})
    assert error(resp)["Code"] == "MissingParameter"


def test_order_routing_before_authentication(emulator_server: EmulatorServer) -> None:
    with EmulatorClient(emulator_server.url, "AKLTnobody", "x") as c:
        resp = c.send("POST", {"Action": "Nope", "Version": "2023-11-01"}, b"", {})
    assert error(resp)["Code"] == "InvalidActionOrVersion"


def test_order_authentication_before_body(emulator_client: EmulatorClient) -> None:
    assert error(emulator_client.send("POST", START, b"", {}))["Code"] == "MissingAuthenticationToken"


def test_order_time_and_service_before_access_key(emulator_server: EmulatorServer) -> None:
    with EmulatorClient(emulator_server.url, "AKLTnobody", "x") as c:
        stale = c.signed_headers("POST", START, _body(), now=datetime.now(UTC) - timedelta(hours=1))
        assert error(c.send("POST", START, _body(), stale))["Code"] == "InvalidTimestamp"
        other = c.signed_headers("POST", START, _body(), service="vod")
        assert error(c.send("POST", START, _body(), other))["Code"] == "ServiceNotFound"


# --------------------------------------------------------------------------- IAM policies


def test_lack_policy(make_emulator: MakeEmulator, emulator_client: EmulatorClient) -> None:
    make_emulator(policies={"AKLTtestkey": set()})
    resp = emulator_client.call("StartSnapshot", start_body())
    _assert_gateway(resp, "LackPolicy", 403, 100012)


def test_access_denied_for_an_action_outside_the_policy(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    emulator = make_emulator(policies={"AKLTtestkey": {"GetSnapshotTask"}})
    _assert_gateway(emulator_client.call("StartSnapshot", start_body()), "AccessDenied", 403, 100013)
    assert emulator.registry.tasks() == []
    assert (
        error(emulator_client.get_task(APP, ROOM, TASK))["Code"] == "InvalidParameter.ErrorActiveTaskNotFound"
    )
