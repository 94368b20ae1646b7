"""`ImageSource`, the hook's ``images`` argument: which read key serves which task, and the image
fetched and verified over real HTTP from the local S3 server (moto, signatures checked)."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest
from rtcsnap import StorageTarget
from rtcsnap.callbacks.hooks import HookRunner
from rtcsnap.callbacks.images import ImageSource
from rtcsnap.callbacks.index import SnapshotIndex
from rtcsnap.callbacks.records import SnapshotRecord
from rtcsnap.errors import ConfigurationError
from rtcsnap.hookspecs import hookimpl
from rtcsnap.tasklog import TaskLog
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.s3server import LocalS3Server

KEY = "app1/room1/task1/alice_0_1700000000000.jpg"


def record(bucket: str | None, *, task: str = "task1", key: str = KEY) -> SnapshotRecord:
    return SnapshotRecord(
        event_id=f"ev-{task}",
        app_id="app1",
        business_id=None,
        room_id="room1",
        task_id=task,
        user_id="alice",
        stream_type=0,
        stream_index=0,
        bucket=bucket,
        veimagex_service_id=None,
        object_key=key,
        veimagex_uri=None,
        format=0,
        width=640,
        height=360,
        size=11,
        timestamp_ms=1_700_000_000_000,
    )


@pytest.fixture
def bucket(local_s3: LocalS3Server) -> str:
    name = local_s3.create_bucket(new_bucket_name("images"))
    local_s3.s3().put_object(Bucket=name, Key=KEY, Body=b"jpeg-bytes!")
    return name


def url(local_s3: LocalS3Server, bucket: str) -> str:
    return f"s3://{bucket}?region=us-east-1&endpoint={local_s3.endpoint}"


def target(local_s3: LocalS3Server, bucket: str, secret: str | None = None) -> StorageTarget:
    ak, sk = local_s3.admin_credentials
    return StorageTarget.parse(url(local_s3, bucket), access_key=ak, secret_key=secret or sk)


def test_the_task_target_wins_then_the_default_then_the_task_log(tmp_path: Path) -> None:
    log = TaskLog(tmp_path / "tasks.jsonl")
    log.record(app_id="app1", room_id="room1", task_id="logged", storage="s3://c?region=us-east-1",
               endpoint="cn", request_id="r1")  # fmt: skip
    own, fallback = "s3://a?region=us-east-1", "s3://b?region=us-east-1"
    source = ImageSource(fallback, tasks={("app1", "room1", "task1"): own}, task_log=log)
    assert source.target_spec(record("a")) == own
    assert source.target_spec(record("b", task="other")) == fallback
    only_log = ImageSource(task_log=log)
    assert only_log.target_spec(record("c", task="logged")) == "s3://c?region=us-east-1"
    with pytest.raises(ConfigurationError, match=r"task app1/room1/task1: no storage known .*task log"):
        only_log.target_spec(record("c"))
    with pytest.raises(ConfigurationError, match="task app1/room1/task1"):
        ImageSource(task_log=None).target_spec(record("c"))


def test_fetch_reads_the_image_verified_with_the_given_key(local_s3: LocalS3Server, bucket: str) -> None:
    with ImageSource(target(local_s3, bucket), task_log=None) as source:
        assert source.fetch(record(bucket)).data == b"jpeg-bytes!"
        assert source.fetcher(record(bucket)) is source.fetcher(record(bucket))  # one per target
    with pytest.raises(RuntimeError, match="closed"):
        source.fetch(record(bucket))


def test_a_veimagex_uri_is_read_by_its_key_part(local_s3: LocalS3Server, bucket: str) -> None:
    """A veImageX callback names ``SERVICE-STORE/KEY`` and no object key: the key part is fetched,
    as a download of that record would (`manifest.record_key`)."""
    announced = dataclasses.replace(record(None), object_key=None, veimagex_uri=f"tos-cn-i-svc001/{KEY}")
    with ImageSource(target(local_s3, bucket), task_log=None) as source:
        assert source.fetch(announced).data == b"jpeg-bytes!"


def test_a_task_started_here_is_read_through_the_task_log(
    local_s3: LocalS3Server, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `rtcsnap callbacks serve` does by default: the URL `rtcsnap start` recorded, resolved
    as a read target (here the provider's credential chain, from the environment)."""
    ak, sk = local_s3.admin_credentials
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ak)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", sk)
    log = TaskLog(tmp_path / "tasks.jsonl")
    log.record(app_id="app1", room_id="room1", task_id="task1", storage=url(local_s3, bucket),
               endpoint="cn", request_id="r1")  # fmt: skip
    with ImageSource(task_log=log) as source:
        assert source.fetch(record(bucket)).data == b"jpeg-bytes!"


def test_an_image_of_another_bucket_is_refused_not_read_elsewhere(
    local_s3: LocalS3Server, bucket: str
) -> None:
    with ImageSource(target(local_s3, bucket), task_log=None) as source:
        with pytest.raises(ConfigurationError, match=rf"bucket 'elsewhere'.*bucket {bucket!r}"):
            source.fetch(record("elsewhere"))
        with pytest.raises(ValueError, match="names no object key"):
            source.fetch(dataclasses.replace(record(bucket), object_key=None))


def test_a_wrong_key_fails_and_no_secret_shows(local_s3: LocalS3Server, bucket: str) -> None:
    wrong = "wrong-secret-never-shown-4d1f"
    with ImageSource(target(local_s3, bucket, secret=wrong), task_log=None) as source:
        assert wrong not in repr(source) and local_s3.admin_credentials[1] not in repr(source)
        with pytest.raises(Exception) as caught:
            source.fetch(record(bucket))
        assert wrong not in str(caught.value)


class Reader:
    """A hook that takes ``images`` and keeps what it read."""

    __name__ = "reader"

    def __init__(self) -> None:
        self.data: list[bytes] = []
        self.lock = threading.Lock()

    @hookimpl
    def rtcsnap_snapshot_received(self, record: SnapshotRecord, images: ImageSource) -> None:
        data = images.fetch(record).data
        with self.lock:
            self.data.append(data)


def test_the_runner_hands_its_source_to_the_hooks(
    local_s3: LocalS3Server, bucket: str, tmp_path: Path
) -> None:
    index = SnapshotIndex(f"sqlite:///{tmp_path / 'index.db'}")
    reader = Reader()
    try:
        with ImageSource(target(local_s3, bucket), task_log=None) as source:
            runner = HookRunner(index, plugins=[reader], images=source)
            try:
                assert runner.images is source
                assert runner.submit("ev-task1", [record(bucket)])
                assert runner.wait_idle(30)
            finally:
                runner.close()
            assert reader.data == [b"jpeg-bytes!"] and runner.metrics["failed"] == 0
            assert source.fetch(record(bucket)).data == b"jpeg-bytes!"  # a source it was given stays open
    finally:
        index.close()
