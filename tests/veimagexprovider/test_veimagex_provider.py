"""rtcsnap-veimagex beyond the contract suite: SDK state isolation, error parsing, StorageConfig."""

from __future__ import annotations

import pytest
from rtcsnap import Reason, StorageError
from rtcsnap.target import StorageTarget
from rtcsnap.testing.imagexserver import LocalImageXServer
from rtcsnap_veimagex import VeImageXProvider
from rtcsnap_veimagex.provider import _parse

from tests.conftest import run_cli
from tests.veimagexprovider.test_veimagex_contract import ACCOUNT, target_for

pytestmark = pytest.mark.usefixtures("isolated_volc_env")


@pytest.fixture
def isolated_volc_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    for name in ("VOLC_ACCESSKEY", "VOLC_SECRETKEY", "VOLC_ACCOUNT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_two_sessions_never_share_credentials_or_host(local_imagex: LocalImageXServer) -> None:
    """The SDK's ServiceInfo is a module-level singleton (sdk-lab pitfall 8)."""
    sid = local_imagex.create_service()
    reader = local_imagex.key(["Read", "List"])
    writer = local_imagex.key(["Write"])
    provider = VeImageXProvider()
    a = provider.open(target_for(local_imagex, sid, reader.credentials))
    b_target = target_for(local_imagex, sid, writer.credentials).replace(endpoint="http://127.0.0.2:9")
    b = provider.open(b_target)
    assert a.svc.service_info is not b.svc.service_info
    assert a.svc.service_info.credentials.ak == reader.access_key
    assert b.svc.service_info.credentials.ak == writer.access_key
    assert a.svc.service_info.host != b.svc.service_info.host
    local_imagex.put_file(sid, "rooms/a.jpg", b"aa")
    assert [o.key for o in a.list_page("rooms/", None, 10).items] == ["rooms/a.jpg"], "a still lists"
    with pytest.raises(StorageError) as err:  # b's host is nowhere: a network failure, not a's server
        b.list_page("rooms/", None, 10)
    assert err.value.reason == Reason.NETWORK


def test_the_environment_does_not_override_given_keys(
    local_imagex: LocalImageXServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = local_imagex.create_service()
    monkeypatch.setenv("VOLC_ACCESSKEY", "AKLTFROMTHEENVIRONMENT0000")
    monkeypatch.setenv("VOLC_SECRETKEY", "secret-from-the-environment-000")
    with VeImageXProvider().open(target_for(local_imagex, sid, local_imagex.admin_credentials)) as s:
        s.head_bucket()  # signed with the target's key, not VOLC_*
        assert s.svc.service_info.credentials.ak == local_imagex.admin.access_key


@pytest.mark.parametrize(
    "raw",
    [
        '{"ResponseMetadata": {"Error": {"Code": "SignatureDoesNotMatch"}}}',
        b'{"ResponseMetadata": {"Error": {"Code": "SignatureDoesNotMatch"}}}',
        'GetImageService failed, b\'{"ResponseMetadata": {"Error": {"Code": "SignatureDoesNotMatch"}}}\'',
        'GetImageService failed, {"ResponseMetadata": {"Error": {"Code": "SignatureDoesNotMatch"}}}',
    ],
    ids=["get-str", "post-bytes", "prefixed-bytes-repr", "prefixed-str"],
)
def test_every_shape_of_sdk_failure_is_parsed(raw: str | bytes) -> None:
    assert _parse(raw)["ResponseMetadata"]["Error"]["Code"] == "SignatureDoesNotMatch"


def test_storage_config_cli_is_the_spec_shape() -> None:
    r = run_cli("storage-config", f"veimagex://svcid12345?region=ap-singapore-1&account_id={ACCOUNT}")
    assert r.returncode == 0, r.stderr
    import json

    assert json.loads(r.stdout) == {
        "Type": 3,
        "VeImageXConfig": {"AccountId": ACCOUNT, "ServiceId": "svcid12345", "Region": 1},
    }


def test_storage_config_needs_the_account_id() -> None:
    r = run_cli("storage-config", "veimagex://svcid12345?region=cn-north-1")
    assert r.returncode == 2 and "account_id" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_target_round_trips_from_a_storage_config() -> None:
    provider = VeImageXProvider()
    t = StorageTarget.parse(f"veimagex://svcid12345?region=ap-singapore-1&account_id={ACCOUNT}")
    config = provider.storage_config(provider.resolve(t))
    back = provider.target_for(config)
    assert (back.bucket, back.region, back.options["account_id"]) == ("svcid12345", "ap-singapore-1", ACCOUNT)
