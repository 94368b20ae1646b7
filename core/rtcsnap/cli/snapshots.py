"""`rtcsnap snapshots`: the snapshot index from the shell — `list` (issue 10 §2) and `replay-hooks` (§4).

`list` walks the index's keyset pages (`SnapshotIndex.snapshots(after=…)`), printing each page before
fetching the next, so memory stays one page whatever the index holds and a pipe into `head` stops
early. Verdicts of analysis plugins come with each page (`with_verdicts`), and `--flagged` /
`--label` filter on them in SQL, so they paginate like any other filter. The group is shared:
`rtcsnap.cli.snapshots_task` adds `manifest` and `download` to `snapshots_group`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click

from rtcsnap.cli.app import EXIT_OK, EXIT_REMOTE, app, manager
from rtcsnap.cli.helptext import examples
from rtcsnap.cli.storage import print_table

DB_HELP = "Index URL (sqlite:///x.db, postgresql+psycopg://…) or a SQLite file path."
TIME_HELP = "Unix time in ms, or an ISO 8601 / RFC 3339 time (no zone: UTC)."


@app.group(
    "snapshots",
    epilog=examples(
        "rtcsnap snapshots list --db snaps.db --task-id task1 --since 2024-05-01T12:00:00Z",
        "rtcsnap snapshots manifest --db snaps.db --task app1/room1/task1",
        "rtcsnap snapshots download --db snaps.db --task app1/room1/task1 ./images",
    ),
)
def snapshots_group() -> None:
    """The snapshot index: list records, replay hooks, a task's manifest and download."""


def parse_time(value: str, option: str) -> int:
    """`value` as Unix milliseconds: digits are milliseconds already; otherwise an ISO 8601 time,
    `Z` or an offset, naive meaning UTC. A usage error names the option and both accepted forms."""
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: expected Unix milliseconds or an ISO 8601 time such as 2024-05-01T12:00:00Z",
            param_hint=option,
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else parse_time(value, "--since")


def _until(_ctx: click.Context, _param: click.Parameter, value: str | None) -> int | None:
    return None if value is None else parse_time(value, "--until")


def _iso_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def verdict_cell(verdicts: list[dict[str, Any]]) -> str:
    """A row's verdicts in one cell: ``SOURCE: flagged RULE,RULE`` (or ``SOURCE: ok``, ``partial``,
    ``error``) per source, ``; ``-separated; ``-`` when there is none."""
    parts = []
    for v in verdicts:
        word = "flagged" if v["flagged"] else v["status"]
        rules = ",".join(v["fired"])
        parts.append(f"{v['source']}: {word}" + (f" {rules}" if rules else ""))
    return "; ".join(parts) or "-"


def _table(items: list[dict[str, Any]], header: bool, verdicts: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(box=None, show_header=header, pad_edge=False)
    for name, justify in (
        ("TIME", "left"),
        ("APP", "left"),
        ("ROOM", "left"),
        ("TASK", "left"),
        ("USER", "left"),
        ("TYPE", "right"),
        ("SIZE", "right"),
        ("WxH", "right"),
        ("OBJECT", "left"),
        *((("VERDICT", "left"),) if verdicts else ()),
    ):
        table.add_column(name, justify=justify, no_wrap=True)
    for item in items:
        table.add_row(
            _iso_ms(item["timestamp_ms"]),
            escape(item["app_id"]),
            escape(item["room_id"]),
            escape(item["task_id"]),
            escape(item["user_id"]),
            str(item["stream_type"]),
            str(item["size"]),
            f"{item['width']}x{item['height']}",
            escape(item["object_key"] or item["veimagex_uri"] or ""),
            *((escape(verdict_cell(item["verdicts"])),) if verdicts else ()),
        )
    print_table(table)


def _json_line(item: dict[str, Any]) -> str:
    """One record as `--json` prints it: its verdicts cut to the documented keys."""
    from rtcsnap.callbacks.verdicts import VERDICT_KEYS

    shown = [{key: v[key] for key in VERDICT_KEYS} for v in item["verdicts"]]
    return json.dumps({**item, "verdicts": shown}, ensure_ascii=False) + "\n"


@snapshots_group.command(
    "list",
    epilog=examples(
        "rtcsnap snapshots list --db snaps.db --app-id app1 --room-id room1",
        "rtcsnap snapshots list --db snaps.db --user-id alice --stream-type 1 --since 2024-05-01T12:00:00Z",
        "rtcsnap snapshots list --db sqlite:///snaps.db --limit 10 --json | jq -r .object_key",
        "rtcsnap snapshots list --db snaps.db --flagged --label FEMALE_BREAST_EXPOSED",
    ),
)
@click.option("--db", "db", required=True, help=DB_HELP)
@click.option("--app-id", help="Only images of this AppId.")
@click.option("--room-id", help="Only images of this RoomId.")
@click.option("--task-id", help="Only images of this TaskId.")
@click.option("--user-id", help="Only images of this user's streams.")
@click.option("--stream-type", type=click.Choice(["0", "1"]), help="0: main stream, 1: screen share.")
@click.option("--since", callback=_since, help=f"Images taken at or after this time. {TIME_HELP}")
@click.option("--until", callback=_until, help=f"Images taken before this time. {TIME_HELP}")
@click.option("--flagged", is_flag=True, help="Only images a plugin's verdict flagged (e.g. moderation).")
@click.option(
    "--label",
    help="Only images with a verdict carrying this label (with --flagged: the verdict that flagged them).",
)
@click.option("--limit", type=click.IntRange(min=1), help="Stop after this many records.")
@click.option(
    "--page-size",
    type=click.IntRange(1, 10_000),
    default=1000,
    show_default=True,
    help="Records fetched per query.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="JSON lines: one snapshot record each, with its verdicts."
)
def list_cmd(
    db: str,
    app_id: str | None,
    room_id: str | None,
    task_id: str | None,
    user_id: str | None,
    stream_type: str | None,
    since: int | None,
    until: int | None,
    flagged: bool,
    label: str | None,
    limit: int | None,
    page_size: int,
    as_json: bool,
) -> None:
    """Snapshot records matching every given filter, oldest image first.

    The time range is by the image's TimeStamp, half-open: --since <= t < --until. Verdicts are
    what analysis plugins (moderation, …) recorded about each image: a VERDICT column when the
    index holds any, `verdicts` in --json."""
    from rtcsnap.callbacks.index import SnapshotIndex, database_url

    if since is not None and until is not None and since >= until:
        raise click.UsageError(f"--since ({since} ms) must be before --until ({until} ms)")
    index = SnapshotIndex(database_url(db))
    try:
        left, after, first = limit, None, True
        column = not as_json and index.has_verdicts()  # one layout for every page
        while True:
            size = page_size if left is None else min(page_size, left)
            page = index.snapshots(
                app_id=app_id,
                room_id=room_id,
                task_id=task_id,
                user_id=user_id,
                stream_type=None if stream_type is None else int(stream_type),
                since_ms=since,
                until_ms=until,
                flagged=True if flagged else None,
                label=label,
                with_verdicts=True,
                limit=size,
                after=after,
            )
            if as_json:
                sys.stdout.write("".join(_json_line(item) for item in page.items))
                sys.stdout.flush()
            elif page.items or first:
                _table(page.items, header=first, verdicts=column)
            first = False
            if left is not None:
                left -= len(page.items)
            if page.next is None or left == 0:
                break
            after = page.next
    finally:
        index.close()


@snapshots_group.command(
    "replay-hooks",
    epilog=examples(
        "rtcsnap snapshots replay-hooks --db snaps.db",
        "rtcsnap snapshots replay-hooks --db snaps.db --app-id app1 --json",
    ),
)
@click.option("--db", "db", required=True, help=DB_HELP)
@click.option("--app-id", help="Only events of this app.")
@click.option("--task-id", help="Only events with snapshots of this task.")
@click.option(
    "--json", "as_json", is_flag=True, help='One line {"replayed": N, "succeeded": N, "still_failing": N}.'
)
def replay_hooks_cmd(db: str, app_id: str | None, task_id: str | None, as_json: bool) -> int:
    """Run the installed `rtcsnap_snapshot_received` hooks for events they failed on or never saw.

    Pending events get every hook, failed ones the hooks that failed. Exit 1 if any event is still
    failing. Run it while no receiver is filling the same index, or queued events may run twice."""
    from rtcsnap.callbacks.hooks import replay_backlog

    summary, names = replay_backlog(db, manager().plugin_manager(), app_id=app_id, task_id=task_id)
    if as_json:
        print(
            json.dumps(
                {
                    "replayed": summary.replayed,
                    "succeeded": summary.succeeded,
                    "still_failing": summary.still_failing,
                }
            )
        )
    else:
        hooks = ", ".join(names) or "none installed"
        print(
            f"replayed {summary.replayed} events (hooks: {hooks}): {summary.succeeded} succeeded, "
            f"{summary.still_failing} still failing"
        )
    return EXIT_REMOTE if summary.still_failing else EXIT_OK


__all__ = ["list_cmd", "parse_time", "replay_hooks_cmd", "snapshots_group", "verdict_cell"]
