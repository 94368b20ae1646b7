"""`rtcsnap snapshots manifest` and `rtcsnap snapshots download`: one task's images, as its
callbacks announced them (issue 10 §3).

The index, not the listing, decides which objects belong to a task (the key layout is
undocumented), so `download` fetches exactly the indexed keys through core's `download` (atomic,
verified, resumable) with an explicit path per key; `manifest` says what storage holds of them.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.progress import (
    Progress,
)

from rtcsnap import profiles
from rtcsnap.cli.app import EXIT_OK, EXIT_REMOTE, manager
from rtcsnap.cli.helptext import TargetCommand, examples
from rtcsnap.cli.snapshots import snapshots_group
from rtcsnap.cli.storage import (
    concurrency_option,
    credential_options,
    download_columns,
    err,
    human,
    json_printer,
    pace,
    printable,
)
from rtcsnap.models import ID_PATTERN
from rtcsnap.target import StorageTarget

_ID = re.compile(ID_PATTERN)


def parse_task(value: str) -> tuple[str, str, str]:
    """APP/ROOM/TASK: exactly three non-empty parts, each an RTC ID."""
    parts = value.split("/")
    if len(parts) != 3 or not all(parts):
        raise click.BadParameter(
            f"{value!r}: expected APP/ROOM/TASK (three non-empty parts)", param_hint="--task"
        )
    for what, part in zip(("app", "room", "task"), parts, strict=True):
        if _ID.fullmatch(part) is None:
            raise click.BadParameter(f"{what} id {part!r} must match {ID_PATTERN}", param_hint="--task")
    return parts[0], parts[1], parts[2]


def _task(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, str, str]:
    return parse_task(value)


DB = click.option("--db", required=True, help="Index database: a SQLite file path or a SQLAlchemy URL.")
TASK = click.option("--task", required=True, callback=_task, metavar="APP/ROOM/TASK", help="The task.")
STORAGE = click.option(
    "--storage",
    metavar="TARGET",
    help="Where the task stored its images: a URL or @NAME (its read key); default: the target "
    "rtcsnap started it with, from the task log.",
)


def storage_target(
    storage: str | None, task: tuple[str, str, str], access_key: str | None, secret_key: str | None
) -> StorageTarget:
    """--storage (a URL or @NAME, with its read key), or the target the task log recorded when
    rtcsnap's client started the task."""
    if storage is None:
        from rtcsnap.tasklog import ENV, TaskLog

        log = TaskLog.default()
        if log is None:
            raise click.UsageError(f"--storage is required: the task log is off ({ENV})")
        entry = log.lookup(*task)
        if entry is None:
            raise click.UsageError(
                f"--storage is required: task {'/'.join(task)} is not in the task log {log.path} "
                "(it records tasks started with rtcsnap start --storage / client.start(storage=…))"
            )
        storage = entry.storage
    return profiles.resolve_target(storage, "read", access_key=access_key, secret_key=secret_key)


def _open_index(db: str) -> Any:
    from rtcsnap.callbacks.index import SnapshotIndex

    return SnapshotIndex(db)


@snapshots_group.command(
    "manifest",
    cls=TargetCommand,
    epilog=examples(
        "rtcsnap snapshots manifest --db index.db --task app1/room1/task1",
        "rtcsnap snapshots manifest --db index.db --task app1/room1/task1 --storage @evidence --json",
        "rtcsnap snapshots manifest --db postgresql+psycopg://u@db/snaps --task A/R/T --prefix rtc/A/",
    ),
)
@DB
@TASK
@STORAGE
@click.option(
    "--prefix", default=None, help="List this prefix (relative to TARGET) instead of the keys' common one."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON document: counts and every object.")
@credential_options
def manifest_cmd(
    db: str,
    task: tuple[str, str, str],
    storage: str | None,
    prefix: str | None,
    as_json: bool,
    access_key: str | None,
    secret_key: str | None,
) -> int:
    """Reconcile TASK's indexed images with the storage listing: present, missing, unindexed."""
    from rtcsnap.callbacks.manifest import manifest

    target = storage_target(storage, task, access_key, secret_key)
    index = _open_index(db)
    try:
        m = manifest(index, *task, target, prefix=prefix, manager=manager())
    finally:
        index.close()
    if as_json:
        print(json.dumps(m.to_json(), ensure_ascii=False))
        return EXIT_OK if m.complete else EXIT_REMOTE
    for e in m.missing:
        sizes = (
            f" (indexed {e.indexed_size} bytes, stored {e.stored_size})" if e.stored_size is not None else ""
        )
        print(f"missing: {printable(e.key)}: {e.reason}{sizes}")
    for e in m.unindexed:
        print(f"unindexed: {printable(e.key)} ({e.stored_size} bytes)")
    c = m.counts
    listed = "nothing listed" if m.prefix is None else f"listed {printable(m.prefix) or '(whole target)'}"
    print(
        f"task {'/'.join(task)}: {c['indexed']} indexed, {c['present']} present, {c['missing']} missing "
        f"({c['size_mismatch']} size mismatch), {c['unindexed']} unindexed; {listed}"
    )
    return EXIT_OK if m.complete else EXIT_REMOTE


@snapshots_group.command(
    "download",
    cls=TargetCommand,
    epilog=examples(
        "rtcsnap snapshots download --db index.db --task app1/room1/task1 ./images",
        "rtcsnap snapshots download --db index.db --task A/R/T --storage @evidence ./images --layout key -j 16",
        "rtcsnap snapshots download --db index.db --task A/R/T ./images -q --json > report.jsonl",
    ),
)
@DB
@TASK
@STORAGE
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--layout",
    type=click.Choice(["stream", "key"]),
    default="stream",
    show_default=True,
    help="stream: DEST/USER/STREAMTYPE/TIMESTAMP.EXT; key: DEST/OBJECT_KEY.",
)
@concurrency_option("Images downloaded at once.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON line per object on stdout, then a summary line."
)
@credential_options
def download_cmd(
    db: str,
    task: tuple[str, str, str],
    storage: str | None,
    dest: Path,
    layout: str,
    concurrency: int,
    quiet: bool,
    as_json: bool,
    access_key: str | None,
    secret_key: str | None,
) -> int:
    """Download exactly TASK's indexed images into DEST (verified, atomic; a re-run skips what an
    earlier run verified). Exit 1 if any image failed, e.g. ``not_found`` in storage."""
    from rtcsnap.callbacks.manifest import local_path, record_key, task_records
    from rtcsnap.storage import download
    from rtcsnap.storage.transfer import ProgressEvent

    target = storage_target(storage, task, access_key, secret_key)
    index = _open_index(db)
    try:
        rows = list(task_records(index, *task))
    finally:
        index.close()
    objects = [(record_key(r), local_path(r, "key" if layout == "key" else "stream")) for r in rows]
    total = sum(int(r["size"]) for r in rows)
    show = not quiet and not as_json and err.is_terminal
    json_line = json_printer()
    columns = download_columns()
    with Progress(*columns, console=err, disable=not show) as bar:
        bar_task = bar.add_task(f"0/{len(objects)} images", total=total)
        files = 0

        def on_event(ev: ProgressEvent) -> None:
            nonlocal files
            if as_json:
                json_line(ev)
            if not show:
                return
            if ev.kind in ("bytes", "skipped"):
                bar.advance(bar_task, ev.size)
            if ev.kind in ("done", "skipped", "failed"):
                files += 1
                bar.update(bar_task, description=f"{files}/{len(objects)} images")

        started = time.monotonic()
        report = download(
            target,
            dest,
            objects=objects,
            concurrency=concurrency,
            progress=on_event if (show or as_json) else None,
            manager=manager(),
        )
    seconds = time.monotonic() - started
    summary = {
        "indexed": len(objects),
        "downloaded": len(report.downloaded),
        "skipped": len(report.skipped),
        "failed": len(report.failed),
        "unverified": len(report.unverified),
        "bytes": report.bytes,
        "seconds": round(seconds, 3),
    }
    if as_json:
        print(json.dumps({"summary": summary}))
        return EXIT_OK if report.ok else EXIT_REMOTE
    for f in report.failed:
        print(f"failed: {printable(f.key)}: {f.reason.value}: {printable(f.message)}", file=sys.stderr)
    unverified = f" ({len(report.unverified)} unverified: no checksum)" if report.unverified else ""
    print(
        f"task {'/'.join(task)}: {len(objects)} images: downloaded {len(report.downloaded)}, skipped "
        f"{len(report.skipped)}, failed {len(report.failed)}{unverified}; {report.bytes} bytes "
        f"({human(report.bytes)}) {pace(report.bytes, seconds)}"
    )
    return EXIT_OK if report.ok else EXIT_REMOTE


__all__ = ["download_cmd", "manifest_cmd", "parse_task", "snapshots_group"]
