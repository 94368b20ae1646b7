"""The emulator under hostile input: oversized and endless bodies, bad JSON, slow or idle
connections, odd methods, clients that hang up — each answered with the documented envelope
(or a closed connection), never a 500, a hang or an ERROR traceback.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from rtcsnap.emulator import Emulator, EmulatorServer, ManualClock
from rtcsnap.testing.emulator import EmulatorClient, MakeEmulator, new_config

from tests.emulator import raw
from tests.emulator.helpers import code, error, start_body

START = {"Action": "StartSnapshot", "Version": "2023-11-01"}
TOO_LARGE = "RequestEntityTooLarge"
UNMARSHAL = "InvalidParameter.Unmarshal"
MAX_BODY_BYTES = 64 * 1024  # the documented limit (docs/assumptions.md A19)


def test_the_documented_body_limit_is_the_configured_default() -> None:
    from rtcsnap.emulator.config import MAX_BODY_BYTES as configured

    assert configured == MAX_BODY_BYTES == new_config().max_body_bytes


def _valid() -> bytes:
    return json.dumps(start_body()).encode()


# --------------------------------------------------------------------------- size


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_declared_huge_body_is_refused_before_it_is_read(
    emulator: Emulator, emulator_server: EmulatorServer, emulator_client: EmulatorClient, signed: bool
) -> None:
    """Content-Length: 100 MB and a few bytes: the answer comes at once, nothing waits for the rest."""
    headers = {"Content-Type": "application/json", "Content-Length": "100000000"}
    if signed:
        head = raw.signed_head(emulator_client, START, b"x" * 16, {"Content-Length": "100000000"})
    else:
        head = raw.head("POST", START, headers, emulator_client.host)
    with raw.connect(emulator_server.url) as sock:
        sock.sendall(head + b'{"AppId": "a')
        started = time.monotonic()
        resp = raw.read_response(sock)
        assert time.monotonic() - started < 2.0
        assert (resp.status, resp.code) == (413, TOO_LARGE)
        assert resp.headers["connection"] == "close"
        assert "CodeN" not in resp.json()["ResponseMetadata"]["Error"]
        assert raw.closed(sock)
    assert emulator.faults.count("StartSnapshot", TOO_LARGE) == 1


def test_a_streamed_body_is_cut_off_at_the_limit(
    emulator_server: EmulatorServer, emulator_client: EmulatorClient
) -> None:
    """Chunked, no Content-Length: the server stops at the limit instead of waiting for the end."""
    head = raw.signed_head(emulator_client, START, b"{}", {"Transfer-Encoding": "chunked"})
    with raw.connect(emulator_server.url) as sock:
        sock.sendall(head)
        for _ in range(MAX_BODY_BYTES // 8192 + 2):  # a little over the limit, never the final chunk
            try:
                sock.sendall(raw.chunk(b" " * 8192))
            except OSError:  # the server already answered and closed: that is the point
                break
        resp = raw.read_response(sock)
        assert (resp.status, resp.code) == (413, TOO_LARGE)
        assert raw.closed(sock)


def test_a_body_at_the_limit_is_read_and_signature_checked(emulator_client: EmulatorClient) -> None:
    body = _valid()
    padded = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(padded) == MAX_BODY_BYTES
    assert code(emulator_client.call("StartSnapshot", padded)) == "OK"
    resp = emulator_client.call("StartSnapshot", padded + b" ")
    assert (resp.status_code, code(resp)) == (413, TOO_LARGE)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, "MissingAuthenticationToken"), ({"Authorization": "Bearer x"}, "MissingSignature")],
)
def test_an_unsigned_streamed_body_is_refused_before_it_is_read(
    emulator_server: EmulatorServer, emulator_client: EmulatorClient, headers: dict[str, str], expected: str
) -> None:
    head = raw.head("POST", START, {"Transfer-Encoding": "chunked", **headers}, emulator_client.host)
    with raw.connect(emulator_server.url) as sock:
        sock.sendall(head + raw.chunk(b'{"AppId":'))  # and never the rest
        resp = raw.read_response(sock)
        assert resp.code == expected and resp.headers["connection"] == "close"


def test_an_unknown_key_is_refused_before_the_body_is_read(
    emulator_server: EmulatorServer, emulator: Emulator
) -> None:
    with EmulatorClient(emulator_server.url, "AKLTnobody", "some-secret-value") as stranger:
        head = raw.signed_head(stranger, START, b"{}", {"Transfer-Encoding": "chunked"})
        with raw.connect(emulator_server.url) as sock:
            sock.sendall(head + raw.chunk(b"{"))
            assert raw.read_response(sock).code == "InvalidAccessKey"


def test_a_wrong_signature_is_not_parsed_as_json(emulator_client: EmulatorClient) -> None:
    headers = emulator_client.signed_headers("POST", START, b"{}")
    resp = emulator_client.send("POST", START, b"{not json", headers)
    assert error(resp)["Code"] == "SignatureDoesNotMatch"


# --------------------------------------------------------------------------- JSON syntax over HTTP


BAD_JSON = [
    pytest.param(b"[" * 30000 + b"]" * 30000, id="nested-30000"),
    pytest.param(b'{"a":' * 1000 + b"1" + b"}" * 1000, id="nested-objects"),
    pytest.param(b'{"AppId": "app-1", "x": "\xc3\x28"}', id="invalid-utf8"),
    pytest.param(b'{"AppId": "app-1", "x": "\xed\xa0\x80"}', id="utf8-encoded-surrogate"),
    pytest.param("\ufeff{}".encode(), id="bom"),
    pytest.param('{"AppId": "app-1"}'.encode("utf-16"), id="utf-16"),
    pytest.param(b'{"AppId": "app-1", "Interval": ' + b"9" * 5000 + b"}", id="5000-digit-int"),
    pytest.param(b'{"AppId": "app-1", "MaxIdleTime": NaN}', id="nan"),
    pytest.param(b'{"AppId": "app-1", "MaxIdleTime": Infinity}', id="infinity"),
    pytest.param(b'{"AppId": "app-1", "MaxIdleTime": -Infinity}', id="minus-infinity"),
    pytest.param(b'{"AppId": "app-1", "MaxIdleTime": 1e400}', id="float-overflow"),
]


@pytest.mark.parametrize("body", BAD_JSON)
def test_undecodable_bodies_are_unmarshal_never_500(emulator_client: EmulatorClient, body: bytes) -> None:
    resp = emulator_client.call("StartSnapshot", body)
    assert (resp.status_code, code(resp)) == (400, UNMARSHAL), resp.text[:300]


def test_a_lone_surrogate_in_any_string_is_unmarshal(
    emulator: Emulator, emulator_client: EmulatorClient
) -> None:
    body = start_body()
    body["StorageConfig"]["TosConfig"]["Bucket"] = "PLACEHOLDER"
    raw_body = json.dumps(body).replace("PLACEHOLDER", "\\ud800").encode()
    resp = emulator_client.call("StartSnapshot", raw_body)
    assert (resp.status_code, code(resp)) == (400, UNMARSHAL)
    assert emulator.registry.tasks() == []
    pair = json.dumps(start_body(RoomId="room-1")).replace("room-1", "room-\\ud83d\\ude00").encode()
    assert code(emulator_client.call("StartSnapshot", pair)) != UNMARSHAL, "a valid surrogate pair is text"


def test_nesting_over_the_size_limit_is_too_large(emulator_client: EmulatorClient) -> None:
    resp = emulator_client.call("StartSnapshot", b"[" * 100000 + b"]" * 100000)
    assert (resp.status_code, code(resp)) == (413, TOO_LARGE)


# --------------------------------------------------------------------------- quota


def test_size_and_syntax_rejections_do_not_use_the_quota(
    make_emulator: MakeEmulator, emulator_client: EmulatorClient
) -> None:
    made = make_emulator(clock=ManualClock(1_700_000_000.0), qps={"StartSnapshot": 2})
    rejected = [b"{not json", b"", b"[1]", b'{"a": NaN}', b"\xff", b" " * (MAX_BODY_BYTES + 1)]
    for body in rejected * 2:
        assert code(emulator_client.call("StartSnapshot", body)) in (
            UNMARSHAL,
            "InvalidParameter.BodyIsEmpty",
            TOO_LARGE,
        )
    assert [code(emulator_client.call("StartSnapshot", start_body(TaskId=f"t{i}"))) for i in range(3)] == [
        "OK",
        "OK",
        "FlowLimitExceeded.QPSOverLimit",
    ]
    assert made.faults.count("StartSnapshot", "OK") == 2


# --------------------------------------------------------------------------- methods


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "MKCOL", "BREW", "CONNECT"])
def test_any_method_gets_the_json_envelope(emulator_client: EmulatorClient, method: str) -> None:
    resp = emulator_client.send(method, START, b"", {})
    assert resp.headers["content-type"].startswith("application/json"), resp.text
    assert (resp.status_code, code(resp)) == (404, "InvalidActionOrVersion")
    assert resp.json()["ResponseMetadata"]["Action"] == "StartSnapshot"


def test_any_path_and_method_without_action_gets_the_envelope(emulator_server: EmulatorServer) -> None:
    resp = httpx.request("PROPFIND", f"{emulator_server.url}/some/where", timeout=5)
    assert (resp.status_code, code(resp)) == (400, "MissingParameter")


# --------------------------------------------------------------------------- slow, idle and vanishing clients


def test_a_slow_body_is_answered_408_and_the_connection_closed(
    make_emulator: MakeEmulator, emulator_server: EmulatorServer, emulator_client: EmulatorClient
) -> None:
    made = make_emulator(body_timeout=0.5)
    body = _valid()
    with raw.connect(emulator_server.url) as sock:
        sock.sendall(raw.signed_head(emulator_client, START, body) + body[:5])
        sock.settimeout(0.1)
        started = time.monotonic()
        answer = b""
        for byte in body[5:]:  # one byte per 0.1 s: the body would take seconds
            try:
                answer = sock.recv(65536)
                break
            except TimeoutError:
                sock.sendall(bytes([byte]))
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:100]
        assert time.monotonic() - started < 2.0
        sock.settimeout(raw.RECV_TIMEOUT)
        assert b'"Code":"RequestTimeout"' in answer or raw.closed(sock)
    assert made.faults.count("StartSnapshot", "RequestTimeout") == 1


@pytest.fixture(scope="module")
def strict_server() -> Iterator[EmulatorServer]:
    """A server of its own with short connection timeouts (the shared one keeps the defaults)."""
    with EmulatorServer(Emulator(new_config()), header_timeout=0.5, keep_alive_timeout=0.5) as server:
        yield server


def test_an_idle_new_connection_is_closed(strict_server: EmulatorServer) -> None:
    with raw.connect(strict_server.url) as sock:
        started = time.monotonic()
        assert raw.closed(sock)
        assert time.monotonic() - started < 3.0


def test_a_dripped_request_head_is_closed_after_the_header_timeout(strict_server: EmulatorServer) -> None:
    with raw.connect(strict_server.url) as sock:
        head = b"POST /?Action=StartSnapshot&Version=2023-11-01 HTTP/1.1\r\nHost: x\r\nX-Slow: "
        took = raw.dripped_until_closed(sock, head)
        assert took is not None and took < 3.0


def test_an_idle_keep_alive_connection_is_closed(strict_server: EmulatorServer) -> None:
    with raw.connect(strict_server.url) as sock:
        sock.sendall(raw.head("GET", {"Version": "2023-11-01"}, {}, "x"))
        assert raw.read_response(sock).code == "MissingParameter"
        started = time.monotonic()
        assert raw.closed(sock)
        assert time.monotonic() - started < 3.0


def test_keep_alive_still_serves_several_requests(strict_server: EmulatorServer) -> None:
    with raw.connect(strict_server.url) as sock:
        for _ in range(3):
            sock.sendall(raw.head("GET", {"Version": "2023-11-01"}, {}, "x"))
            assert raw.read_response(sock).code == "MissingParameter"


def test_a_client_hanging_up_mid_body_is_no_error_in_the_logs(
    emulator: Emulator,
    emulator_server: EmulatorServer,
    emulator_client: EmulatorClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    body = _valid()
    with raw.connect(emulator_server.url) as sock:
        sock.sendall(raw.signed_head(emulator_client, START, body) + body[:10])
        sock.shutdown(socket.SHUT_RDWR)
    assert emulator.faults.wait_for(lambda f: f.abandoned["StartSnapshot"] == 1)
    assert emulator_client.call("StartSnapshot", start_body()).status_code == 200  # still serving
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert emulator.faults.count("StartSnapshot") == 1, "the abandoned request has no outcome"
