"""`CallbackSender` over real HTTP: RTC's delivery policy (spec §7.1) and the chaos for receivers."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from rtcsnap import secrets
from rtcsnap.emulator.callbacks import NO_CHAOS, CallbackSender, Chaos
from rtcsnap.emulator.config import ManualClock
from rtcsnap.protocol import callback_signature as cbsig

SECRET = "cb-secret-for-sender-tests"
ENVELOPE_FIELDS = {"EventType", "EventData", "EventTime", "EventId", "AppId", "Version", "Nonce", "Signature"}
HANG = "hang"


@dataclass(frozen=True)
class Delivery:
    raw: bytes
    body: dict[str, Any]
    content_type: str
    status: int | str


class Receiver:
    """A callback endpoint that records every POST and answers from a script, then 200.

    A script entry is a status code or `HANG` (hold the request until `release` is set). With
    `check_secret` set, a request the script does not cover answers 200 only if it verifies.
    """

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.script: list[int | str] = []
        self.check_secret: str | None = None
        self.release = threading.Event()
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw)
                with receiver._cond:
                    if receiver.script:
                        answer = receiver.script.pop(0)
                    elif receiver.check_secret is not None:
                        answer = 200 if cbsig.verify(body, receiver.check_secret) else 401
                    else:
                        answer = 200
                    receiver.deliveries.append(
                        Delivery(raw, body, self.headers.get("Content-Type", ""), answer)
                    )
                    receiver._cond.notify_all()
                if answer == HANG:
                    receiver.release.wait(10)
                    answer = 200
                assert isinstance(answer, int)
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a released HANG answers a client that already gave up

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.deliveries) >= count, timeout)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def fast_sender(url: str, **kwargs: Any) -> CallbackSender:
    """A sender with a short retry delay, so failure paths take milliseconds."""
    return CallbackSender(url, SECRET, **({"retry_delay": 0.01, "timeout": 2.0} | kwargs))


def event(n: int = 0) -> dict[str, Any]:
    return cbsig.snapshot_event_data(
        app_id="app",
        business_id="biz",
        room_id="room",
        task_id="task",
        bucket="bucket",
        images=[
            cbsig.ImageRecord(
                user_id="u",
                stream_type=0,
                object_key=f"app/room/task/u_0_{n}.jpg",
                format=0,
                width=640,
                height=360,
                size=100 + n,
                timestamp_ms=1_700_000_000_000 + n,
            )
        ],
    )


def send(sender: CallbackSender, n: int = 0) -> str:
    return sender.send(cbsig.EVENT_SNAPSHOT, event(n), app_id="app", version="2022-06-01", business_id="biz")


# ---------------------------------------------------------------------- delivery policy


def test_delivered_event_verifies_and_has_every_envelope_field(receiver: Receiver) -> None:
    clock = ManualClock(start=1_704_164_645.25)
    with fast_sender(receiver.url, clock=clock) as sender:
        event_id = send(sender)
        assert sender.drain(5)
        stats = sender.stats
    [delivery] = receiver.deliveries
    body = delivery.body
    assert set(body) == ENVELOPE_FIELDS | {"BusinessId"}
    assert cbsig.verify(body, SECRET)
    assert not cbsig.verify(body, SECRET + "x")
    assert body["EventId"] == event_id
    assert body["EventTime"] == cbsig.event_time(clock())  # the event's time, from the sender's clock
    assert (body["EventType"], body["AppId"], body["Version"], body["BusinessId"]) == (
        "SnapshotRealTimeData",
        "app",
        "2022-06-01",
        "biz",
    )
    assert json.loads(body["EventData"]) == event()
    assert delivery.content_type == "application/json"
    assert (stats.sent, stats.delivered, stats.failed, stats.attempts) == (1, 1, 0, 1)


def test_500_then_200_is_delivered_on_the_retry(receiver: Receiver) -> None:
    receiver.script = [500]
    with fast_sender(receiver.url) as sender:
        send(sender)
        assert sender.drain(5)
        stats = sender.stats
    assert [d.status for d in receiver.deliveries] == [500, 200]
    first, second = receiver.deliveries
    assert first.raw == second.raw  # the identical envelope: same EventId and Signature
    assert (stats.delivered, stats.failed, stats.attempts) == (1, 0, 2)


def test_three_failures_give_up_with_a_warning(receiver: Receiver, caplog: pytest.LogCaptureFixture) -> None:
    receiver.script = [500, 503, 500, 500]
    caplog.set_level(logging.WARNING, logger="rtcsnap.emulator.callbacks")
    with fast_sender(receiver.url) as sender:
        event_id = send(sender)
        assert sender.drain(5)
        stats = sender.stats
    assert len(receiver.deliveries) == 3  # at most 3 deliveries in all
    assert (stats.delivered, stats.failed, stats.attempts) == (0, 1, 3)
    assert stats.failures == ((event_id, "HTTP 500"),)
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert event_id in record.getMessage()
    assert "HTTP 500" in record.getMessage()
    assert SECRET not in caplog.text
    assert receiver.deliveries[0].body["Signature"] not in caplog.text


def test_a_timeout_is_a_failed_delivery(receiver: Receiver) -> None:
    receiver.script = [HANG]
    with CallbackSender(receiver.url, SECRET, timeout=0.3, retries=1, retry_delay=0.01) as sender:
        send(sender)
        assert sender.drain(5)
        stats = sender.stats
    assert (stats.delivered, stats.failed, stats.attempts) == (1, 0, 2)
    assert len(receiver.deliveries) == 2


def test_timeouts_on_every_delivery_give_up(receiver: Receiver) -> None:
    receiver.script = [HANG]
    with CallbackSender(receiver.url, SECRET, timeout=0.3, retries=0) as sender:
        event_id = send(sender)
        assert sender.drain(5)
        stats = sender.stats
    assert (stats.delivered, stats.failed, stats.attempts) == (0, 1, 1)
    assert stats.failures == ((event_id, "no answer within 0.3 s"),)


def test_an_unreachable_receiver_gives_up(receiver: Receiver) -> None:
    url = receiver.url
    receiver.close()  # nothing listens there any more
    with fast_sender(url) as sender:
        send(sender)
        assert sender.drain(5)
        stats = sender.stats
    assert (stats.failed, stats.attempts) == (1, 3)
    assert "ConnectError" in stats.failures[0][1]


def test_send_returns_before_delivery_and_drain_waits_for_it(receiver: Receiver) -> None:
    receiver.script = [HANG]
    with CallbackSender(receiver.url, SECRET, timeout=5.0) as sender:
        assert sender.drain(0)  # nothing sent yet
        send(sender)  # returns although the receiver will hold the request
        assert receiver.wait_for(1)
        assert sender.drain(0.05) is False
        receiver.release.set()
        assert sender.drain(5) is True
        assert sender.stats.delivered == 1


def test_close_interrupts_a_retry_wait_and_is_idempotent(receiver: Receiver) -> None:
    receiver.script = [500]
    sender = CallbackSender(receiver.url, SECRET, retry_delay=60.0)
    send(sender)
    assert receiver.wait_for(1)
    started = time.monotonic()
    sender.close(timeout=0.1)
    sender.close()
    assert time.monotonic() - started < 5  # not the 60 s retry delay
    assert sender.drain(5)
    stats = sender.stats
    assert (stats.failed, stats.attempts) == (1, 1)
    assert "closed" in stats.failures[0][1]
    assert len(receiver.deliveries) == 1
    with pytest.raises(RuntimeError, match="closed"):
        send(sender)


def test_many_events_from_several_workers(receiver: Receiver) -> None:
    with fast_sender(receiver.url, workers=4) as sender:
        ids = {send(sender, n) for n in range(20)}
        assert sender.drain(5)
        assert sender.stats.delivered == 20
    assert {d.body["EventId"] for d in receiver.deliveries} == ids
    assert all(cbsig.verify(d.body, SECRET) for d in receiver.deliveries)


def test_secret_is_registered_and_not_in_the_repr(receiver: Receiver) -> None:
    with CallbackSender(receiver.url, SECRET) as sender:
        assert SECRET in secrets.registered()
        assert repr(sender) == f"CallbackSender(url={receiver.url!r})"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://x"}, "callback url: must be an http"),
        ({"secret": ""}, "callback secret: must be a non-empty string"),
        ({"timeout": 0}, "callback timeout: must be a number of seconds > 0"),
        ({"retries": -1}, "callback retries: must be an integer >= 0"),
        ({"retry_delay": -1}, "callback retry_delay: must be a number of seconds >= 0"),
        ({"workers": 0}, "callback workers: must be an integer >= 1"),
    ],
)
def test_constructor_validation(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"url": "http://127.0.0.1:1/", "secret": SECRET} | kwargs
    with pytest.raises(ValueError, match=message):
        CallbackSender(args.pop("url"), args.pop("secret"), **args)


# ---------------------------------------------------------------------- chaos


def test_the_same_seed_gives_the_same_plan(receiver: Receiver) -> None:
    chaos = Chaos(
        duplicate=0.5,
        reorder=0.5,
        delay=0.5,
        delay_seconds=0.01,
        bad_signature=0.5,
        fail_before_retry=0.5,
        seed=7,
    )

    def plans(c: Chaos) -> list[Any]:
        with fast_sender(receiver.url, chaos=c) as sender:
            ids = [send(sender, n) for n in range(20)]
            assert sender.drain(5)
            return [sender.plan(i) for i in ids]

    first = plans(chaos)
    assert plans(chaos) == first
    assert plans(Chaos(**{**chaos.__dict__, "seed": 8})) != first
    assert any(p != NO_CHAOS for p in first)


def test_no_chaos_plan_without_chaos(receiver: Receiver) -> None:
    with fast_sender(receiver.url) as sender:
        event_id = send(sender)
        assert sender.plan(event_id) == NO_CHAOS
        with pytest.raises(KeyError, match="no callback event"):
            sender.plan("nope")


def test_duplicate_delivers_the_identical_envelope_twice(receiver: Receiver) -> None:
    with fast_sender(receiver.url, chaos=Chaos(duplicate=1, seed=1)) as sender:
        event_id = send(sender)
        assert sender.drain(5)
        stats = sender.stats
        assert sender.plan(event_id).duplicate
    first, second = receiver.deliveries
    assert first.raw == second.raw
    assert first.body["EventId"] == event_id
    assert (stats.delivered, stats.duplicates, stats.attempts) == (1, 1, 2)


def test_bad_signature_fails_first_then_verifies(receiver: Receiver) -> None:
    receiver.check_secret = SECRET
    with fast_sender(receiver.url, chaos=Chaos(bad_signature=1, seed=1)) as sender:
        send(sender)
        assert sender.drain(5)
        stats = sender.stats
    first, second = receiver.deliveries
    assert not cbsig.verify(first.body, SECRET)
    assert cbsig.verify(second.body, SECRET)
    assert first.body["EventId"] == second.body["EventId"]
    assert [first.status, second.status] == [401, 200]
    assert (stats.delivered, stats.bad_signatures, stats.attempts) == (1, 1, 2)


def test_reorder_changes_the_arrival_order(receiver: Receiver) -> None:
    with fast_sender(receiver.url, chaos=Chaos(reorder=1, seed=1), workers=1) as sender:
        a, b, c = (send(sender, n) for n in range(3))
        assert sender.drain(5)  # releases c, which had no successor to wait for
        stats = sender.stats
        assert [sender.plan(i).reorder for i in (a, b, c)] == [True, False, True]
    assert [d.body["EventId"] for d in receiver.deliveries] == [b, a, c]
    assert (stats.delivered, stats.reordered) == (3, 2)


def test_fail_before_retry_is_seen_once_after_two_attempts(receiver: Receiver) -> None:
    with fast_sender(receiver.url, chaos=Chaos(fail_before_retry=1, seed=1)) as sender:
        ids = [send(sender, n) for n in range(2)]
        assert sender.drain(5)
        stats = sender.stats
    assert sorted(d.body["EventId"] for d in receiver.deliveries) == sorted(ids)  # exactly one each
    assert (stats.delivered, stats.attempts) == (2, 4)


def test_fail_before_retry_without_retries_never_reaches_the_receiver(receiver: Receiver) -> None:
    chaos = Chaos(fail_before_retry=1, seed=1)
    with CallbackSender(receiver.url, SECRET, chaos=chaos, retries=0, retry_delay=0.01) as sender:
        event_id = send(sender)
        assert sender.drain(5)
        stats = sender.stats
    assert receiver.deliveries == []
    assert (stats.failed, stats.attempts) == (1, 1)
    assert stats.failures[0][0] == event_id


def test_delay_holds_the_first_delivery(receiver: Receiver) -> None:
    sender = fast_sender(receiver.url, chaos=Chaos(delay=1, delay_seconds=60, seed=1))
    event_id = send(sender)
    assert sender.plan(event_id).delay == 60
    assert sender.drain(0.05) is False
    sender.close(timeout=0)  # interrupts the delay
    assert sender.drain(5)
    stats = sender.stats
    assert receiver.deliveries == []
    assert (stats.delayed, stats.failed, stats.attempts) == (1, 1, 0)
    assert "delay" in stats.failures[0][1]


def test_chaos_parse() -> None:
    assert Chaos.parse("duplicate=0.1, reorder=0.05,seed=7") == Chaos(duplicate=0.1, reorder=0.05, seed=7)
    assert Chaos.parse("delay=1,delay_seconds=2.5") == Chaos(delay=1.0, delay_seconds=2.5)
    assert Chaos.parse("") == Chaos()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("duplicate", r"chaos item 'duplicate': expected name=value"),
        ("bogus=1", r"chaos item 'bogus=1': unknown name 'bogus'"),
        ("duplicate=x", r"chaos item 'duplicate=x': 'x' is not a number"),
        ("seed=1.5", r"chaos item 'seed=1.5': '1.5' is not an integer"),
        ("reorder=2", r"chaos item 'reorder=2': chaos.reorder: must be a rate in \[0, 1\]"),
        ("delay_seconds=-1", r"chaos item 'delay_seconds=-1': chaos.delay_seconds: must be"),
        ("delay=nan", r"chaos.delay: must be a rate in \[0, 1\]"),
        ("delay=0.1,delay=0.2", r"chaos item 'delay=0.2': delay given twice"),
    ],
)
def test_chaos_parse_errors_name_the_item(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Chaos.parse(text)


@pytest.mark.parametrize("name", ["duplicate", "reorder", "delay", "bad_signature", "fail_before_retry"])
def test_chaos_rates_are_validated(name: str) -> None:
    with pytest.raises(ValueError, match=rf"chaos.{name}: must be a rate in \[0, 1\]"):
        Chaos(**{name: 1.5})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=rf"chaos.{name}"):
        Chaos(**{name: -0.1})  # type: ignore[arg-type]


def test_chaos_seed_is_validated() -> None:
    with pytest.raises(ValueError, match=r"chaos\.seed: must be an integer or None"):
        Chaos(seed="7")  # type: ignore[arg-type]
