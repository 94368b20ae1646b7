"""SnapshotClient against the emulator over HTTP: outcomes, errors, retries, idempotence."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from rtcsnap import errors as e
from rtcsnap.emulator import Emulator
from rtcsnap.models import StartSnapshotRequest, TaskStatus
from rtcsnap.openapi.client import SnapshotClient
from rtcsnap.protocol import codes
from rtcsnap.retry import RetryPolicy

from tests.openapi.conftest import BODY

VERSIONS = ["2022-06-01", "2023-11-01"]
IDS: dict[str, Any] = {"app_id": "app1", "room_id": "room1", "task_id": "task1"}


@pytest.mark.parametrize("version", VERSIONS)
def test_lifecycle(client: SnapshotClient, emulator: Emulator, version: str) -> None:
    started = client.start(api_version=version, **BODY, image_config={"interval": 7})
    assert (started.outcome, started.action, started.version, started.attempts) == (
        "started",
        "StartSnapshot",
        version,
        1,
    )
    assert started.request_id
    t = client.get_task(api_version=version, **IDS).task
    assert t is not None and t.status == TaskStatus.RUNNING and t.end_time == 0 and t.image_config is not None
    assert t.image_config.interval == 7
    client.update(api_version=version, **IDS, image_config={"interval": 30})
    t = client.get_task(api_version=version, **IDS).task
    assert t is not None and t.image_config is not None and t.image_config.interval == 30
    stopped = client.stop(api_version=version, **IDS)
    assert stopped.outcome == "stopped"
    t = client.get_task(api_version=version, **IDS).task
    assert (
        t is not None and t.status == TaskStatus.STOPPED and t.stop_reason == "StopByAPI" and t.end_time > 0
    )
    assert emulator.faults.count(code="OK") == 6


@pytest.mark.parametrize("version", VERSIONS)
def test_duplicate_start_is_already_started(client: SnapshotClient, version: str) -> None:
    assert client.start(api_version=version, **BODY).outcome == "started"
    assert client.start(api_version=version, **BODY).outcome == "already_started"


@pytest.mark.parametrize("version", VERSIONS)
def test_lost_start_response_is_retried_and_already_started(
    client: SnapshotClient, emulator: Emulator, version: str
) -> None:
    emulator.faults.drop_after_commit("StartSnapshot")
    r = client.start(api_version=version, **BODY)
    assert r.outcome == "already_started" and r.attempts == 2
    assert emulator.faults.dropped["StartSnapshot"] == 1
    assert emulator.faults.requests["StartSnapshot"] == 2
    t = client.get_task(api_version=version, **IDS).task
    assert t is not None and t.status == TaskStatus.RUNNING


def test_lost_stop_response_is_already_stopped(client: SnapshotClient, emulator: Emulator) -> None:
    client.start(**BODY)
    emulator.faults.drop_after_commit("StopSnapshot")
    r = client.stop(**IDS)
    assert (r.outcome, r.attempts) == ("already_stopped", 2)
    with pytest.raises(e.TaskNotFoundError):  # a plain second stop is still an error
        client.stop(**IDS)


@pytest.mark.parametrize(
    "code", ["FlowLimitExceeded.QPSOverLimit", "InternalError", "InternalServiceTimeout", "FlowLimitExceeded"]
)
def test_throttling_and_5xx_are_retried(client: SnapshotClient, emulator: Emulator, code: str) -> None:
    emulator.faults.fail("StartSnapshot", code, times=2)
    r = client.start(**BODY)
    assert r.outcome == "started" and r.attempts == 3
    assert emulator.faults.count("StartSnapshot", code) == 2


@pytest.mark.parametrize(
    "code",
    [
        "InvalidParameter",
        "InvalidParameter.IllegalRoomID",
        "AccessDenied.ServiceNotEnabled",
        "SignatureDoesNotMatch",
        "FlowLimitExceeded.TaskNumberOverLimit",
    ],
)
def test_non_retryable_errors_are_sent_once(client: SnapshotClient, emulator: Emulator, code: str) -> None:
    emulator.faults.fail("StartSnapshot", code, times=3)
    with pytest.raises(e.OpenAPIError) as err:
        client.start(**BODY)
    assert err.value.code == code
    assert emulator.faults.requests["StartSnapshot"] == 1


def test_retries_exhausted_raise_the_last_error(make_client: Any, emulator: Emulator) -> None:
    client = make_client(retry=RetryPolicy(attempts=3, base=0.001, cap=0.001))
    emulator.faults.fail("StartSnapshot", "InternalError", times=None)
    with pytest.raises(e.ServerError):
        client.start(**BODY)
    assert emulator.faults.requests["StartSnapshot"] == 3


@pytest.mark.parametrize("code", sorted(codes.ALL))
def test_every_catalogue_code_maps_to_its_exception_with_all_fields(
    make_client: Any, emulator: Emulator, code: str
) -> None:
    client = make_client(retry=RetryPolicy(attempts=1))
    spec = codes.ALL[code]
    emulator.faults.fail("StopSnapshot", code, message=f"injected {code}")
    with pytest.raises(e.OpenAPIError) as err:
        client.stop(api_version="2023-11-01", **IDS)
    exc = err.value
    assert type(exc) is spec.family
    assert (exc.code, exc.code_n, exc.http_status, exc.action, exc.version) == (
        code,
        spec.code_n,
        spec.http_status,
        "StopSnapshot",
        "2023-11-01",
    )
    assert exc.message == f"injected {code}"
    assert exc.request_id and exc.request_id in str(exc)
    assert exc.retryable == (code in codes.RETRYABLE)


def test_error_with_http_200_is_a_failure(make_client: Any, make_emulator: Any) -> None:
    make_emulator(legacy_200_errors=True)
    client = make_client()
    with pytest.raises(e.TaskNotFoundError) as err:
        client.stop(api_version="2022-06-01", **IDS)
    assert err.value.http_status == 200 and err.value.code == "InvalidParameter.ErrorActiveTaskNotFound"


def test_gateway_rejections_from_real_checks(make_client: Any, emulator: Emulator) -> None:
    _ak, sk = next(iter(emulator.config.keys.items()))
    with pytest.raises(e.AuthenticationError) as bad:
        make_client(secret_key=sk + "x").start(**BODY)
    assert (bad.value.code, bad.value.code_n, bad.value.http_status) == ("SignatureDoesNotMatch", 100010, 401)
    with pytest.raises(e.AuthenticationError) as unknown:
        make_client(access_key="AKLTnobody").start(**BODY)
    assert (unknown.value.code, unknown.value.code_n) == ("InvalidAccessKey", 100009)
    assert emulator.faults.requests["StartSnapshot"] == 2, "authentication failures are not retried"


def test_strict_models_catch_what_the_server_would_reset(client: SnapshotClient, emulator: Emulator) -> None:
    with pytest.raises(e.ValidationError) as err:
        client.start(**BODY, image_config={"interval": 0})
    assert err.value.paths == ["ImageConfig.Interval"]
    assert emulator.faults.requests["StartSnapshot"] == 0, "nothing was sent"


def test_version_specific_validation_happens_per_call(client: SnapshotClient, emulator: Emulator) -> None:
    req = StartSnapshotRequest(**BODY, max_idle_time=5)  # fine for 2022-06-01
    with pytest.raises(e.ValidationError, match="MaxIdleTime"):
        client.start(req, api_version="2023-11-01")
    assert client.start(req).outcome == "started"


def test_burst_of_1000_starts_gets_no_qps_rejection(make_client: Any, emulator: Emulator) -> None:
    """Two clients with the same key share one limiter; four threads push 1,000 StartSnapshot calls."""
    clients = [make_client(), make_client()]
    errors: list[BaseException] = []

    def push(c: SnapshotClient, start: int) -> None:
        try:
            for i in range(start, 1000, 4):
                c.start(**{**BODY, "task_id": f"burst-{i}"})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=push, args=(clients[i % 2], i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert emulator.faults.count("StartSnapshot", "FlowLimitExceeded.QPSOverLimit") == 0
    assert emulator.faults.count("StartSnapshot", "OK") == 1000


def test_quota_is_enforced_without_the_limiter(make_client: Any, make_emulator: Any) -> None:
    """Sanity check of the test above: without client-side limiting the emulator does throttle."""
    make_emulator(qps={"GetSnapshotTask": 5})
    client = make_client(share_rate_limit=False, qps={"GetSnapshotTask": 1000}, retry=RetryPolicy(attempts=1))
    client.start(**BODY)
    with pytest.raises(e.ThrottledError):
        for _ in range(20):
            client.get_task(**IDS)
