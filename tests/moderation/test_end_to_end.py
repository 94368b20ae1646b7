"""Issue 12's end-to-end acceptance: an emulator task whose stream shows a forbidden text → signed
callbacks → a real `Receiver` over HTTP → the moderation hook (the installed plugin module, real
models, images fetched through the s3 provider) → verdicts in the index → `rtcsnap snapshots list
--flagged` lists exactly the images of the stream that showed the text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import rtcsnap_moderation.plugin as plugin
from rtcsnap.callbacks.hooks import HookRunner
from rtcsnap.callbacks.index import SnapshotIndex
from rtcsnap.callbacks.receiver import Receiver
from rtcsnap.emulator.callbacks import CallbackSender

from tests.callbacks.test_receiver import served
from tests.conftest import run_cli
from tests.engine.helpers import rooms_file

ROOMS = """
[[room]]
app_id = "app1"
room_id = "room1"

[[room.user]]
user_id = "alice"
streams = [{ type = 0, width = 1280, height = 720, text = "BUY GUNS HERE" }]

[[room.user]]
user_id = "bob"
streams = [{ type = 0, width = 1280, height = 720 }]
"""


@pytest.fixture
def fresh_runtime() -> Iterator[None]:
    plugin.Runtime.reset()
    yield
    plugin.Runtime.reset()


def test_forbidden_text_on_one_stream_flags_exactly_its_images(
    make_snapshot_service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_runtime: None
) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path, ROOMS), storage=["s3"], callbacks=False)
    ak, sk = svc.storage["s3"].admin
    config = tmp_path / "config.toml"
    config.write_text(
        f'[targets.snaps]\nurl = "{svc.storage["s3"].target(svc.buckets["s3"])}"\n'
        'read = { env = ["MOD_AK", "MOD_SK"] }\n\n'
        '[plugins.moderation]\nstorage = "@snaps"\nworkers = 2\n'
        '[[plugins.moderation.text]]\nname = "weapons"\nkeywords = ["buy guns"]\n'
    )
    monkeypatch.setenv("RTCSNAP_CONFIG", str(config))
    monkeypatch.setenv("MOD_AK", ak)
    monkeypatch.setenv("MOD_SK", sk)
    db = tmp_path / "index.db"
    index = SnapshotIndex(str(db))
    runner = HookRunner(index, plugins=[plugin])
    receiver = Receiver(index, svc.callback_secret, hooks=runner)
    try:
        with served(receiver) as base:
            sender = CallbackSender(base + receiver.path, svc.callback_secret, retry_delay=0.01)
            svc.engine.callbacks = sender
            try:
                with svc.client() as client:
                    client.start(
                        app_id="app1",
                        room_id="room1",
                        task_id="t1",
                        storage=svc.target("s3"),
                        image_config={"format": 0, "width": 640, "height": 360, "interval": 5},
                    )
                svc.advance(0)
                for _ in range(2):
                    svc.advance(5)
                assert svc.settle()
                assert sender.stats.failed == 0
            finally:
                sender.close()
        assert runner.wait_idle(timeout=120), "every image judged"
    finally:
        runner.close()
        receiver.close()
    rows = index.snapshots(task_id="t1", with_verdicts=True).items
    index.close()
    assert len(rows) == 6 and all(len(r["verdicts"]) == 1 for r in rows), (
        "2 streams x 3 snapshots, each judged"
    )
    assert all(r["verdicts"][0]["status"] == "ok" for r in rows), [r["verdicts"][0]["error"] for r in rows]
    alice = {r["object_key"] for r in rows if r["user_id"] == "alice"}

    r = run_cli("snapshots", "list", "--db", str(db), "--flagged", "--json")
    assert r.returncode == 0, r.stderr
    listed = [json.loads(line) for line in r.stdout.splitlines()]
    assert {d["object_key"] for d in listed} == alice
    assert all(d["verdicts"][0]["fired"] == ["text.weapons"] for d in listed)
    assert all(d["verdicts"][0]["reason"] == "text.weapons (buy guns)" for d in listed), listed  # what it saw
    assert all(r["verdicts"][0]["reason"] is None for r in rows if r["user_id"] != "alice")
    by_label = run_cli("snapshots", "list", "--db", str(db), "--flagged", "--label", "text.weapons", "--json")
    assert {json.loads(line)["object_key"] for line in by_label.stdout.splitlines()} == alice


def test_installed_but_not_enabled_the_hook_does_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_runtime: None
) -> None:
    """No ``[plugins.moderation]`` table: a receiver's hook neither fetches, judges nor fails (it
    would otherwise record a failure for every event, having no storage to read from)."""
    config = tmp_path / "config.toml"
    config.write_text('[targets.snaps]\nurl = "s3://b?region=us-east-1"\n')
    monkeypatch.setenv("RTCSNAP_CONFIG", str(config))
    untouchable = object()  # any use of the record or the index would raise AttributeError
    plugin.rtcsnap_snapshot_received(record=untouchable, index=untouchable, images=untouchable)  # type: ignore[arg-type]
    assert plugin.Runtime.shared() is None
    config.write_text(config.read_text() + '[plugins.moderation]\nstorage = "@snaps"\n')
    plugin.Runtime.reset()
    runtime = plugin.Runtime.shared()
    assert runtime is not None and runtime.settings.storage == "@snaps"
