"""Console state of apps: existence, ownership (by key or account), snapshot enabled."""

from __future__ import annotations

import pytest
from rtcsnap.emulator import AppConfig, EmulatorServer
from rtcsnap.testing.emulator import EmulatorClient, MakeEmulator

from tests.emulator.helpers import APP, ROOM, TASK, code, start_body, task_body

KEYS = {"AKLTmain": "main-secret", "AKLTsub": "sub-secret", "AKLTother": "other-secret"}


@pytest.fixture
def apps(make_emulator: MakeEmulator) -> None:
    make_emulator(
        keys=KEYS,
        accounts={"AKLTmain": "2100000001", "AKLTsub": "2100000001", "AKLTother": "2100000002"},
        apps={
            APP: AppConfig(owner="2100000001"),
            "by-key": AppConfig(owner="AKLTother"),
            "disabled": AppConfig(owner="2100000001", snapshot_enabled=False),
            "shared": AppConfig(),
        },
    )


def _client(server: EmulatorServer, key: str) -> EmulatorClient:
    return EmulatorClient(server.url, key, KEYS[key])


@pytest.mark.usefixtures("apps")
def test_unknown_app(emulator_server: EmulatorServer) -> None:
    with _client(emulator_server, "AKLTmain") as c:
        resp = c.call("StartSnapshot", start_body(AppId="nope"))
        assert (resp.status_code, code(resp)) == (400, "InvalidParameter.NotExistAppId")
        assert code(c.get_task("nope", ROOM, TASK)) == "InvalidParameter.NotExistAppId"


@pytest.mark.usefixtures("apps")
def test_app_of_another_account(emulator_server: EmulatorServer) -> None:
    with _client(emulator_server, "AKLTother") as c:
        resp = c.call("StartSnapshot", start_body())
        assert (resp.status_code, code(resp)) == (403, "AccessDenied.NoPermissionForApp")
        assert code(c.call("StopSnapshot", task_body())) == "AccessDenied.NoPermissionForApp"
    with _client(emulator_server, "AKLTmain") as c:
        assert code(c.call("StartSnapshot", start_body(AppId="by-key"))) == "AccessDenied.NoPermissionForApp"


@pytest.mark.usefixtures("apps")
def test_owner_by_account_or_key(emulator_server: EmulatorServer) -> None:
    with _client(emulator_server, "AKLTsub") as c:  # same account as AKLTmain
        assert code(c.call("StartSnapshot", start_body())) == "OK"
    with _client(emulator_server, "AKLTother") as c:
        assert code(c.call("StartSnapshot", start_body(AppId="by-key"))) == "OK"
        assert code(c.call("StartSnapshot", start_body(AppId="shared"))) == "OK"


@pytest.mark.usefixtures("apps")
def test_snapshot_not_enabled(emulator_server: EmulatorServer) -> None:
    with _client(emulator_server, "AKLTmain") as c:
        resp = c.call("StartSnapshot", start_body(AppId="disabled"))
        assert (resp.status_code, code(resp)) == (403, "AccessDenied.ServiceNotEnabled")
        assert code(c.get_task("disabled", ROOM, TASK)) == "AccessDenied.ServiceNotEnabled"


@pytest.mark.usefixtures("apps")
def test_app_is_checked_before_the_rest_of_the_body(emulator_server: EmulatorServer) -> None:
    with _client(emulator_server, "AKLTmain") as c:
        resp = c.call("StartSnapshot", start_body(AppId="nope", RoomId="bad room"))
        assert code(resp) == "InvalidParameter.NotExistAppId"


def test_without_apps_any_app_id_works(emulator_client: EmulatorClient) -> None:
    assert code(emulator_client.call("StartSnapshot", start_body(AppId="anything-at-all"))) == "OK"
