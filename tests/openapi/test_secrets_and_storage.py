"""Secrets in what a prepared request shows, the secret registry, and `start(storage=target)`."""

from __future__ import annotations

from typing import Any

import pytest
from rtcsnap import errors as e
from rtcsnap import secrets
from rtcsnap.emulator import Emulator
from rtcsnap.openapi.client import AsyncSnapshotClient, SnapshotClient
from rtcsnap.storage import resolve
from rtcsnap.target import StorageTarget
from rtcsnap.testing import new_bucket_name
from rtcsnap.volc_credentials import resolve_credentials

from tests.openapi.conftest import BODY

STORAGE_SECRET = "stor-SECRET-abcdef0123456789"
TOKEN = "the-session-token-0123456789"
IDS: dict[str, Any] = {"app_id": "app1", "room_id": "room1", "task_id": "task1"}
WRITE_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}],
}


def _ids() -> dict[str, Any]:
    """BODY without its storage_config (the storage target provides it)."""
    return {k: v for k, v in BODY.items() if k != "storage_config"}


def _custom_body() -> dict[str, Any]:
    custom = {
        "vendor": 0,
        "region": "us-east-1",
        "bucket": "b",
        "access_key": "AKIAX",
        "secret_key": STORAGE_SECRET,
    }
    return {**BODY, "storage_config": {"type": 2, "custom_config": custom}}


# --------------------------------------------------------------------------- SignedRequest repr


def test_signed_request_repr_masks_body_secrets_token_and_signature(
    make_client: Any, make_emulator: Any
) -> None:
    make_emulator(keys={"AKLTsts": "sts-secret-value"}, sessions={"AKLTsts": TOKEN})
    client = make_client(access_key="AKLTsts", secret_key="sts-secret-value", session_token=TOKEN)
    prepared = client.prepare("StartSnapshot", **_custom_body())
    signature = prepared.headers["Authorization"].rsplit("Signature=", 1)[1]
    for text in (repr(prepared), str(prepared), f"{prepared}", repr([prepared])):
        assert STORAGE_SECRET not in text and TOKEN not in text and signature not in text, text
        assert "Credential=AKLTsts/" in text and "X-Security-Token" in text and '"Bucket":"b"' in text
    assert STORAGE_SECRET.encode() in prepared.body, "only the rendering is masked, never the wire body"
    assert client.start(**_custom_body()).outcome == "started", "and the real request still works"


def test_signed_request_repr_of_a_get(client: SnapshotClient) -> None:
    prepared = client.prepare("GetSnapshotTask", **IDS)
    signature = prepared.headers["Authorization"].rsplit("Signature=", 1)[1]
    assert signature not in repr(prepared) and "AppId=app1" in repr(prepared) and "body=b''" in repr(prepared)


# --------------------------------------------------------------------------- the registry


def test_openapi_credentials_are_registered_as_secrets(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client(secret_key="explicit-secret-0123456789", session_token="explicit-token-0123456789")
    assert {"explicit-secret-0123456789", "explicit-token-0123456789"} <= secrets.registered()
    monkeypatch.setenv("VOLC_ACCESSKEY", "AKLTenv")
    monkeypatch.setenv("VOLC_SECRETKEY", "env-secret-0123456789")
    monkeypatch.setenv("VOLC_SESSION_TOKEN", "env-token-0123456789")
    resolve_credentials()
    assert {"env-secret-0123456789", "env-token-0123456789"} <= secrets.registered()
    assert secrets.redact("sk=env-secret-0123456789") == "sk=***"


# --------------------------------------------------------------------------- start(storage=...)


def _target(
    url: str = "s3://snaps/rtc?region=us-east-1", ak: str = "AKIASTORAGE", sk: str = STORAGE_SECRET
) -> StorageTarget:
    return StorageTarget.parse(url, access_key=ak, secret_key=sk)


@pytest.mark.parametrize("as_url", [False, True], ids=["target", "url"])
def test_start_with_a_storage_target_builds_its_storage_config(
    client: SnapshotClient, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, as_url: bool
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIASTORAGE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", STORAGE_SECRET)
    storage: StorageTarget | str = "s3://snaps/rtc?region=us-east-1" if as_url else _target()
    ids = _ids()
    assert client.start(storage=storage, **ids).outcome == "started"
    (task,) = emulator.registry.tasks()
    custom = task.storage_config.custom_config
    assert custom is not None and (custom.bucket, custom.access_key.get_secret_value()) == (
        "snaps",
        "AKIASTORAGE",
    )


def test_storage_and_storage_config_are_mutually_exclusive(
    client: SnapshotClient, emulator: Emulator
) -> None:
    _, t = resolve(_target())
    with pytest.raises(TypeError, match=r"storage=.*storage_config"):
        client.start(storage=t, **BODY)
    from rtcsnap.models import StartSnapshotRequest

    with pytest.raises(TypeError, match=r"storage=.*storage_config"):
        client.start(StartSnapshotRequest(**BODY), storage=t)
    with pytest.raises(TypeError, match="verify_storage=True"):
        client.start(storage=t, verify_storage=t, **_ids())
    assert emulator.faults.requests["StartSnapshot"] == 0


def test_verify_storage_probes_exactly_the_given_target(
    client: SnapshotClient, emulator: Emulator, local_s3: Any
) -> None:
    """The target's endpoint survives: a StorageConfig alone would send the probes to AWS."""
    bucket = new_bucket_name("rtc")
    local_s3.create_bucket(bucket)
    ak, sk = local_s3.create_user(f"w-{bucket}", WRITE_ONLY)
    target = _target(f"s3://{bucket}/rtc?region=us-east-1&endpoint={local_s3.endpoint}", ak, sk)
    ids = _ids()
    assert client.start(storage=target, verify_storage=True, **ids).outcome == "started"
    provider, t = resolve(target)
    with pytest.raises(e.StorageError) as rebuilt:  # the old way: the endpoint is lost on the way
        client.start(
            storage_config=provider.storage_config(t), verify_storage=True, **{**ids, "task_id": "t2"}
        )
    assert local_s3.endpoint not in str(rebuilt.value)
    assert emulator.faults.requests["StartSnapshot"] == 1


def test_a_failed_verification_names_the_target_and_the_reason(
    client: SnapshotClient, emulator: Emulator
) -> None:
    target = _target("s3://snaps/rtc?region=us-east-1&endpoint=http://127.0.0.1:9")
    ids = _ids()
    with pytest.raises(e.StorageError) as err:
        client.start(storage=target, verify_storage=True, **ids)
    text = str(err.value)
    assert err.value.reason is e.Reason.NETWORK
    assert target.url in text and "http://127.0.0.1:9" in text and "network" in text
    assert "StartSnapshot not sent" in text and STORAGE_SECRET not in text
    assert emulator.faults.requests["StartSnapshot"] == 0


async def test_async_start_takes_the_storage_target_too(
    aclient_kwargs: dict[str, Any], emulator: Emulator
) -> None:
    target = _target("s3://snaps/rtc?region=us-east-1&endpoint=http://127.0.0.1:9")
    ids = _ids()
    async with AsyncSnapshotClient(**aclient_kwargs) as client:
        assert (await client.start(storage=_target(), **ids)).outcome == "started"
        with pytest.raises(e.StorageError, match=r"127\.0\.0\.1:9"):
            await client.start(storage=target, verify_storage=True, **{**ids, "task_id": "t2"})
        with pytest.raises(TypeError, match="storage_config"):
            await client.start(storage=target, **BODY)
    assert emulator.faults.requests["StartSnapshot"] == 1
