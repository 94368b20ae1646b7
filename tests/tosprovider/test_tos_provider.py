"""rtcsnap-tos beyond the contract suite: credentials, the SDK's own CRC check, StorageConfig."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rtcsnap import Reason, StorageError
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.tosserver import LocalTOSServer
from rtcsnap_tos import TosProvider

from tests.conftest import run_cli
from tests.tosprovider.test_tos_contract import ACCOUNT, target_for


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "TOS_ACCESS_KEY",
        "TOS_SECRET_KEY",
        "TOS_SECURITY_TOKEN",
        "VOLC_ACCESSKEY",
        "VOLC_SECRETKEY",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("VOLC_ACCOUNT_ID", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_credentials_tos_variables_first_then_the_volcengine_chain(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    t = StorageTarget.parse("tos://b?region=cn-beijing")
    assert TosProvider().resolve(t).credentials is None
    (tmp_path / ".volc").mkdir()
    (tmp_path / ".volc" / "credentials").write_text(
        "[default]\naccess_key_id = AKFILE\nsecret_access_key = secret-from-the-file-0000\n"
    )
    creds = TosProvider().resolve(t).credentials
    assert creds is not None and (creds.access_key, creds.source) == (
        "AKFILE",
        str(tmp_path / ".volc" / "credentials"),
    )
    monkeypatch.setenv("VOLC_ACCESSKEY", "AKVOLC")
    monkeypatch.setenv("VOLC_SECRETKEY", "secret-from-volc-env-0000")
    assert TosProvider().resolve(t).credentials.access_key == "AKVOLC"  # type: ignore[union-attr]
    monkeypatch.setenv("TOS_ACCESS_KEY", "AKTOS")
    monkeypatch.setenv("TOS_SECRET_KEY", "secret-from-tos-env-00000")
    assert TosProvider().resolve(t).credentials.access_key == "AKTOS"  # type: ignore[union-attr]


def test_account_id_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOLC_ACCOUNT_ID", ACCOUNT)
    provider = TosProvider()
    t = provider.resolve(StorageTarget.parse("tos://bkt?region=cn-guangzhou"))
    wire = provider.storage_config(t).to_wire()
    assert wire == {"Type": 0, "TosConfig": {"AccountId": ACCOUNT, "Bucket": "bkt", "Region": 1}}


def test_an_sdk_crc_failure_translates_to_a_retryable_checksum_mismatch(local_tos: LocalTOSServer) -> None:
    """The provider runs the SDK with its CRC off (core hashes every GET once), but an SDK CRC
    error, should one surface, is `checksum_mismatch`, never `other`."""
    from tos.exceptions import TosClientError

    t = target_for(local_tos, "any-bucket", local_tos.admin_credentials)
    with TosProvider().open(TosProvider().resolve(t)) as s:
        err = s.translate(TosClientError("client crc:1 is not equal to tos crc:2"), "get", "k")
    assert err.reason == Reason.CHECKSUM_MISMATCH and err.retryable


def test_a_put_the_service_stored_differently_is_refused(
    local_tos: LocalTOSServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the SDK's CRC off the provider compares the CRC64 the service reports for a PUT."""
    t = target_for(local_tos, local_tos.create_bucket(new_bucket_name("tos")), local_tos.admin_credentials)
    with TosProvider().open(TosProvider().resolve(t)) as s:
        info = s.put("snaps/ok.jpg", b"o" * 3000)
        assert info.checksums["crc64ecma"], "the real server's CRC64 matched what was sent"
        real = s.client.put_object

        def stored_otherwise(*args: object, **kw: object) -> object:
            resp = real(*args, **kw)
            resp.hash_crc64_ecma = 12345  # what a server that received other bytes would say
            return resp

        monkeypatch.setattr(s.client, "put_object", stored_otherwise)
        with pytest.raises(StorageError) as err:
            s.put("snaps/bad.jpg", b"b" * 3000)
    assert err.value.reason == Reason.CHECKSUM_MISMATCH


def test_storage_config_cli_is_the_spec_shape() -> None:
    r = run_cli("storage-config", f"tos://snaps-bkt/rooms?region=ap-southeast-1&account_id={ACCOUNT}")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {
        "Type": 0,
        "TosConfig": {"AccountId": ACCOUNT, "Bucket": "snaps-bkt", "Region": 3},
    }


def test_a_bad_account_id_is_one_line_exit_2() -> None:
    r = run_cli("storage-config", "tos://snaps-bkt?region=cn-beijing&account_id=12ab")
    assert r.returncode == 2 and "account_id" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_target_round_trips_from_a_storage_config() -> None:
    provider = TosProvider()
    t = provider.resolve(StorageTarget.parse(f"tos://bkt?region=cn-shanghai&account_id={ACCOUNT}"))
    back = provider.target_for(provider.storage_config(t))
    assert (back.bucket, back.region, back.options["account_id"]) == ("bkt", "cn-shanghai", ACCOUNT)
