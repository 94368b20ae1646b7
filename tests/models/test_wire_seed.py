"""The seed page's example must survive from_wire -> to_wire unchanged (spec §2.1)."""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
from rtcsnap.models import StartSnapshotRequest, StorageType, StreamType

# Verbatim copy of the "请求示例代码 / Body" block of
# ../shared/spec/StartSnapshot-2022-06-01.zh.md (also spec §2.1 "Example (SEED, 2022-06-01)").
SEED_BODY = """
{
    "AppId": "Your_AppId",
    "BusinessId": "Your_BusinessId",
    "RoomId": "Your_RoomId",
    "TaskId": "Your_TaskId",
    "TargetStreams": {
        "StreamList": [
            {
                "UserId": "user1",
                "StreamType": 0
            },
            {
                "UserId": "user2",
                "StreamType": 0
            }
        ]
    },
    "MaxIdleTime": 180,
    "ImageConfig": {
        "Format": 0,
        "Width": 800,
        "Height": 800,
        "Interval": 2
    },
    "StorageConfig": {
        "Type": 3,
        "VeImageXConfig": {
            "AccountId": "Your_AccountId",
            "Region": 0,
            "ServiceId": "Your_ServiceId"
        }
    }
}
"""

CHECKOUT = Path(__file__).resolve().parents[2]
SPEC_DIR = CHECKOUT.parent / "shared" / "spec"
"""The spec folder lives beside the checkout (``<checkout>/../shared/spec``), locally and in CI."""
SEED_PAGE = SPEC_DIR / "StartSnapshot-2022-06-01.zh.md"


def seed() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SEED_BODY)
    return data


@pytest.mark.skipif(
    not SPEC_DIR.is_dir(), reason=f"no spec folder at {SPEC_DIR} (expected shared/spec beside the checkout)"
)
def test_embedded_copy_matches_the_seed_page() -> None:
    # the folder is there, so a missing or renamed page is a failure, not a skip
    page = SEED_PAGE.read_text(encoding="utf-8")
    blocks = [json.loads(b) for b in re.findall(r"```\s*\n(\{.*?\})\s*\n```", page, re.S)]
    assert seed() in blocks


def test_seed_round_trips_key_for_key() -> None:
    original = seed()
    req = StartSnapshotRequest.from_wire(original)
    wire = req.to_wire()
    assert wire == original
    assert json.dumps(wire, sort_keys=True) == json.dumps(original, sort_keys=True)


def test_seed_parses_into_typed_values() -> None:
    req = StartSnapshotRequest.from_wire(seed())
    assert req.storage_config.type is StorageType.VEIMAGEX
    assert req.storage_config.ve_image_x_config is not None
    assert req.storage_config.ve_image_x_config.service_id == "Your_ServiceId"
    assert req.target_streams is not None
    assert [s.stream_type for s in req.target_streams.stream_list] == [StreamType.MAIN] * 2
    assert req.image_config is not None and req.image_config.width == 800


def test_seed_is_valid_in_lenient_mode_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        req = StartSnapshotRequest.from_wire(seed(), lenient=True)
    assert req.to_wire() == seed()


def test_round_trip_through_model_dump_of_the_parsed_request() -> None:
    first = StartSnapshotRequest.from_wire(seed())
    second = StartSnapshotRequest.from_wire(first.to_wire())
    assert second == first


def test_signing_vector_body_bytes_are_reproduced() -> None:
    """Spec §5.4 signs these exact bytes; to_wire + compact json must give them back."""
    body = (
        '{"AppId":"Your_AppId","RoomId":"Your_RoomId","TaskId":"Your_TaskId","StorageConfig":'
        '{"Type":0,"TosConfig":{"AccountId":"2000000000","Bucket":"my-bucket","Region":0}}}'
    )
    req = StartSnapshotRequest.from_wire(json.loads(body))
    out = json.dumps(req.to_wire(), separators=(",", ":"))
    assert out == body
    expected = "ba4205347febb0eb79087a092af84735d4e493201ccbb68cac0c6d93c7d0e778"
    assert hashlib.sha256(out.encode()).hexdigest() == expected
