"""Issue 11 §4: a request parsed from a wire body carries no version of its own unless one was
chosen, so the client's `api_version` decides what is sent; an explicit one still wins."""

from __future__ import annotations

from rtcsnap.models import ApiVersion, StartSnapshotRequest

from tests.openapi.conftest import BODY, MakeClient


def wire(task: str) -> dict[str, object]:
    return StartSnapshotRequest(**{**BODY, "task_id": task}).to_wire()


def test_a_parsed_request_is_sent_with_the_clients_version(make_client: MakeClient) -> None:
    client = make_client(api_version="2023-11-01")
    parsed = StartSnapshotRequest.from_wire(wire("v1"))
    assert "api_version" not in parsed.model_fields_set
    assert client.start(parsed).version == "2023-11-01"


def test_an_explicitly_chosen_version_still_overrides_the_client(make_client: MakeClient) -> None:
    client = make_client(api_version="2023-11-01")
    pinned = StartSnapshotRequest.from_wire(wire("v2"), version=ApiVersion.V2022_06_01)
    assert client.start(pinned).version == "2022-06-01"
