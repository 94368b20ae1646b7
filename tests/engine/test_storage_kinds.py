"""One task per storage type: the engine writes through each provider plugin to its local server
(the CustomConfig key for third-party buckets, `--storage-key` for TOS and veImageX), and the
images list and download byte-identical through the same provider with a read key."""

from __future__ import annotations

from pathlib import Path

import pytest
from rtcsnap.storage import download, iter_objects
from rtcsnap.testing.storage_servers import KINDS

from tests.engine.helpers import RecordingUploader, images, rooms_file


@pytest.mark.parametrize("kind", KINDS)
def test_task_on_each_storage_type(kind: str, make_snapshot_service, tmp_path: Path) -> None:
    svc = make_snapshot_service(rooms=rooms_file(tmp_path), storage=[kind], uploader_class=RecordingUploader)
    with svc.client() as client:
        client.start(
            app_id="app1",
            room_id="room1",
            task_id="t1",
            storage=svc.target(kind),
            target_streams=[{"user_id": "alice"}, {"user_id": "bob", "stream_type": 1}],
            image_config={"format": 1, "width": 320, "height": 320, "interval": 5},
        )
    svc.advance(0)
    svc.advance(5)
    assert svc.settle()
    sent = svc.uploader.sent
    assert len(sent) == 4, svc.engine.task_status()
    reader = svc.target(kind, "admin")
    listed = {o.key: o.size for o in iter_objects(reader)}
    assert listed == {k: len(v) for k, v in sent.items()}
    report = download(reader, tmp_path / "out")
    assert report.ok and len(report.downloaded) == 4
    for key, data in sent.items():
        assert (tmp_path / "out" / key).read_bytes() == data
    found = images(svc)
    assert len(found) == 4
    event_data = found[0]["event"]["EventData"]
    if kind == "veimagex":
        assert event_data["VeImageXServiceId"] == svc.buckets[kind] and "Bucket" not in event_data
        assert all(
            i["VeImageXUri"].endswith("/" + k)
            for i, k in zip(sorted(found, key=lambda i: i["VeImageXUri"]), sorted(sent), strict=True)
        )
    else:
        assert event_data["Bucket"] == svc.buckets[kind] and "VeImageXServiceId" not in event_data
        assert {i["ObjectKey"] for i in found} == set(sent)
