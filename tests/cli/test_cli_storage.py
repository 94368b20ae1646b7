"""The `rtcsnap` CLI as a user runs it (a subprocess) against the local S3 server over HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rtcsnap.storage.destination import RESERVED, TMP
from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.s3server import LocalS3Server

from tests.conftest import run_cli

N_OBJECTS = 500


def body(i: int) -> bytes:
    return hashlib.sha256(f"snap-{i}".encode()).digest() * (64 + i % 50)


def url(local_s3: LocalS3Server, bucket: str, prefix: str = "") -> str:
    return f"s3://{bucket}/{prefix}?region=us-east-1&endpoint={local_s3.endpoint}"


def no_secret(r: subprocess.CompletedProcess[str], secret: str) -> None:
    assert secret not in r.stdout and secret not in r.stderr


def test_verify_all_ok(local_s3, bucket, creds) -> None:
    r = run_cli("verify", url(local_s3, bucket), env=creds)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {line.split()[0]: line.split()[1] for line in r.stdout.splitlines()[1:7] if line.split()}
    assert rows == {
        "capability": "status",
        "reachable": "ok",
        "write": "ok",
        "read": "ok",
        "list": "ok",
        "delete": "ok",
    }
    assert "fit for RTC (write): yes" in r.stdout and "fit for retrieval (read+list): yes" in r.stdout
    no_secret(r, creds["RTCSNAP_SECRET_KEY"])


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("bad_secret", "bad_secret"),
        ("unknown_key", "unknown_access_key"),
        ("missing_bucket", "bucket_missing"),
    ],
)
def test_verify_reports_three_distinct_reasons(local_s3, bucket, creds, case: str, reason: str) -> None:
    env = dict(creds)
    target = url(local_s3, bucket)
    if case == "bad_secret":
        env["RTCSNAP_SECRET_KEY"] = "definitely-not-the-secret"
    elif case == "unknown_key":
        env["RTCSNAP_ACCESS_KEY"] = "AKIAUNKNOWNKEY000000"
    else:
        target = url(local_s3, new_bucket_name("missing"))
    r = run_cli("verify", target, env=env)
    assert r.returncode == 1
    assert f"reason: {reason} —" in r.stdout
    assert "fit for RTC (write): no" in r.stdout
    no_secret(r, env["RTCSNAP_SECRET_KEY"])


def test_verify_write_only_key_is_fit_for_rtc_only(local_s3, bucket, creds) -> None:
    ak, sk = local_s3.create_user(
        f"writer-{bucket}",
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "*"}],
        },
    )
    env = {**creds, "RTCSNAP_ACCESS_KEY": ak, "RTCSNAP_SECRET_KEY": sk}
    rtc = run_cli("verify", url(local_s3, bucket), "--for", "rtc", env=env)
    assert rtc.returncode == 0, rtc.stdout
    assert "fit for RTC (write): yes" in rtc.stdout and "fit for retrieval (read+list): no" in rtc.stdout
    assert "probe object left behind" in rtc.stdout
    read = run_cli("verify", url(local_s3, bucket), "--for", "read", env=env)
    assert read.returncode == 1


def test_storage_config_masks_secrets_unless_asked(local_s3, bucket, creds) -> None:
    r = run_cli("storage-config", url(local_s3, bucket), env=creds)
    assert r.returncode == 0, r.stderr
    wire = json.loads(r.stdout)
    assert wire == {
        "Type": 2,
        "CustomConfig": {
            "Vendor": 0,
            "Region": 0,
            "Bucket": bucket,
            "AccessKey": "******",
            "SecretKey": "******",
        },
    }
    no_secret(r, creds["RTCSNAP_SECRET_KEY"])
    shown = json.loads(
        run_cli(
            "storage-config", url(local_s3, bucket), "--show-secrets", env=creds, shows_secrets=True
        ).stdout
    )
    assert shown["CustomConfig"]["SecretKey"] == creds["RTCSNAP_SECRET_KEY"]


def test_storage_config_json_carries_the_config_and_its_warnings(local_s3, bucket, creds) -> None:
    r = run_cli("storage-config", url(local_s3, bucket, "rtc/"), "--json", env=creds)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["provider"] == "s3" and doc["type"] == 2
    assert doc["storage_config"]["CustomConfig"]["Bucket"] == bucket
    assert doc["storage_config"]["CustomConfig"]["SecretKey"] == "******"
    assert len(doc["warnings"]) == 1 and "'rtc/'" in doc["warnings"][0]
    assert "warning" not in r.stderr  # machine-readable only: not twice
    no_secret(r, creds["RTCSNAP_SECRET_KEY"])
    plain = run_cli("storage-config", url(local_s3, bucket, "rtc/"), env=creds)
    assert json.loads(plain.stdout) == doc["storage_config"] and "'rtc/' is not sent" in plain.stderr


def test_storage_config_validation_error_is_one_line_exit_2(local_s3, bucket, creds) -> None:
    r = run_cli(
        "storage-config", f"s3://{bucket}?region=eu-central-1", env=creds
    )  # code 7: unsupported by RTC
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and "Region" in r.stderr, r.stderr
    r = run_cli("storage-config", f"s3://{bucket}?regoin=us-east-1", env=creds)
    assert r.returncode == 2 and "regoin" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("download", env=creds)
    assert (
        r.returncode == 2 and r.stderr.startswith("usage error:") and len(r.stderr.strip().splitlines()) == 1
    )


def test_debug_shows_traceback(local_s3, bucket, creds) -> None:
    r = run_cli("--debug", "storage-config", f"s3://{bucket}?regoin=x", env=creds)
    assert r.returncode != 0 and "Traceback" in r.stderr


def seed(local_s3: LocalS3Server, bucket: str, n: int) -> dict[str, bytes]:
    s3 = local_s3.s3()
    objects = {f"snaps/room1/{i:05d}.jpg": body(i) for i in range(n)}
    for k, v in objects.items():
        s3.put_object(Bucket=bucket, Key=k, Body=v)
    return objects


def test_ls_streams_keys(local_s3, bucket, creds) -> None:
    objects = seed(local_s3, bucket, 7)
    r = run_cli("ls", url(local_s3, bucket), "snaps/", "--page-size", "3", env=creds)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == sorted(objects)
    long = run_cli("ls", url(local_s3, bucket), "-l", env=creds).stdout.splitlines()
    assert [int(line.split()[0]) for line in long] == [len(objects[k]) for k in sorted(objects)]
    as_json = [
        json.loads(line)
        for line in run_cli("ls", url(local_s3, bucket), "--json", env=creds).stdout.splitlines()
    ]
    assert [(o["key"], o["size"]) for o in as_json] == [(k, len(objects[k])) for k in sorted(objects)]
    assert all(o["etag"] and o["last_modified"] for o in as_json)


def test_download_500_then_rerun_skips(local_s3, bucket, creds, tmp_path: Path) -> None:
    objects = seed(local_s3, bucket, N_OBJECTS)
    dest = tmp_path / "out"
    r = run_cli("download", url(local_s3, bucket, "snaps"), str(dest), "-j", "16", env=creds)
    assert r.returncode == 0, r.stderr
    assert f"downloaded {N_OBJECTS}, skipped 0" in r.stdout
    assert re.search(r"bytes \([\d.]+ (KiB|MiB)\) in \d+\.\d s, [\d.]+ (B|KiB|MiB|GiB)/s$", r.stdout.strip())
    for k, v in objects.items():
        assert (dest / k.removeprefix("snaps/")).read_bytes() == v
    again = run_cli("download", url(local_s3, bucket, "snaps"), str(dest), env=creds)
    assert f"downloaded 0, skipped {N_OBJECTS}" in again.stdout


def test_download_killed_midway_leaves_no_partial_file_and_resumes(
    local_s3, bucket, creds, tmp_path: Path
) -> None:
    objects = seed(local_s3, bucket, N_OBJECTS)
    stall_key = sorted(objects)[N_OBJECTS // 2]
    local_s3.faults.clear()  # counts start here: earlier tests fetched keys of the same names
    local_s3.faults.slow(f"{bucket}/{stall_key}", seconds=120)  # half the body, then the server stalls
    dest = tmp_path / "out"
    exe = Path(sys.executable).with_name("rtcsnap")
    proc = subprocess.Popen(
        [str(exe), "download", url(local_s3, bucket), str(dest), "-j", "1", "-q"],
        env={**os.environ, **creds},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def stalled() -> bool:  # wait on state: the stalled GET was answered and its temp file exists
            tmp = dest / RESERVED / TMP
            stalled_get = local_s3.faults.count("GET", f"{bucket}/{stall_key}") > 0
            return stalled_get and tmp.exists() and any(tmp.iterdir())

        deadline = time.monotonic() + 240  # generous: a loaded CI machine is slow, never wrong
        while not stalled() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stalled(), f"download never reached the stalled object (exit code {proc.poll()})"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        local_s3.faults.clear()
    finals = [p for p in dest.rglob("*") if p.is_file() and RESERVED not in p.relative_to(dest).parts]
    assert 0 < len(finals) < N_OBJECTS
    for p in finals:
        assert p.read_bytes() == objects[p.relative_to(dest).as_posix()], (
            f"partial content under final name {p}"
        )
    assert not (dest / stall_key).exists()
    r = run_cli("download", url(local_s3, bucket), str(dest), "-j", "8", env=creds)
    assert r.returncode == 0, r.stderr
    summary = re.search(r"downloaded (\d+), skipped (\d+)", r.stdout)
    assert summary is not None, r.stdout
    downloaded, skipped = int(summary[1]), int(summary[2])
    assert downloaded + skipped == N_OBJECTS
    # finished files are skipped, but for journal records still queued at the SIGKILL (a few at most)
    assert len(finals) - 2 <= skipped <= len(finals)
    assert not list((dest / RESERVED / TMP).iterdir()), "the stale temp file is cleaned on re-run"
    for k, v in objects.items():
        assert (dest / k).read_bytes() == v


def test_remote_failure_exit_1_one_line(local_s3, creds, tmp_path: Path) -> None:
    r = run_cli("ls", url(local_s3, new_bucket_name("nope")), env=creds)
    assert r.returncode == 1
    assert len(r.stderr.strip().splitlines()) == 1 and "bucket_missing" in r.stderr


def test_providers_lists_s3(creds) -> None:
    r = run_cli("providers", env=creds)
    assert r.returncode == 0
    row = next(line for line in r.stdout.splitlines() if line.startswith("s3 "))
    assert "s3://" in row and "rtcsnap-s3" in row and "checksum:md5" in row


def test_providers_lists_all_seven_with_their_storage_config_identity(creds) -> None:
    r = run_cli("providers", env=creds)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    rows = {line.split()[0]: line.split() for line in r.stdout.splitlines()[1:] if line.strip()}
    expected = {"s3": ("2", "0"), "oss": ("2", "1"), "obs": ("2", "2"), "cos": ("2", "3"), "kodo": ("2", "4")}
    expected |= {"tos": ("0", "-"), "veimagex": ("3", "-")}
    assert {name: (row[2], row[3]) for name, row in rows.items()} == expected
    assert all(rows[name][5] == f"rtcsnap-{name}" for name in expected)
    doc = json.loads(run_cli("providers", "--json", env=creds).stdout)
    as_json = {p["name"]: (p["storage_type"], p["vendor"], p["plugin"]) for p in doc["providers"]}
    assert as_json == {
        name: (int(t), None if v == "-" else int(v), f"rtcsnap-{name}") for name, (t, v) in expected.items()
    }
    assert doc["errors"] == []


def test_verify_json_is_one_object_with_every_probe(local_s3, bucket, creds) -> None:
    ok = run_cli("verify", url(local_s3, bucket), "--json", env=creds)
    doc = json.loads(ok.stdout)
    assert ok.returncode == 0 and ok.stdout.count("\n") == 1
    assert [p["capability"] for p in doc["probes"]] == ["reachable", "write", "read", "list", "delete"]
    assert {p["status"] for p in doc["probes"]} == {"ok"} and doc["fit"] is True and doc["reason"] is None
    assert doc["fit_for_rtc"] is True and doc["fit_for_retrieval"] is True and doc["provider"] == "s3"
    missing = run_cli("verify", url(local_s3, new_bucket_name("missing")), "--json", env=creds)
    gone = json.loads(missing.stdout)
    assert missing.returncode == 1 and gone["fit"] is False and gone["reason"] == "bucket_missing"
    no_secret(ok, creds["RTCSNAP_SECRET_KEY"])
