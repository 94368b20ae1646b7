"""Issue §3: the config file of named OpenAPI accounts (`--profile`) and storage targets (`@NAME`),
its line-numbered errors, and the write/read keys of a target, run as a user would."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from rtcsnap import profiles
from rtcsnap.emulator import Emulator, EmulatorServer
from rtcsnap.errors import ConfigurationError
from rtcsnap.testing.s3server import LocalS3Server

from tests.conftest import run_cli

IDS = ["--room-id", "room1", "--task-id", "task1"]
WRITE_AK, WRITE_SK = "AKIAWRITEKEY0000001", "write-Secret-0123456789abcdef"
NO_KEYS = {"RTCSNAP_ACCESS_KEY": "", "RTCSNAP_SECRET_KEY": "", "VOLC_ACCESSKEY": "", "VOLC_SECRETKEY": ""}


_TARGETS = """
[targets.evidence]
url = "s3://snaps/rtc?region=us-east-1"
write = { env = ["RTC_WRITE_AK", "RTC_WRITE_SK"] }
read = { env = ["RTC_READ_AK", "RTC_READ_SK"] }
"""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


# -- errors name the file and the line ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "field", "rule"),
    [
        ('[targets.a]\nurl = "s3://b"\nwrite = { env = ["A", "B"]\n', 3, "", "invalid TOML"),
        (
            '[accounts.prod]\nendpoint = "cn"\n\ncolour = "red"\n',
            4,
            "accounts.prod.colour",
            "unknown key (known:",
        ),
        (
            '[accounts.prod]\nregion = "cn-north-1"\napi_version = 2023\n',
            3,
            "accounts.prod.api_version",
            "string",
        ),
        ('[targets.a]\nurl = "s3://b"\n\nread = { env = ["A"] }\n', 4, "targets.a.read.env", "at least 2"),
        (
            '[targets.a]\nurl = "s3://b"\nwrite = { secret_key = "inline-Secret-0123456789" }\n',
            3,
            "targets.a.write.secret_key",
            "inline secrets are not accepted",
        ),
        (
            '[accounts.prod]\nsecret_key = "inline-Secret-0123456789"\n',
            2,
            "accounts.prod.secret_key",
            "inline",
        ),
        ('[targets.a]\nurl = "b"\n', 2, "targets.a.url", "expected SCHEME://BUCKET"),
        ('# ours\n[targets.a]\nwrite = { volc_profile = "w" }\n', 2, "targets.a.url", "Field required"),
    ],
    ids=[
        "bad-toml",
        "unknown-key",
        "wrong-type",
        "short-env",
        "inline-secret",
        "inline-ak",
        "url",
        "missing",
    ],
)
def test_errors_are_line_numbered(tmp_path: Path, text: str, line: int, field: str, rule: str) -> None:
    path = write(tmp_path / "config.toml", text)
    report = profiles.check(path)
    assert not report.ok
    problem = report.problems[0]
    assert (problem.line, problem.field) == (line, field), problem
    assert rule in problem.rule and str(problem).startswith(f"{path}:{line}: ")
    assert "inline-Secret" not in str(problem)
    with pytest.raises(ConfigurationError, match=rf"^{path}:{line}: "):
        profiles.load(path)


def test_config_check_prints_every_error_and_never_the_secret(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        """
        [accounts.prod]
        endpoint = "nowhere"
        credentials = { env = ["AK", "not a name"] }

        [targets.evidence]
        url = "s3://snaps?region=us-east-1"
        write = { access_key = "AKIAINLINE", secret_key = "inline-Secret-0123456789" }
        """,
    )
    r = run_cli("config", "check", env={"RTCSNAP_CONFIG": str(path)})
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.splitlines()
    assert lines[0].startswith(f"{path}:2: accounts.prod.endpoint: expected one of cn, overseas, byteplus")
    assert lines[1].startswith(
        f"{path}:3: accounts.prod.credentials.env[1]: not an environment variable name"
    )
    assert {line.split(": ")[1] for line in lines[2:4]} == {
        "targets.evidence.write.access_key",
        "targets.evidence.write.secret_key",
    }
    assert all(line.startswith(f"{path}:7: ") for line in lines[2:4])
    assert "inline-Secret" not in r.stdout + r.stderr and "not a name" not in r.stdout + r.stderr
    as_json = json.loads(run_cli("config", "check", "--json", env={"RTCSNAP_CONFIG": str(path)}).stdout)
    assert as_json["ok"] is False and [p["line"] for p in as_json["problems"]] == [2, 3, 7, 7]


def test_config_check_ok_warns_about_unset_references(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".volc").mkdir(parents=True)
    (home / ".volc" / "credentials").write_text("[reader]\naccess_key_id = AKR\nsecret_access_key = x\n")
    path = write(
        tmp_path / "config.toml",
        """
        [accounts.prod]
        endpoint = "cn"
        api_version = "2023-11-01"
        credentials = { volc_profile = "default" }

        [targets.evidence]
        url = "tos://snaps/rtc?region=cn-beijing&account_id=2100000000"
        write = { env = ["RTC_WRITE_AK", "RTC_WRITE_SK"] }
        read = { volc_profile = "reader" }
        """,
    )
    env = {"RTCSNAP_CONFIG": str(path), "HOME": str(home), "RTC_WRITE_AK": "AK", "RTC_WRITE_SK": ""}
    r = run_cli("config", "check", env=env)
    assert r.returncode == 0, r.stderr
    assert "account prod: ok (1 warning(s))" in r.stdout and "target @evidence: ok (1 warning(s))" in r.stdout
    assert "write: env RTC_WRITE_AK/RTC_WRITE_SK; read: ~/.volc/credentials [reader]" in r.stdout
    warnings = r.stderr.splitlines()
    assert warnings == [
        f"warning: {path}:4: accounts.prod.credentials: {home}/.volc/credentials has no [default] section",
        f"warning: {path}:8: targets.evidence.write: environment variable RTC_WRITE_SK is not set",
    ]


def test_an_unknown_url_option_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[targets.t]\n\nurl = "s3://snaps?region=us-east-1&colour=red"\n')
    r = run_cli("config", "check", env={"RTCSNAP_CONFIG": str(path)})
    assert r.returncode == 2
    assert r.stderr.startswith(f"{path}:3: targets.t.url: target option 'colour': not understood by provider")


# -- where the file is -------------------------------------------------------------------------------


def test_config_path_honours_rtcsnap_config_then_xdg_then_home(tmp_path: Path) -> None:
    chosen = tmp_path / "elsewhere.toml"
    xdg = tmp_path / "xdg"
    both = {"RTCSNAP_CONFIG": str(chosen), "XDG_CONFIG_HOME": str(xdg), "HOME": str(tmp_path)}
    assert run_cli("config", "path", env=both).stdout.strip() == str(chosen)
    assert run_cli("config", "path", env={**both, "RTCSNAP_CONFIG": ""}).stdout.strip() == str(
        xdg / "rtcsnap" / "config.toml"
    )
    home_only = {"RTCSNAP_CONFIG": "", "XDG_CONFIG_HOME": "", "HOME": str(tmp_path)}
    assert run_cli("config", "path", env=home_only).stdout.strip() == str(
        tmp_path / ".config" / "rtcsnap" / "config.toml"
    )


def test_rtcsnap_config_names_the_file_the_commands_read(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", _TARGETS)
    env = {**NO_KEYS, "RTC_WRITE_AK": WRITE_AK, "RTC_WRITE_SK": WRITE_SK}
    xdg = tmp_path / "xdg" / "rtcsnap"
    xdg.mkdir(parents=True)  # a second file that RTCSNAP_CONFIG overrides: no @evidence in it
    (xdg / "config.toml").write_text('[targets.other]\nurl = "s3://other?region=us-east-1"\n')
    env.update(RTCSNAP_CONFIG=str(tmp_path / "a.toml"), XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    r = run_cli("storage-config", "@evidence", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["CustomConfig"]["Bucket"] == "snaps"
    missing = run_cli("storage-config", "@evidence", env={**env, "RTCSNAP_CONFIG": str(tmp_path / "no.toml")})
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    assert f"no config file at {tmp_path / 'no.toml'}" in missing.stderr


# -- @NAME: the write key where RTC is given one, the read key where rtcsnap reads ------------------


def test_storage_config_uses_the_write_key(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", _TARGETS)
    env = {**NO_KEYS, "RTCSNAP_CONFIG": str(path), "RTC_WRITE_AK": WRITE_AK, "RTC_WRITE_SK": WRITE_SK}
    env.update(RTC_READ_AK="AKIAREADKEY00000001", RTC_READ_SK="read-Secret-0123456789abcdef")
    r = run_cli("storage-config", "@evidence", "--show-secrets", env=env, shows_secrets=True)
    assert r.returncode == 0, r.stderr
    custom = json.loads(r.stdout)["CustomConfig"]
    assert (custom["AccessKey"], custom["SecretKey"], custom["Bucket"]) == (WRITE_AK, WRITE_SK, "snaps")
    assert "warning: the target prefix 'rtc' is not sent" in r.stderr
    # an explicit key beats the target's reference
    explicit = run_cli(
        "storage-config", "@evidence", "--show-secrets", "--access-key", "AKIAEXPLICIT0000001",
        env={**env, "RTCSNAP_SECRET_KEY": "explicit-Secret-0123456789"}, shows_secrets=True,
    )  # fmt: skip
    assert json.loads(explicit.stdout)["CustomConfig"]["AccessKey"] == "AKIAEXPLICIT0000001"


def test_unknown_target_lists_the_known_ones(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", _TARGETS + '\n[targets.backup]\nurl = "s3://b?region=us-east-1"\n')
    r = run_cli("ls", "@evidnce", env={**NO_KEYS, "RTCSNAP_CONFIG": str(path)})
    assert r.returncode == 2
    assert r.stderr == f"error: target @evidnce is not in {path} (targets: @backup, @evidence)\n"


def test_ls_uses_the_read_key_and_verify_all_asks_which(
    local_s3: LocalS3Server, bucket: str, tmp_path: Path
) -> None:
    ak, sk = local_s3.admin_credentials
    local_s3.s3().put_object(Bucket=bucket, Key="rtc/a.jpg", Body=b"jpeg")
    url = f"s3://{bucket}/rtc/?region=us-east-1&endpoint={local_s3.endpoint}"
    path = write(
        tmp_path / "config.toml",
        f"""
        [targets.evidence]
        url = "{url}"
        write = {{ env = ["RTC_WRITE_AK", "RTC_WRITE_SK"] }}
        read = {{ env = ["RTC_READ_AK", "RTC_READ_SK"] }}
        """,
    )
    base = {**NO_KEYS, "RTCSNAP_CONFIG": str(path), "HOME": "/nonexistent", "AWS_CONFIG_FILE": "/dev/null"}
    readable = {**base, "RTC_READ_AK": ak, "RTC_READ_SK": sk}
    readable.update(RTC_WRITE_AK="AKIAUNKNOWNKEY000000", RTC_WRITE_SK="unknown-Secret-0123456789")
    r = run_cli("ls", "@evidence", env=readable)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "rtc/a.jpg\n"
    swapped = {**base, "RTC_WRITE_AK": ak, "RTC_WRITE_SK": sk}
    swapped.update(RTC_READ_AK="AKIAUNKNOWNKEY000000", RTC_READ_SK="unknown-Secret-0123456789")
    denied = run_cli("ls", "@evidence", env=swapped)
    assert denied.returncode == 1 and "unknown_access_key" in denied.stderr
    both = run_cli("verify", "@evidence", env=readable)
    assert both.returncode == 2 and "--for rtc and --for read" in both.stderr
    read = run_cli("verify", "@evidence", "--for", "read", "--no-write-probe", env=readable)
    assert read.returncode == 0, read.stdout + read.stderr


# -- --profile on the OpenAPI commands ---------------------------------------------------------------


@pytest.fixture
def account_env(emulator: Emulator, emulator_server: EmulatorServer, tmp_path: Path) -> dict[str, str]:
    ak, sk = next(iter(emulator.config.keys.items()))
    path = write(
        tmp_path / "config.toml",
        f"""
        [accounts.emu]
        endpoint = "{emulator_server.url}"
        api_version = "2023-11-01"
        app_id = "app1"
        credentials = {{ env = ["EMU_AK", "EMU_SK"] }}

        [targets.snaps]
        url = "s3://snaps-bucket/?region=us-east-1"
        write = {{ env = ["RTC_WRITE_AK", "RTC_WRITE_SK"] }}
        """,
    )
    env = {**NO_KEYS, "RTCSNAP_CONFIG": str(path), "RTCSNAP_ENDPOINT": "", "RTCSNAP_APP_ID": ""}
    env.update(EMU_AK=ak, EMU_SK=sk, RTC_WRITE_AK=WRITE_AK, RTC_WRITE_SK=WRITE_SK, HOME=str(tmp_path))
    return env


def test_profile_drives_start_and_status(account_env: dict[str, str], emulator: Emulator) -> None:
    r = run_cli("start", "--profile", "emu", *IDS, "--storage", "@snaps", env=account_env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("started: app1/room1/task1")
    st = run_cli("status", *IDS, "--json", env={**account_env, "RTCSNAP_PROFILE": "emu"})
    assert st.returncode == 0, st.stderr
    wire = json.loads(st.stdout)
    assert wire["Status"] == 2 and wire["StorageConfig"]["CustomConfig"]["Bucket"] == "snaps-bucket"
    assert emulator.faults.count("StartSnapshot") == 1
    dry = run_cli("status", "--profile", "emu", *IDS, "--dry-run", env=account_env)
    assert dry.stdout.splitlines()[0].startswith(f"GET {_endpoint(account_env)}/?Action=GetSnapshotTask")
    assert "Version=2023-11-01" in dry.stdout.splitlines()[0] and "AppId=app1" in dry.stdout


def _endpoint(env: dict[str, str]) -> str:
    text = Path(env["RTCSNAP_CONFIG"]).read_text()
    return text.split('endpoint = "', 1)[1].split('"', 1)[0]


def test_explicit_options_beat_the_profile(account_env: dict[str, str]) -> None:
    r = run_cli(
        "status", "--profile", "emu", *IDS, "--app-id", "app2", "--api-version", "2022-06-01",
        "--endpoint", "http://127.0.0.1:9", "--dry-run", env=account_env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert first.startswith("GET http://127.0.0.1:9/?Action=GetSnapshotTask")
    assert "Version=2022-06-01" in first and "AppId=app2" in first


def test_unknown_profile_and_missing_app_id_are_one_line_exit_2(account_env: dict[str, str]) -> None:
    r = run_cli("status", "--profile", "nope", *IDS, env=account_env)
    assert r.returncode == 2
    assert r.stderr == f"error: profile 'nope' is not in {account_env['RTCSNAP_CONFIG']} (accounts: emu)\n"
    no_app = run_cli("status", *IDS, env=account_env)
    assert no_app.returncode == 2 and "Missing option '--app-id'" in no_app.stderr
    unset = run_cli("status", "--profile", "emu", *IDS, env={**account_env, "EMU_SK": ""})
    assert unset.returncode == 2 and "accounts.emu.credentials: environment variable EMU_SK is not set" in (
        unset.stderr
    )
