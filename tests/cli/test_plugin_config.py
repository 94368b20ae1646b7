"""``[plugins.NAME]`` tables in the config file: accepted (free-form for core), handed to a plugin
with line numbers (`profiles.plugin_section`), and checked by ``rtcsnap config check`` through the
plugins' `rtcsnap_check_config` — line-numbered errors, a warning for a table nobody reads."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from rtcsnap import profiles
from rtcsnap.hookspecs import hookimpl
from rtcsnap.providers.manager import ProviderManager

from tests.conftest import FakeDist, run_cli

CONFIG = """\
[targets.evidence]
url = "s3://snaps?region=us-east-1"

[plugins.moderation]
detectors = ["nudity", "text"]

[[plugins.moderation.text]]
name = "gambling"
keywords = ["casino"]

[[plugins.moderation.text]]
name = "weapons"
patterns = ["ok", "("]

[plugins.orphan]
x = 1
"""
PATTERNS_LINE = 13  # the second [[plugins.moderation.text]]'s `patterns =`


class Moderation:
    """A plugin reading ``[plugins.moderation]``: every pattern must compile."""

    __name__ = "moderation"

    @hookimpl
    def rtcsnap_check_config(self, name: str, section: dict[str, Any]) -> list[Any] | None:
        if name != "moderation":
            return None
        problems = []
        for n, rule in enumerate(section.get("text", [])):
            for m, pattern in enumerate(rule.get("patterns", [])):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    problems.append((("text", n, "patterns", m), f"not a regular expression ({exc})"))
        section.clear()  # a plugin mangling its copy changes nothing for the next one
        return problems


class Nosy:
    """Another plugin reading the same table (it finds nothing wrong)."""

    __name__ = "nosy"

    @hookimpl
    def rtcsnap_check_config(self, name: str, section: dict[str, Any]) -> list[Any] | None:
        if name != "moderation":
            return None
        assert section["detectors"] == ["nudity", "text"]  # untouched by the plugin asked before
        return []


class Crashing:
    __name__ = "crashing"

    @hookimpl
    def rtcsnap_check_config(self, name: str) -> list[Any] | None:
        raise RuntimeError("checker exploded")


class Sloppy:
    __name__ = "sloppy"

    @hookimpl
    def rtcsnap_check_config(self, name: str) -> Any:
        return "looks fine" if name == "orphan" else None


def manager_with(*plugins: object) -> ProviderManager:
    mgr = ProviderManager()  # no entry points: only these plugins
    for plugin in plugins:
        mgr.add_plugin(plugin, plugin.__name__)  # type: ignore[attr-defined]
    assert mgr.errors == []
    return mgr


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    return path


def test_plugin_tables_are_accepted_and_other_unknown_tables_still_refused(
    tmp_path: Path, config_file: Path
) -> None:
    config = profiles.load(config_file)
    assert config is not None and set(config.plugins) == {"moderation", "orphan"}
    assert config.plugins["moderation"]["text"][1]["patterns"] == ["ok", "("]
    typo = tmp_path / "typo.toml"
    typo.write_text("[plugin.moderation]\nx = 1\n")
    with pytest.raises(profiles.ConfigFileError) as caught:
        profiles.load(typo)
    problem = caught.value.problems[0]
    assert (problem.line, problem.field) == (
        1,
        "plugin",
    ) and "known: accounts, targets, plugins" in problem.rule
    scalar = tmp_path / "scalar.toml"
    scalar.write_text("[plugins]\nmoderation = 3\n")
    with pytest.raises(profiles.ConfigFileError, match=r"scalar.toml:2: plugins.moderation: .*dictionary"):
        profiles.load(scalar)


def test_plugin_section_gives_the_table_and_where_each_part_is(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(profiles.ENV, str(config_file))
    section = profiles.plugin_section("moderation")  # the config file in use
    assert section.present and section.data["detectors"] == ["nudity", "text"]
    assert (
        section.where(("text", 1, "patterns", 1))
        == f"{config_file}:{PATTERNS_LINE}: plugins.moderation.text[1].patterns[1]"
    )
    assert section.where(("text", 1)) == f"{config_file}:11: plugins.moderation.text[1]"
    assert section.where(("text", 0, "keywords")) == f"{config_file}:9: plugins.moderation.text[0].keywords"
    assert section.where() == f"{config_file}:4: plugins.moderation"
    absent = profiles.plugin_section("thumbnails", profiles.load(config_file))
    assert (absent.present, dict(absent.data)) == (False, {})
    monkeypatch.setenv(profiles.ENV, str(config_file.with_name("missing.toml")))
    none = profiles.plugin_section("moderation")
    assert (none.present, dict(none.data), none.path) == (False, {}, config_file.with_name("missing.toml"))


def test_config_check_asks_the_plugins_and_numbers_their_answers(config_file: Path) -> None:
    report = profiles.check(config_file, manager_with(Moderation(), Nosy()))
    assert not report.ok
    ours = [p for p in report.problems if p.field.startswith("plugins")]  # (the s3 target warns here)
    found = [(p.line, p.field, p.severity, p.rule) for p in ours]
    assert found == [
        (
            PATTERNS_LINE,
            "plugins.moderation.text[1].patterns[1]",
            "error",
            "not a regular expression (missing ), unterminated subpattern at position 0)",
        ),
        (15, "plugins.orphan", "warning", "no installed plugin reads [plugins.orphan]"),
    ]
    assert str(ours[0]).startswith(f"{config_file}:{PATTERNS_LINE}: plugins.moderation.text[1]")
    assert report.readers == {"moderation": ["moderation", "nosy"], "orphan": []}


def test_a_failing_or_malformed_checker_is_an_error_naming_its_plugin(config_file: Path) -> None:
    report = profiles.check(config_file, manager_with(Crashing(), Sloppy()))
    rules = {(p.field, p.rule) for p in report.problems}
    assert (
        "plugins.moderation",
        "plugin 'crashing' failed to check it: RuntimeError: checker exploded",
    ) in rules
    assert (
        "plugins.orphan",
        "plugin 'sloppy': rtcsnap_check_config must return None or a list of (location, rule)",
    ) in rules
    assert not any("no installed plugin reads" in rule for _, rule in rules)  # each was read, badly


def test_without_a_manager_plugin_tables_are_not_judged(config_file: Path) -> None:
    report = profiles.check(config_file)
    assert report.ok and report.problems == [] and report.readers == {}


PLUGIN = """
import re
from rtcsnap.hookspecs import hookimpl

@hookimpl
def rtcsnap_check_config(name, section):
    if name != "moderation":
        return None
    return [
        (("text", n, "patterns", m), "not a regular expression")
        for n, rule in enumerate(section.get("text", []))
        for m, pattern in enumerate(rule.get("patterns", []))
        if pattern == "("
    ]
"""


def test_rtcsnap_config_check_reports_an_installed_plugins_problems(
    fake_dist: FakeDist, config_file: Path
) -> None:
    site = fake_dist("rtcsnap-modcheck", "rtcsnap_modcheck", PLUGIN, ep_name="moderation")
    env = {
        "RTCSNAP_CONFIG": str(config_file),
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        "RTCSNAP_LOAD_PLUGINS": "moderation,s3",  # the fake one (and s3 for the target), nothing else
    }
    r = run_cli("config", "check", env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert (
        f"{config_file}:{PATTERNS_LINE}: plugins.moderation.text[1].patterns[1]: not a regular expression"
        in r.stderr
    )
    assert (
        f"warning: {config_file}:15: plugins.orphan: no installed plugin reads [plugins.orphan]" in r.stderr
    )
    assert "plugin section [plugins.moderation]: error — read by moderation" in r.stdout
    assert "plugin section [plugins.orphan]: ok (1 warning(s)) — read by no installed plugin" in r.stdout
    doc = json.loads(run_cli("config", "check", "--json", env=env).stdout)
    assert {(p["line"], p["field"]) for p in doc["problems"]} == {
        (PATTERNS_LINE, "plugins.moderation.text[1].patterns[1]"),
        (15, "plugins.orphan"),
    }


def test_a_sections_override_replaces_the_config_file_for_every_thread(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How the demo runs plugins self-contained: while the override is active, the file's tables
    are not seen (its moderation table is replaced, a table the override lacks is absent), in any
    thread; an explicit `config` still reads that config; afterwards the file is back."""
    monkeypatch.setenv(profiles.ENV, str(config_file))
    given = {"moderation": {"packs": ["contact"]}}
    seen: dict[str, object] = {}
    with profiles.sections_override(given):
        given["moderation"]["packs"].append("changed later")  # the override keeps its own copy
        worker = threading.Thread(target=lambda: seen.update(m=profiles.plugin_section("moderation")))
        worker.start()
        worker.join()
        section = seen["m"]
        assert isinstance(section, profiles.PluginSection)
        assert (section.present, dict(section.data), section.path) == (True, {"packs": ["contact"]}, None)
        orphan = profiles.plugin_section("orphan")
        assert (orphan.present, dict(orphan.data)) == (False, {})
        assert profiles.plugin_section("orphan", profiles.load(config_file)).present
        with pytest.raises(RuntimeError, match="already overridden"), profiles.sections_override({}):
            pass
    again = profiles.plugin_section("moderation")
    assert again.present and again.data["detectors"] == ["nudity", "text"]
