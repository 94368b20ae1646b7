"""`--json` of every command, run as a user runs it (subprocesses, against the local S3 server, the
emulator and a real SQLite index), checked against the key tables of docs/json-output.md.

The page is the contract: each ``## `rtcsnap CMD` `` section holds one table per output shape
(``### SHAPE`` when a command prints several, e.g. download's object and summary lines) whose
rows are ``| `PATH` [*(when)*] | TYPE [or null] | meaning |``. A command's output must carry
exactly the documented keys (a conditional key may be absent, any other must be there), each of
its documented type, and the run must show every documented key at least once; the page's
examples must match the same tables. So renaming or removing a key in the code, or letting the
page drift, fails here.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pytest
from rtcsnap import secrets
from rtcsnap.callbacks.index import SnapshotIndex
from rtcsnap.callbacks.records import Event, SnapshotRecord
from rtcsnap.testing import new_bucket_name

from tests.conftest import ROOT, run_cli

if TYPE_CHECKING:
    from rtcsnap.testing.s3server import LocalS3Server

DOC = ROOT / "docs" / "json-output.md"
EXE = str(Path(sys.executable).with_name("rtcsnap"))

# -- the page's tables ---------------------------------------------------------------------------

Tokens = tuple[str, ...]
"""A key path as tokens: ``probes[].status`` is ("probes", "[]", "status"), ``accounts.*.region``
("accounts", "*", "region")."""

JSON_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
    "null": lambda v: v is None,
}


@dataclass(frozen=True)
class Key:
    path: str
    tokens: Tokens
    types: frozenset[str]
    when: str | None
    """None: always present; else the condition the Key cell gives."""


@dataclass
class Section:
    """One command of the page: its key table per output shape ("" when it prints one shape)."""

    command: str
    shapes: dict[str, dict[Tokens, Key]] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)


def tokens_of(path: str) -> Tokens:
    out: list[str] = []
    for part in path.split("."):
        if part.endswith("[]"):
            out += [part[:-2], "[]"]
        else:
            out.append(part)
    return tuple(out)


def parse_row(cells: list[str], where: str) -> Key:
    m = re.fullmatch(r"`([^`]+)`\s*(.*)", cells[0])
    assert m, f"{where}: the Key cell must start with the key in backticks: {cells[0]!r}"
    path, when = m.group(1), m.group(2).strip(" *()") or None
    types = frozenset(alt.split()[0] for alt in cells[1].split(" or ") if alt.split())
    unknown = types - set(JSON_TYPES)
    assert types and not unknown, f"{where}: {path}: unknown type(s) {sorted(unknown)} in {cells[1]!r}"
    return Key(path, tokens_of(path), types, when)


def parse_doc(text: str) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    section: Section | None = None
    shape, fence, header = "", None, False
    for n, line in enumerate(text.splitlines(), 1):
        if fence is not None:
            if line.startswith("```"):
                if section is not None and fence[0] == "json":
                    section.examples.append("\n".join(fence[1:]))
                fence = None
            else:
                fence.append(line)
            continue
        if line.startswith("```"):
            fence = [line[3:].strip()]
        elif line.startswith("## "):
            m = re.fullmatch(r"## `(rtcsnap [^`]+)`", line.strip())
            section = sections.setdefault(m.group(1), Section(m.group(1))) if m else None
            shape = ""
        elif line.startswith("### "):
            shape = line[4:].strip()
        elif line.startswith("|") and section is not None:
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
            if cells[0] == "Key":
                header = True
                assert shape not in section.shapes, (
                    f"line {n}: a second table for {section.command} {shape!r}"
                )
                section.shapes[shape] = {}
            elif header and set(cells[0]) <= {"-", ":"}:
                continue
            elif header:
                key = parse_row(cells, f"docs/json-output.md:{n}")
                section.shapes[shape][key.tokens] = key
        else:
            header = False
    return sections


SECTIONS = parse_doc(DOC.read_text(encoding="utf-8"))


def example_documents(block: str) -> list[Any]:
    """A ```json block: one document (maybe indented), or JSON lines."""
    try:
        return [json.loads(block)]
    except json.JSONDecodeError:
        return [json.loads(line) for line in block.splitlines() if line.strip()]


# -- checking a document against a shape ---------------------------------------------------------


def check(value: Any, keys: dict[Tokens, Key], seen: set[Tokens], node: Tokens = ()) -> list[str]:
    """What is wrong with `value` (at the path `node`) against the documented `keys`; every key
    path met goes into `seen`. Recurses only where the page documents deeper keys."""
    depth = len(node)
    below = [k for t, k in keys.items() if len(t) > depth and t[:depth] == node]
    if not below:
        return []
    problems: list[str] = []
    if isinstance(value, list):
        for item in value:
            problems += check(item, keys, seen, (*node, "[]"))
        return problems
    if not isinstance(value, dict):
        return [f"{'.'.join(node) or 'the document'}: expected an object, got {value!r}"]
    if any(k.tokens[depth] == "*" for k in below):
        for item in value.values():
            problems += check(item, keys, seen, (*node, "*"))
        return problems
    children = {k.tokens[depth]: k for k in below if len(k.tokens) == depth + 1}
    for name, item in value.items():
        key = children.get(name)
        if key is None:
            problems.append(f"undocumented key {'.'.join((*node, name))}")
            continue
        seen.add(key.tokens)
        if not any(JSON_TYPES[t](item) for t in key.types):
            problems.append(f"{key.path}: {item!r} is not {' or '.join(sorted(key.types))}")
        problems += check(item, keys, seen, key.tokens)
    problems += [
        f"missing key {k.path}" for name, k in children.items() if k.when is None and name not in value
    ]
    return problems


def download_shape(doc: dict[str, Any]) -> str:
    return "Summary line" if "summary" in doc else f"Object line: {doc.get('status')}"


SHAPE_OF: dict[str, Callable[[dict[str, Any]], str]] = {
    "rtcsnap download": download_shape,
    "rtcsnap snapshots download": download_shape,
}


def check_documents(command: str, docs: list[Any], *, full: bool) -> None:
    """`docs` against the command's tables; `full`: every shape and every key was met."""
    section = SECTIONS[command]
    shape_of = SHAPE_OF.get(command, lambda _doc: "")
    seen: dict[str, set[Tokens]] = {}
    problems: list[str] = []
    for doc in docs:
        assert isinstance(doc, dict), f"{command}: not a JSON object: {doc!r}"
        shape = shape_of(doc)
        assert shape in section.shapes, f"{command}: no table for the shape {shape!r} of {doc!r}"
        problems += [
            f"[{shape or 'output'}] {p}"
            for p in check(doc, section.shapes[shape], seen.setdefault(shape, set()))
        ]
    assert not problems, f"{command} vs docs/json-output.md:\n" + "\n".join(problems)
    if full:
        assert set(seen) == set(section.shapes), (
            f"{command}: shapes never printed: {set(section.shapes) - set(seen)}"
        )
        for shape, keys in section.shapes.items():
            unseen = [k.path for t, k in keys.items() if t not in seen[shape]]
            assert not unseen, f"{command} [{shape or 'output'}]: documented but never printed: {unseen}"


# -- the page covers every command ---------------------------------------------------------------


def json_commands() -> set[str]:
    """Every command of the click tree with a --json option, by its full name."""
    from rtcsnap.cli.commands import app

    found: set[str] = set()

    def walk(cmd: click.Command, path: str) -> None:
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                walk(sub, f"{path} {name}")
        elif any(p.name == "as_json" for p in cmd.params):
            found.add(path)

    walk(app, "rtcsnap")
    return found


ALWAYS_JSON = {"rtcsnap emulator storage"}  # prints its one JSON line without a flag


def test_the_page_documents_every_json_command() -> None:
    assert set(SECTIONS) == json_commands() | ALWAYS_JSON
    assert set(SECTIONS) == set(RUNS), "every documented command is run below"
    for section in SECTIONS.values():
        assert section.shapes and all(section.shapes.values()), f"{section.command}: no key table"


@pytest.mark.parametrize("command", sorted(SECTIONS))
def test_the_examples_match_the_tables(command: str) -> None:
    docs = [d for block in SECTIONS[command].examples for d in example_documents(block)]
    assert docs, f"{command}: no ```json example"
    check_documents(command, docs, full=False)
    shapes = {SHAPE_OF.get(command, lambda _doc: "")(d) for d in docs}
    assert shapes == set(SECTIONS[command].shapes), f"{command}: a shape without an example"


def test_the_checker_catches_drift() -> None:
    """A renamed key, a missing key and a wrong type are each reported."""
    keys = SECTIONS["rtcsnap snapshots replay-hooks"].shapes[""]
    good = {"replayed": 1, "succeeded": 1, "still_failing": 0}
    assert check(good, keys, set()) == []
    renamed = {"replayed": 1, "succeeded": 1, "still_failing_events": 0}
    assert check(renamed, keys, set()) == [
        "undocumented key still_failing_events",
        "missing key still_failing",
    ]
    assert check({**good, "replayed": "1"}, keys, set()) == ["replayed: '1' is not integer"]


# -- running the commands ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """A bucket of the session's S3 server and an index of one task's callbacks: two images
    present, one announced but not stored, one stored but not announced."""

    url: str
    db: str


PRESENT, MISSING = "rtc/app1/room1/t1/alice_0_1000.jpg", "rtc/app1/room1/t1/alice_0_2000.jpg"
INDEXED = {
    PRESENT: b"alice, one",
    "rtc/app1/room1/t1/bob_1_1000.png": b"bob's screen",
    MISSING: b"announced, never stored",
}
STRAY = "rtc/app1/room1/t1/stray.jpg"
TASK = "app1/room1/t1"


def _record(n: int, key: str, size: int, bucket: str) -> tuple[Event, list[SnapshotRecord]]:
    event = Event(
        f"ev{n}", "SnapshotRealTimeData", "app1", "2024-01-01T00:00:00Z", "2023-11-01", None, "{}", "{}"
    )
    user, stream, stamp = key.rsplit("/", 1)[1].split(".")[0].split("_")
    fmt = 1 if key.endswith(".png") else 0
    record = SnapshotRecord(
        event.event_id, "app1", None, "room1", "t1", user, int(stream), None, bucket, None, key, None,
        fmt, 16, 16, size, int(stamp),
    )  # fmt: skip
    return event, [record]


@pytest.fixture(scope="module")
def stored(local_s3: LocalS3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stored]:
    bucket = local_s3.create_bucket(new_bucket_name("json"))
    s3 = local_s3.s3()
    for key, body in INDEXED.items():
        if key != MISSING:
            s3.put_object(Bucket=bucket, Key=key, Body=body)
    s3.put_object(Bucket=bucket, Key=STRAY, Body=b"no callback announced me")
    db = tmp_path_factory.mktemp("json-index") / "index.db"
    index = SnapshotIndex(str(db))
    try:
        index.store([_record(n, k, len(v), bucket) for n, (k, v) in enumerate(INDEXED.items())], 1.0)
    finally:
        index.close()
    yield Stored(f"s3://{bucket}?region=us-east-1&endpoint={local_s3.endpoint}", str(db))


def base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("VOLC_", "RTCSNAP_"))}


@dataclass(frozen=True)
class Served:
    ready: dict[str, Any]
    url: str


@contextmanager
def serving(args: list[str], log: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A long-running command, as a user starts it; yields it and the first line it printed (its
    ready line), and ends it with SIGTERM."""
    with log.open("w") as err:
        proc = subprocess.Popen([EXE, *args], stdout=subprocess.PIPE, stderr=err, text=True, env=env)
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()  # printed once it serves (empty: it died)
            assert line, f"rtcsnap {' '.join(args[:2])} printed no ready line: {log.read_text()[-2000:]}"
            yield proc, line
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


@pytest.fixture(scope="module")
def served_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`rtcsnap emulator serve --port 0 --json` for the module."""
    tmp = tmp_path_factory.mktemp("json-emulator")
    args = ["emulator", "serve", "--port", "0", "--json", "-q", "--access-key", "AKLTJSONSCHEMA"]
    args += ["--secret-key", "json-schema-emulator-secret", "--backup-dir", str(tmp / "backup")]
    with serving(args, tmp / "emulator.log", base_env()) as (proc, line):
        ready = json.loads(line)
        assert ready["pid"] == proc.pid
        yield Served(ready, ready["endpoint"])


class Fixtures:
    """The test's fixtures, asked for by the command that needs them (so `providers` starts no server)."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request

    def __call__(self, name: str) -> Any:
        return self._request.getfixturevalue(name)


def one(r: subprocess.CompletedProcess[str], code: int = 0) -> list[Any]:
    """The one JSON document on stdout (all of it: it may be indented over several lines)."""
    assert r.returncode == code, r.stdout + r.stderr
    return [json.loads(r.stdout)]


def lines(r: subprocess.CompletedProcess[str], code: int = 0) -> list[Any]:
    """JSON lines: every line of stdout is one document."""
    assert r.returncode == code, r.stdout + r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert docs and r.stdout.endswith("\n"), r.stdout
    return docs


def s3_url(fx: Fixtures, prefix: str = "") -> str:
    local_s3 = fx("local_s3")
    return f"s3://{fx('bucket')}/{prefix}?region=us-east-1&endpoint={local_s3.endpoint}"


def run_providers(fx: Fixtures) -> list[Any]:
    return one(run_cli("providers", "--json"))


def run_storage_config(fx: Fixtures) -> list[Any]:
    docs = one(run_cli("storage-config", s3_url(fx, "rtc/"), "--json", env=fx("creds")))
    assert docs[0]["warnings"]  # the prefix is not sent
    return docs


def run_verify(fx: Fixtures) -> list[Any]:
    return one(run_cli("verify", s3_url(fx), "--json", env=fx("creds")))


def run_ls(fx: Fixtures) -> list[Any]:
    docs = lines(run_cli("ls", fx("stored").url, "--json", env=fx("creds")))
    assert len(docs) == 3
    return docs


def run_download(fx: Fixtures) -> list[Any]:
    stored, creds, dest = fx("stored"), fx("creds"), str(fx("tmp_path") / "dl")
    first = lines(run_cli("download", stored.url, dest, "--json", env=creds))  # downloaded
    keys = ["--key", PRESENT, "--key", MISSING]
    again = lines(
        run_cli("download", stored.url, dest, *keys, "--json", env=creds), code=1
    )  # skipped, failed
    return first + again


IDS = ["--app-id", "app1", "--room-id", "room1", "--task-id", "json1"]
STORAGE = ["--storage", "s3://snaps-bucket?region=us-east-1"]


def openapi_env(fx: Fixtures) -> dict[str, str]:
    emulator, server = fx("emulator"), fx("emulator_server")
    ak, sk = next(iter(emulator.config.keys.items()))
    return {
        "VOLC_ACCESSKEY": ak,
        "VOLC_SECRETKEY": sk,
        "RTCSNAP_ENDPOINT": server.url,
        "RTCSNAP_ACCESS_KEY": "AKIAJSONSTORAGEKEY",
        "RTCSNAP_SECRET_KEY": "json-storage-Secret-0123456789",
        "HOME": str(fx("tmp_path")),
    }


def started(fx: Fixtures) -> dict[str, str]:
    env = openapi_env(fx)
    r = run_cli("start", *IDS, *STORAGE, "--interval", "3", env=env)
    assert r.returncode == 0, r.stderr
    return env


def run_start(fx: Fixtures) -> list[Any]:
    return one(run_cli("start", *IDS, *STORAGE, "--json", env=openapi_env(fx)))


def run_update(fx: Fixtures) -> list[Any]:
    return one(run_cli("update", *IDS, "--interval", "5", "--json", env=started(fx)))


def run_stop(fx: Fixtures) -> list[Any]:
    return one(run_cli("stop", *IDS, "--json", env=started(fx)))


def run_status(fx: Fixtures) -> list[Any]:
    return one(run_cli("status", *IDS, "--json", env=started(fx)))


def run_config_check(fx: Fixtures) -> list[Any]:
    path = fx("tmp_path") / "config.toml"
    path.write_text(
        textwrap.dedent(
            """
            [accounts.emu]
            endpoint = "http://127.0.0.1:9"
            app_id = "app1"
            credentials = { env = ["JSON_SCHEMA_AK", "JSON_SCHEMA_SK"] }

            [targets.evidence]
            url = "s3://snaps?region=us-east-1"
            write = { env = ["JSON_SCHEMA_WRITE_AK", "JSON_SCHEMA_WRITE_SK"] }
            """
        )
    )
    env = {"RTCSNAP_CONFIG": str(path), "JSON_SCHEMA_AK": "AKLTJSON", "JSON_SCHEMA_SK": "x" * 20}
    docs = one(run_cli("config", "check", "--json", env=env))  # warnings only: the write key is unset
    assert docs[0]["problems"] and docs[0]["ok"]
    return docs


def run_snapshots_list(fx: Fixtures) -> list[Any]:
    db = fx("stored").db
    index = SnapshotIndex(db)
    try:  # an analysis plugin's verdict on the first image (an upsert: the shared index is unchanged else)
        first = index.snapshots(limit=1).items[0]["id"]
        index.record_verdict(
            first,
            "moderation",
            status="ok",
            flagged=True,
            fired=["text.weapons"],
            labels=["text.weapons"],
            details={"findings": [{"detector": "text", "text": ["BUY GUNS HERE"]}]},
        )
    finally:
        index.close()
    docs = lines(run_cli("snapshots", "list", "--db", db, "--json"))
    assert len(docs) == 3 and [len(d["verdicts"]) for d in docs] == [1, 0, 0]
    return docs


def run_manifest(fx: Fixtures) -> list[Any]:
    stored = fx("stored")
    args = ["--db", stored.db, "--task", TASK, "--storage", stored.url, "--json"]
    docs = one(run_cli("snapshots", "manifest", *args, env=fx("creds")), code=1)  # one image missing
    assert docs[0]["counts"] == {"indexed": 3, "present": 2, "missing": 1, "size_mismatch": 0, "unindexed": 1}
    return docs


def run_snapshots_download(fx: Fixtures) -> list[Any]:
    stored, creds, dest = fx("stored"), fx("creds"), str(fx("tmp_path") / "images")
    args = [
        "snapshots",
        "download",
        "--db",
        stored.db,
        "--task",
        TASK,
        "--storage",
        stored.url,
        dest,
        "--json",
    ]
    first = lines(run_cli(*args, env=creds), code=1)  # downloaded, and the missing one failed
    again = lines(run_cli(*args, env=creds), code=1)  # skipped
    return first + again


def run_replay_hooks(fx: Fixtures) -> list[Any]:
    db = fx("tmp_path") / "replay.db"
    SnapshotIndex(str(db)).close()
    return one(run_cli("snapshots", "replay-hooks", "--db", str(db), "--json"))


def run_callbacks_serve(fx: Fixtures) -> list[Any]:
    tmp = fx("tmp_path")
    env = {**base_env(), "RTCSNAP_CALLBACK_SECRET": "json-schema-callback-secret"}
    args = ["callbacks", "serve", "--db", str(tmp / "cb.db"), "--port", "0", "--json", "-q"]
    with serving(args, tmp / "callbacks.log", env) as (proc, line):
        doc = json.loads(line)
        assert doc["pid"] == proc.pid
        return [doc]


def run_emulator_serve(fx: Fixtures) -> list[Any]:
    return [fx("served_emulator").ready]


def run_emulator_storage(fx: Fixtures) -> list[Any]:
    tmp = fx("tmp_path")
    env = {**base_env(), "HOME": str(tmp)}
    with serving(["emulator", "storage", "oss", "--bucket", "json-schema-bucket"], tmp / "oss.log", env) as (
        _,
        line,
    ):
        doc = json.loads(line)
        secrets.register(doc["secret_key"], doc["keys"]["write_only"][1], doc["keys"]["read_only"][1])
        return [doc]


def run_room_list(fx: Fixtures) -> list[Any]:
    url = fx("served_emulator").url
    published = run_cli("emulator", "room", "publish", "app1", "jsonroom", "alice", "--endpoint", url)
    assert published.returncode == 0, published.stderr
    return one(run_cli("emulator", "room", "list", "app1", "jsonroom", "--json", "--endpoint", url))


def run_provider_new(fx: Fixtures) -> list[Any]:
    target = fx("tmp_path") / "rtcsnap-minio"
    return one(run_cli("provider", "new", "minio", "--s3-compatible", "--dir", str(target), "--json"))


RUNS: dict[str, Callable[[Fixtures], list[Any]]] = {
    "rtcsnap providers": run_providers,
    "rtcsnap storage-config": run_storage_config,
    "rtcsnap verify": run_verify,
    "rtcsnap ls": run_ls,
    "rtcsnap download": run_download,
    "rtcsnap start": run_start,
    "rtcsnap update": run_update,
    "rtcsnap stop": run_stop,
    "rtcsnap status": run_status,
    "rtcsnap config check": run_config_check,
    "rtcsnap snapshots list": run_snapshots_list,
    "rtcsnap snapshots manifest": run_manifest,
    "rtcsnap snapshots download": run_snapshots_download,
    "rtcsnap snapshots replay-hooks": run_replay_hooks,
    "rtcsnap callbacks serve": run_callbacks_serve,
    "rtcsnap emulator serve": run_emulator_serve,
    "rtcsnap emulator storage": run_emulator_storage,
    "rtcsnap emulator room list": run_room_list,
    "rtcsnap provider new": run_provider_new,
}


@pytest.mark.parametrize("command", sorted(SECTIONS))
def test_the_output_matches_the_page(command: str, request: pytest.FixtureRequest) -> None:
    assert command in RUNS, f"{command} is documented but never run here"
    check_documents(command, RUNS[command](Fixtures(request)), full=True)
