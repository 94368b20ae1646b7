"""``rtcsnap moderate`` as a user runs it (a subprocess): the plugin's command, found through its
entry point, over local files and over a bucket on the local S3 server."""

from __future__ import annotations

import json
from pathlib import Path

from rtcsnap.testing import new_bucket_name
from rtcsnap.testing.s3server import LocalS3Server

from tests.conftest import run_cli
from tests.moderation.helpers import encode, frame, render

RULES = '[moderation]\ndetectors = ["text"]\n[[moderation.text]]\nname = "weapons"\nkeywords = ["buy guns"]\n'


def test_moderate_a_bucket_prefix_prints_every_image_and_a_summary(
    local_s3: LocalS3Server, latin_font: str, tmp_path: Path
) -> None:
    bucket = local_s3.create_bucket(new_bucket_name("modcli"))
    s3 = local_s3.s3()
    s3.put_object(Bucket=bucket, Key="a/1.jpg", Body=render(["BUY GUNS HERE"], latin_font))
    s3.put_object(Bucket=bucket, Key="a/2.jpg", Body=encode(frame()))
    s3.put_object(Bucket=bucket, Key="b/3.jpg", Body=render(["BUY GUNS HERE"], latin_font))
    rules = tmp_path / "rules.toml"
    rules.write_text(RULES)
    ak, sk = local_s3.admin_credentials
    env = {"RTCSNAP_ACCESS_KEY": ak, "RTCSNAP_SECRET_KEY": sk, "RTCSNAP_CONFIG": str(tmp_path / "none.toml")}
    url = f"s3://{bucket}?region=us-east-1&endpoint={local_s3.endpoint}"
    r = run_cli("moderate", url, "--prefix", "a/", "--rules", str(rules), "--json", "-q", env=env)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    by_key = {d["key"]: d for d in lines[:-1]}
    assert set(by_key) == {"a/1.jpg", "a/2.jpg"}, "exactly the prefix"
    assert by_key["a/1.jpg"]["flagged"] and by_key["a/1.jpg"]["fired"] == ["text.weapons"]
    assert not by_key["a/2.jpg"]["flagged"] and by_key["a/2.jpg"]["status"] == "ok"
    assert lines[-1] == {"summary": {"listed": 2, "judged": 2, "flagged": 1, "partial": 0, "failed": 0}}
    human = run_cli("moderate", url, "--rules", str(rules), env=env)
    assert human.returncode == 0, human.stderr
    assert sorted(human.stdout.splitlines()) == [
        "FLAGGED a/1.jpg: text.weapons (buy guns)",
        "FLAGGED b/3.jpg: text.weapons (buy guns)",
    ]
    assert "moderated 3: 2 flagged, 1 clean, 0 failed" in human.stderr


def test_bad_rules_and_bad_usage_are_one_line_exit_2(tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_text('[moderation]\n[[moderation.text]]\nname = "x"\npatterns = ["(bet"]\n')
    image = tmp_path / "f.jpg"
    image.write_bytes(encode(frame()))
    env = {"RTCSNAP_CONFIG": str(tmp_path / "none.toml")}
    r = run_cli("moderate", "--image", str(image), "--rules", str(rules), env=env)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "text[0].patterns[0]" in r.stderr and "regular expression" in r.stderr
    both = run_cli("moderate", "s3://b?region=us-east-1", "--image", str(image), env=env)
    assert both.returncode == 2 and "exactly one of" in both.stderr


def test_config_check_validates_the_plugins_table(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[plugins.moderation]\nworkers = 0\n[[plugins.moderation.text]]\nname = "x"\nkeywords = []\n'
    )
    r = run_cli("config", "check", env={"RTCSNAP_CONFIG": str(config)})
    assert r.returncode == 2, r.stdout + r.stderr
    out = r.stdout + r.stderr
    assert f"{config}:2: plugins.moderation.workers" in out
    assert "plugins.moderation.text[0]: text rule 'x': needs at least one keyword" in out


def test_backlog_runs_the_index_replay(tmp_path: Path) -> None:
    """``moderate --backlog`` is the index's hook replay (the same function as ``snapshots
    replay-hooks``); an empty index has nothing to judge, and it says so as JSON."""
    env = {"RTCSNAP_CONFIG": str(tmp_path / "none.toml")}
    r = run_cli("moderate", "--backlog", "--db", str(tmp_path / "index.db"), "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"replayed": 0, "succeeded": 0, "still_failing": 0}
    missing = run_cli("moderate", "--backlog", env=env)
    assert missing.returncode == 2 and "--backlog needs --db" in missing.stderr
