"""The first-hour CLI findings of issue 11 §2, as a new user met them: help when asked for,
configuration mistakes as one line with exit 2 naming what to fix, network failures naming the
URL, and a README whose next command works right after set-up."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT, run_cli

IDS = ["--app-id", "app1", "--room-id", "room1", "--task-id", "t1"]


def no_keys(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "VOLC_ACCESSKEY": "", "VOLC_SECRETKEY": ""}


def test_no_arguments_prints_the_help_as_help(tmp_path: Path) -> None:
    for args in ([], ["emulator"], ["snapshots"]):
        r = run_cli(*args)
        assert r.returncode == 0, r.stderr
        assert r.stdout.startswith("Usage: rtcsnap") and r.stdout.count("\n") > 5  # not one flattened line
        assert "Commands:" in r.stdout and r.stderr == ""


def test_a_malformed_credentials_file_is_a_config_error_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / ".volc").mkdir()
    creds = tmp_path / ".volc" / "credentials"
    creds.write_text("access_key_id = AKLT\n[default]\n")
    r = run_cli("status", *IDS, "--endpoint", "http://127.0.0.1:9", env=no_keys(tmp_path))
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and f"{creds}, line 1" in r.stderr and "Traceback" not in r.stderr


def test_half_a_key_pair_in_the_environment_names_the_missing_half(tmp_path: Path) -> None:
    env = {**no_keys(tmp_path), "VOLC_ACCESSKEY": "AKLTonly"}
    r = run_cli("status", *IDS, "--endpoint", "http://127.0.0.1:9", env=env)
    assert r.returncode == 2 and "VOLC_SECRETKEY is not" in r.stderr, r.stderr


def test_no_credentials_names_what_a_cli_user_can_do(tmp_path: Path) -> None:
    r = run_cli("status", *IDS, "--endpoint", "http://127.0.0.1:9", env=no_keys(tmp_path))
    assert r.returncode == 2, r.stderr
    assert "VOLC_ACCESSKEY and VOLC_SECRETKEY" in r.stderr and "~/.volc/credentials" in r.stderr
    assert "access_key/secret_key" not in r.stderr  # Python parameter names mean nothing on a shell


def test_an_unreachable_endpoint_is_named_in_the_error(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path), "VOLC_ACCESSKEY": "AKLTx", "VOLC_SECRETKEY": "secret-never-sent-0001"}
    r = run_cli("status", *IDS, "--endpoint", "http://127.0.0.1:9", env=env)
    assert r.returncode == 1, r.stderr
    assert "http://127.0.0.1:9" in r.stderr and "ConnectError" in r.stderr and r.stderr.count("\n") == 1


def test_the_readme_names_a_cli_command_that_exists_after_set_up() -> None:
    text = (ROOT / "README.md").read_text()
    named = re.search(r"After set-up the CLI is in the workspace's virtualenv,\s*`([^`]+) --help`", text)
    assert named is not None, "the README must say how to run the CLI after the two set-up commands"
    assert "uv run" not in named.group(1)  # uv may be a module only (python3 -m uv), not on PATH
    assert (ROOT / named.group(1)).is_file()


def test_completion_scripts_and_they_complete_commands() -> None:
    for shell in ("bash", "zsh", "fish"):
        r = run_cli("completion", shell)
        assert r.returncode == 0 and "_RTCSNAP_COMPLETE" in r.stdout, r.stderr
    asked = run_cli(
        "", env={"_RTCSNAP_COMPLETE": "bash_complete", "COMP_WORDS": "rtcsnap snap", "COMP_CWORD": "1"}
    )
    assert asked.stdout.split() == ["plain,snapshots"]
    bad = run_cli("completion", "powershell")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
