"""Issue 10's acceptance runs through real HTTP on both index backends.

* 10,000 callbacks from the emulator's chaos sender (5 % duplicates, 5 % bad signatures, 5 %
  reordered) end with exactly the valid unique events stored, on SQLite and on PostgreSQL.
* Two receivers behind a (simulated) load balancer share one PostgreSQL database; every event
  delivered to both is stored once, and exactly one of the two answers says it was new.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import random

import httpx
from rtcsnap.callbacks.index import SnapshotIndex
from rtcsnap.callbacks.receiver import Receiver
from rtcsnap.emulator.callbacks import CallbackSender, Chaos
from rtcsnap.protocol import callback_signature as cbsig

from tests.callbacks.test_receiver import NOW, SECRET, encode, served, snapshot_data, snapshot_envelope

EVENTS = 10_000


def stored_event_ids(index: SnapshotIndex) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = index.snapshots(limit=5000, after=after)
        ids += [row["event_id"] for row in page.items]
        if page.next is None:
            return ids
        after = page.next


def test_ten_thousand_chaos_callbacks_store_exactly_the_valid_unique_ones(db_url: str) -> None:
    receiver = Receiver(db_url, SECRET, clock=lambda: NOW)
    chaos = Chaos(duplicate=0.05, bad_signature=0.05, reorder=0.05, seed=10)
    sent: list[str] = []
    try:
        with (
            served(receiver) as base,
            CallbackSender(
                base + "/", SECRET, chaos=chaos, workers=32, retry_delay=0.05, clock=lambda: NOW
            ) as sender,
        ):
            for n in range(EVENTS):
                data = snapshot_data(f"t{n % 7}", images=1)
                sent.append(sender.send(cbsig.EVENT_SNAPSHOT, data, app_id="app1", version="2022-06-01"))
            assert sender.drain(timeout=300)
            stats = sender.stats
        assert stats.failed == 0 and stats.delivered == EVENTS
        # the chaos really happened, near its rates
        assert 300 < stats.duplicates < 700 and 300 < stats.bad_signatures < 700 and stats.reordered > 300
        ids = stored_event_ids(receiver.index)
        assert len(ids) == EVENTS and set(ids) == set(sent)  # each valid event once, nothing else
        assert receiver.index.count() == (EVENTS, EVENTS)
        assert receiver.metrics["accepted"] == EVENTS
        # every chaos duplicate is answered as one; so may be a retry the sender made after an
        # answer it did not get in time (a loaded machine): the event was stored by the first try
        retries = stats.attempts - EVENTS - stats.duplicates - stats.bad_signatures
        assert retries >= 0
        assert stats.duplicates <= receiver.metrics["duplicates"] <= stats.duplicates + retries
        assert receiver.metrics["bad_signature"] == stats.bad_signatures
    finally:
        receiver.close()


def test_two_receivers_on_one_postgresql_database_store_each_event_once(postgres_url: str) -> None:
    envelopes = [snapshot_envelope(f"t{n % 5}", images=2) for n in range(400)]
    deliveries = [(n, side) for n in range(len(envelopes)) for side in (0, 1)]
    random.Random(3).shuffle(deliveries)  # each event reaches both, in any order, concurrently
    with contextlib.ExitStack() as stack:
        receivers = [Receiver(postgres_url, SECRET, clock=lambda: NOW) for _ in range(2)]
        for receiver in receivers:
            stack.callback(receiver.close)
        urls = [stack.enter_context(served(r)) + "/" for r in receivers]
        clients = [stack.enter_context(httpx.Client(timeout=30)) for _ in range(16)]
        answers: dict[int, list[bool]] = {n: [] for n in range(len(envelopes))}

        def deliver(job: tuple[int, tuple[int, int]]) -> tuple[int, bool]:
            worker, (n, side) = job
            r = clients[worker % len(clients)].post(
                urls[side], content=encode(envelopes[n]), headers={"Content-Type": "application/json"}
            )
            assert r.status_code == 200, r.text
            return n, r.json()["duplicate"]

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            for n, duplicate in pool.map(deliver, enumerate(deliveries)):
                answers[n].append(duplicate)
        assert all(sorted(a) == [False, True] for a in answers.values())  # new at exactly one of the two
        assert all(r.metrics["accepted"] > 0 for r in receivers)  # both really stored some first
        assert sum(r.metrics["accepted"] for r in receivers) == len(envelopes)
        assert sum(r.metrics["duplicates"] for r in receivers) == len(envelopes)
        check = SnapshotIndex(postgres_url)
        try:
            assert check.count() == (len(envelopes), 2 * len(envelopes))
            assert sorted(set(stored_event_ids(check))) == sorted(e["EventId"] for e in envelopes)
        finally:
            check.close()
