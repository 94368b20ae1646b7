"""The storage commands as a new user and a hostile tester found them (subprocess, real HTTP)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from rtcsnap.storage.verify import PROBE_DIR

from tests.conftest import run_cli

if TYPE_CHECKING:
    from rtcsnap.testing.s3server import LocalS3Server

WRITE_ONLY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}],
}


def url(local_s3: LocalS3Server, bucket: str, prefix: str = "", region: str | None = "us-east-1") -> str:
    query = f"region={region}&" if region else ""
    return f"s3://{bucket}/{prefix}?{query}endpoint={local_s3.endpoint}"


def keys_in(local_s3: LocalS3Server, bucket: str) -> list[str]:
    return [o["Key"] for o in local_s3.s3().list_objects_v2(Bucket=bucket).get("Contents", [])]


# -- ls ------------------------------------------------------------------------------------------


def test_ls_escapes_control_characters_and_summarises(
    local_s3: LocalS3Server, bucket: str, creds: dict[str, str]
) -> None:
    s3 = local_s3.s3()
    s3.put_object(Bucket=bucket, Key="evil\x1b[31mred.jpg", Body=b"x" * 1000)
    s3.put_object(Bucket=bucket, Key="bell\x07\x9b.jpg", Body=b"y" * 1048)
    s3.put_object(Bucket=bucket, Key="plain é.jpg", Body=b"z")
    r = run_cli("ls", url(local_s3, bucket), env=creds)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout
    assert r.stdout.splitlines() == ["bell\\x07\\x9b.jpg", "evil\\x1b[31mred.jpg", "plain é.jpg"]
    assert r.stderr.strip() == "3 objects, 2049 bytes (2.0 KiB)"


# -- download ------------------------------------------------------------------------------------


def test_download_summary_adds_up_and_json_tells_each_object(
    local_s3: LocalS3Server, bucket: str, creds: dict[str, str], tmp_path: Path
) -> None:
    plain = local_s3.s3(request_checksum_calculation="when_required")
    plain.put_object(Bucket=bucket, Key="a.jpg", Body=b"a" * 10)
    plain.put_object(Bucket=bucket, Key="kms.jpg", Body=b"k" * 10, ServerSideEncryption="aws:kms")
    plain.put_object(Bucket=bucket, Key="f/", Body=b"")
    plain.put_object(Bucket=bucket, Key="g/", Body=b"not empty")
    r = run_cli("download", url(local_s3, bucket), str(tmp_path / "d"), env=creds)
    assert r.returncode == 1, "one key failed"
    counts, _, pace = r.stdout.strip().partition(" in ")
    assert counts == (
        "listed 4: downloaded 2, skipped 1 (0 complete, 1 folder markers), failed 1 "
        "(1 unverified: no checksum); 20 bytes (20 B)"
    )
    assert re.fullmatch(r"\d+\.\d s, \d+ B/s", pace), pace
    assert r.stderr.startswith("failed: g/: unmappable_key:")
    j = run_cli("download", url(local_s3, bucket), str(tmp_path / "d"), "--json", env=creds)
    lines = [json.loads(line) for line in j.stdout.splitlines()]
    per_key = {d["key"]: d for d in lines[:-1]}
    assert per_key["a.jpg"] == {
        "key": "a.jpg", "status": "skipped", "path": "a.jpg", "size": 10,
        "verified": True, "checksum": "md5", "reason": "complete",
    }  # fmt: skip
    assert per_key["kms.jpg"]["verified"] is False and per_key["kms.jpg"]["checksum"] is None
    assert per_key["f/"]["reason"] == "folder_marker"
    assert per_key["g/"]["status"] == "failed" and per_key["g/"]["reason"] == "unmappable_key"
    seconds = lines[-1]["summary"].pop("seconds")
    assert isinstance(seconds, float) and seconds >= 0
    assert lines[-1] == {
        "summary": {
            "listed": 4, "downloaded": 0, "skipped": 3, "skipped_complete": 2, "skipped_folder_markers": 1,
            "failed": 1, "unverified": 1, "bytes": 0,
        }
    }  # fmt: skip


def test_download_into_an_unusable_dest_is_a_usage_error_before_any_get(
    local_s3: LocalS3Server, bucket: str, creds: dict[str, str], tmp_path: Path
) -> None:
    local_s3.s3().put_object(Bucket=bucket, Key="a.jpg", Body=b"a")
    (tmp_path / "file").write_text("x")
    before = local_s3.faults.count("GET", bucket)
    r = run_cli("download", url(local_s3, bucket), str(tmp_path / "file" / "dest"), env=creds)
    assert r.returncode == 2
    assert (
        len(r.stderr.strip().splitlines()) == 1 and "destination" in r.stderr and "Traceback" not in r.stderr
    )
    assert local_s3.faults.count("GET", bucket) == before


# -- targets -------------------------------------------------------------------------------------


def test_endpoint_without_scheme_is_a_usage_error_with_a_hint(creds: dict[str, str]) -> None:
    r = run_cli("ls", "s3://bucket?region=us-east-1&endpoint=localhost:9555", env=creds)
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "http://localhost:9555" in r.stderr


def test_storage_config_warns_that_the_prefix_is_not_sent(
    local_s3: LocalS3Server, bucket: str, creds: dict[str, str]
) -> None:
    r = run_cli("storage-config", url(local_s3, bucket, "snaps/room1"), env=creds)
    assert r.returncode == 0
    assert "Prefix" not in r.stdout and json.loads(r.stdout)["CustomConfig"]["Bucket"] == bucket
    assert len(r.stderr.strip().splitlines()) == 1 and "'snaps/room1' is not sent" in r.stderr
    quiet = run_cli("storage-config", url(local_s3, bucket), env=creds)
    assert quiet.stderr == ""


# -- verify --------------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["mars-1", None])
def test_verify_never_calls_a_target_rtc_cannot_use_fit(
    local_s3: LocalS3Server, bucket: str, creds: dict[str, str], region: str | None
) -> None:
    r = run_cli("verify", url(local_s3, bucket, region=region), "--for", "rtc", env=creds)
    assert r.returncode == 1, r.stdout
    line = next(line for line in r.stdout.splitlines() if line.startswith("fit for RTC"))
    assert line.startswith("fit for RTC (write): no — ") and "egion" in line


def test_verify_write_only_key_shows_expected_denials(
    local_s3: LocalS3Server, bucket: str, creds: dict[str, str]
) -> None:
    ak, sk = local_s3.create_user(f"w-{bucket}", WRITE_ONLY)
    env = {**creds, "RTCSNAP_ACCESS_KEY": ak, "RTCSNAP_SECRET_KEY": sk}
    r = run_cli("verify", url(local_s3, bucket), "--for", "rtc", env=env)
    assert r.returncode == 0, r.stdout
    assert "leaves it behind" in r.stderr and "--no-write-probe" in r.stderr, "said before probing"
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.split()}
    assert rows["write"].split()[1] == "ok"
    for capability in ("read", "list"):
        assert rows[capability].split()[1] == "denied" and "expected for a write-only key" in rows[capability]
    assert "fit for RTC (write): yes" in r.stdout
    assert "reason:" not in r.stdout, "no reason line when the key is fit for the use asked"
    read = run_cli("verify", url(local_s3, bucket), "--for", "read", env=env)
    assert read.returncode == 1 and "reason: permission_denied" in read.stdout


def test_verify_no_write_probe_writes_nothing(
    local_s3: LocalS3Server, bucket: str, creds: dict[str, str]
) -> None:
    ak, sk = local_s3.create_user(f"w2-{bucket}", WRITE_ONLY)
    env = {**creds, "RTCSNAP_ACCESS_KEY": ak, "RTCSNAP_SECRET_KEY": sk}
    with_probe = run_cli("verify", url(local_s3, bucket), "--for", "rtc", env=env)
    assert with_probe.returncode == 0
    assert [k.startswith(PROBE_DIR) for k in keys_in(local_s3, bucket)] == [True], (
        "the probe a write-only key leaves"
    )
    local_s3.s3().delete_object(Bucket=bucket, Key=keys_in(local_s3, bucket)[0])
    r = run_cli("verify", url(local_s3, bucket), "--no-write-probe", "--for", "rtc", env=env)
    assert keys_in(local_s3, bucket) == []
    assert "fit for RTC (write): not checked (--no-write-probe)" in r.stdout
    assert r.returncode == 1 and r.stderr == ""


# -- logs ----------------------------------------------------------------------------------------


def test_verbose_sdk_logs_never_show_the_session_token(local_s3: LocalS3Server, bucket: str) -> None:
    ak, sk = local_s3.admin_credentials
    token = "FQoGZXIvYXdzEXAMPLE-session-token-0123456789abcdef"
    env = {
        "AWS_ACCESS_KEY_ID": ak,
        "AWS_SECRET_ACCESS_KEY": sk,
        "AWS_SESSION_TOKEN": token,
        "HOME": "/nonexistent",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    for flags in (["-vv"], ["--debug", "-vv"]):
        r = run_cli(*flags, "ls", url(local_s3, bucket), env=env)
        assert "x-amz-security-token" in r.stderr, "botocore's canonical request was logged"
        assert token not in r.stderr and token not in r.stdout
        assert sk not in r.stderr
    debug = run_cli("--debug", "ls", url(local_s3, bucket), env=env)
    logged = [line.split()[1] for line in debug.stderr.splitlines() if line.startswith("DEBUG ")]
    assert logged and all(name.startswith("rtcsnap") for name in logged), "--debug: rtcsnap's own log only"
