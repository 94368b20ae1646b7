"""The callback receiver over real HTTP (uvicorn on 127.0.0.1, port 0) with the real index on SQLite:
what it acknowledges is stored exactly once, what it refuses is never stored (the 10,000-event chaos
runs on both backends are in test_acceptance.py)."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest
from rtcsnap.asgi.server import BackgroundServer
from rtcsnap.callbacks.index import SnapshotIndex, SnapshotIndexError
from rtcsnap.callbacks.receiver import Receiver, app
from rtcsnap.clock import ManualClock
from rtcsnap.protocol import callback_signature as cbsig
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.types import ASGIApp

SECRET = "cb-secret-7f3e9a1c2b"
NOW = 1_750_000_000.0

# The official vector of spec §7.3 (doc 69820): letters as the Nonce, an offset in EventTime.
VECTOR = {
    "EventType": "RoomCreate",
    "EventData": '{"RoomId":"room1","Timestamp":1679383924691}',
    "EventTime": "2023-03-21T15:32:04+08:00",
    "EventId": "123456",
    "Version": "2020-12-01",
    "AppId": "appId",
    "Nonce": "aaBc",
    "Signature": "1c7200723842eff514b65fc3f065597432bbb4249e10d33db79b3853d05f3691",
}


@contextlib.contextmanager
def served(asgi: ASGIApp, lifespan: Literal["on", "off"] = "off") -> Iterator[str]:
    """`asgi` on a free port of 127.0.0.1 in a thread; yields the base URL."""
    with BackgroundServer(asgi, lifespan=lifespan) as server:
        yield server.url


def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'index.db'}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def make(tmp_path: Path, clock: ManualClock) -> Iterator[Callable[..., tuple[Receiver, str]]]:
    """make(**receiver_kwargs) -> (receiver, callback URL), served until the test ends."""
    with contextlib.ExitStack() as stack:

        def _make(index: SnapshotIndex | str | None = None, **kwargs: Any) -> tuple[Receiver, str]:
            kwargs.setdefault("clock", clock)
            receiver = Receiver(index if index is not None else db(tmp_path), SECRET, **kwargs)
            stack.callback(receiver.close)
            base = stack.enter_context(served(receiver))
            return receiver, base + receiver.path

        yield _make


def snapshot_data(task: str = "t1", images: int = 2) -> dict[str, Any]:
    return cbsig.snapshot_event_data(
        app_id="app1",
        business_id="biz",
        room_id="room1",
        task_id=task,
        bucket="snaps",
        images=[
            cbsig.ImageRecord(
                user_id=f"user{n}",
                stream_type=n % 2,
                index=n,
                object_key=f"app1/room1/{task}/user{n}/{1_700_000_000_000 + n}.jpg",
                format=0,
                width=640,
                height=360,
                size=1000 + n,
                timestamp_ms=1_700_000_000_000 + n,
            )
            for n in range(images)
        ],
    )


def snapshot_envelope(
    task: str = "t1", *, images: int = 2, when: float = NOW, secret: str = SECRET, event_id: str | None = None
) -> dict[str, str]:
    data = snapshot_data(task, images)
    return cbsig.envelope(
        cbsig.EVENT_SNAPSHOT,
        data,
        app_id="app1",
        version="2022-06-01",
        secret=secret,
        event_time=when,
        event_id=event_id,
        business_id="biz",
    )


def encode(fields: dict[str, Any]) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode()


def post(url: str, body: bytes) -> httpx.Response:
    return httpx.post(url, content=body, headers={"Content-Type": "application/json"}, timeout=10)


def test_a_valid_event_is_stored_raw_with_one_row_per_image(
    make: Callable[..., tuple[Receiver, str]],
) -> None:
    receiver, url = make()
    env = snapshot_envelope(images=3)
    body = encode(env)
    r = post(url, body)
    assert r.status_code == 200 and r.json() == {"ok": True, "duplicate": False}
    stored = receiver.index.event(env["EventId"])
    assert stored is not None and stored["raw"] == body.decode()
    page = receiver.index.snapshots(task_id="t1")
    assert sorted(item["user_id"] for item in page.items) == ["user0", "user1", "user2"]
    assert {item["event_id"] for item in page.items} == {env["EventId"]}
    assert receiver.index.count() == (1, 3)
    assert receiver.metrics["accepted"] == 1


def test_a_duplicate_is_acknowledged_and_stored_once(make: Callable[..., tuple[Receiver, str]]) -> None:
    receiver, url = make()
    body = encode(snapshot_envelope())
    assert post(url, body).json() == {"ok": True, "duplicate": False}
    again = post(url, body)
    assert again.status_code == 200 and again.json() == {"ok": True, "duplicate": True}
    assert receiver.index.count() == (1, 2)
    assert (receiver.metrics["accepted"], receiver.metrics["duplicates"]) == (1, 1)


def test_bad_or_missing_signatures_are_401_and_not_stored(make: Callable[..., tuple[Receiver, str]]) -> None:
    receiver, url = make()
    wrong_secret = snapshot_envelope(secret="another-secret-123")
    tampered = {**snapshot_envelope(), "AppId": "app2"}
    unsigned = snapshot_envelope()
    del unsigned["Signature"]
    for fields in (wrong_secret, tampered, unsigned, {**snapshot_envelope(), "Signature": 42}):
        r = post(url, encode(fields))
        assert r.status_code == 401 and r.json()["error"] == "bad_signature", fields
    upper = snapshot_envelope()
    assert post(url, encode({**upper, "Signature": upper["Signature"].upper()})).status_code == 200
    assert receiver.index.count() == (1, 2)
    assert receiver.metrics["bad_signature"] == 4


def test_malformed_bodies_and_missing_fields_are_400_naming_the_field(
    make: Callable[..., tuple[Receiver, str]],
) -> None:
    receiver, url = make()
    r = post(url, b'{"EventType": ')
    assert r.status_code == 400 and r.json()["message"].startswith("body:")
    assert post(url, b"[1, 2]").status_code == 400
    no_id = snapshot_envelope()
    del no_id["EventId"]
    r = post(url, encode(no_id))
    assert r.status_code == 400 and r.json()["message"].startswith("EventId:")
    no_nonce = snapshot_envelope()
    del no_nonce["Nonce"]
    assert post(url, encode(no_nonce)).json()["message"].startswith("Nonce:")
    # signed correctly, but its EventData announces no image: refused after the signature check
    empty = cbsig.envelope(
        cbsig.EVENT_SNAPSHOT,
        {"AppId": "app1", "RoomId": "room1", "TaskId": "t1", "Bucket": "b", "Data": []},
        app_id="app1",
        version="2022-06-01",
        secret=SECRET,
        event_time=NOW,
    )
    r = post(url, encode(empty))
    assert r.status_code == 400 and r.json()["message"].startswith("EventData.Data:")
    assert receiver.index.count() == (0, 0)
    assert receiver.metrics["malformed"] == 5


def test_an_oversize_declared_body_is_413_before_it_is_sent(
    make: Callable[..., tuple[Receiver, str]],
) -> None:
    receiver, url = make(max_body=4096)
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        # only the head goes out: a server that waited for the 10 MB would never answer
        conn.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n")
        head = conn.recv(65536).decode()
    assert head.startswith("HTTP/1.1 413") and "connection: close" in head.lower()
    # chunked, no length declared: cut off once what was read passes the limit
    streamed = httpx.post(url, content=iter([b" " * 3000, b" " * 3000, encode(snapshot_envelope())]))
    assert streamed.status_code == 413
    assert receiver.index.count() == (0, 0)
    assert receiver.metrics["too_large"] == 2


def test_stale_and_future_event_times_are_replays(
    make: Callable[..., tuple[Receiver, str]], clock: ManualClock
) -> None:
    receiver, url = make(freshness=600)
    for when in (NOW - 601, NOW + 601):
        r = post(url, encode(snapshot_envelope(when=when)))
        assert r.status_code == 401 and r.json()["error"] == "replay"
    assert post(url, encode(snapshot_envelope(when=NOW - 599))).status_code == 200
    # the same signed envelope, delivered again long after: a replay, even of a stored event
    late = snapshot_envelope(when=NOW)
    clock.advance(3600)
    assert post(url, encode(late)).json()["error"] == "replay"
    assert receiver.index.count() == (1, 2)
    assert receiver.metrics["replayed"] == 3


def test_the_official_vector_with_an_offset_and_a_letter_nonce_is_accepted(
    make: Callable[..., tuple[Receiver, str]], tmp_path: Path
) -> None:
    when = datetime.fromisoformat(VECTOR["EventTime"]).timestamp()
    receiver = Receiver(db(tmp_path), "1234", clock=lambda: when + 30)
    try:
        with served(receiver) as base:
            r = post(base + "/", encode(VECTOR))
        assert r.status_code == 200 and r.json() == {"ok": True, "duplicate": False}
        stored = receiver.index.event("123456")
        assert stored is not None and json.loads(stored["raw"]) == VECTOR
        assert receiver.index.count() == (1, 0)  # RoomCreate: kept raw, no snapshot rows
    finally:
        receiver.close()


def test_the_older_noce_spelling_is_accepted(make: Callable[..., tuple[Receiver, str]]) -> None:
    receiver, url = make()
    fields = snapshot_envelope()
    fields["Noce"] = fields.pop("Nonce")
    fields["Signature"] = cbsig.sign(fields, SECRET)
    assert post(url, encode(fields)).status_code == 200
    assert receiver.index.event(fields["EventId"]) is not None


class FlakyIndex(SnapshotIndex):
    """The real index whose next `failures` transactions fail, as a full disk would."""

    failures = 0

    def store(self, batch: Any, received_at: float) -> list[bool]:
        if self.failures:
            self.failures -= 1
            raise OSError("No space left on device (injected)")
        return super().store(batch, received_at)


def test_a_failed_commit_is_503_and_not_acknowledged(
    make: Callable[..., tuple[Receiver, str]], tmp_path: Path
) -> None:
    index = FlakyIndex(db(tmp_path))
    try:
        index.failures = 1
        receiver, url = make(index)
        body = encode(snapshot_envelope())
        r = post(url, body)
        assert r.status_code == 503 and r.json()["ok"] is False
        assert index.count() == (0, 0) and receiver.metrics["failed"] == 1
        assert post(url, body).json() == {"ok": True, "duplicate": False}  # RTC's retry lands
        assert index.count() == (1, 2)
        receiver.close()
    finally:
        index.close()


def test_routes_metrics_and_mounting(make: Callable[..., tuple[Receiver, str]], tmp_path: Path) -> None:
    receiver, url = make(path="/rtc/callback")
    base = url.removesuffix("/rtc/callback")
    assert httpx.get(url).status_code == 405 and httpx.get(url).headers["allow"] == "POST"
    assert httpx.post(base + "/elsewhere", content=b"{}").status_code == 404
    assert post(url, encode(snapshot_envelope())).status_code == 200
    assert post(url, b"nope").status_code == 400
    metrics = httpx.get(base + "/rtc/callback/metrics").json()
    assert metrics == {**dict.fromkeys(metrics, 0), "accepted": 1, "malformed": 1}
    assert httpx.post(base + "/rtc/callback/metrics").status_code == 405
    assert SECRET not in repr(receiver)
    # mounted in a user's Starlette service, under a prefix
    mounted = app(f"sqlite:///{tmp_path / 'mounted.db'}", SECRET, clock=lambda: NOW)
    try:
        with served(Starlette(routes=[Mount("/hooks", app=mounted)])) as site:
            assert post(site + "/hooks/", encode(snapshot_envelope())).status_code == 200
            assert httpx.get(site + "/hooks/metrics").json()["accepted"] == 1
        assert mounted.index.count() == (1, 2)
    finally:
        mounted.close()


def test_served_with_lifespan_it_closes_its_index_on_shutdown(tmp_path: Path) -> None:
    receiver = Receiver(db(tmp_path), SECRET, clock=lambda: NOW)
    with served(receiver, lifespan="on") as base:
        assert post(base + "/", encode(snapshot_envelope())).status_code == 200
    with pytest.raises(SnapshotIndexError):
        receiver.index.count()  # closed by lifespan.shutdown, after the commit
    index = SnapshotIndex(db(tmp_path))
    try:
        assert index.count() == (1, 2)
    finally:
        index.close()
