"""``rtcsnap moderate``: the detectors over one image file, over images already in a bucket, or
over the index's backlog of images the receiver's hook has not judged yet.

Output follows rtcsnap's conventions: people get one line per flagged (or failed) image and a
summary on stderr; ``--json`` prints one object per image (`image_json`) and a last
``{"summary": …}`` line. Exit 0 when every image was judged, 1 when one could not be (its reason is
printed), 2 for a usage or configuration error (nothing was judged).
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from rtcsnap import StorageTarget

    from rtcsnap_moderation.review import Reviewed, ReviewSummary
    from rtcsnap_moderation.settings import Settings
    from rtcsnap_moderation.verdict import Verdict


def image_json(
    key: str, verdict: Verdict | None, reason: str | None = None, message: str | None = None
) -> str:
    """One ``--json`` line: the image's key (or file), the outcome, and the whole verdict."""
    return json.dumps(
        {
            "key": key,
            "flagged": bool(verdict and verdict.flagged),
            "status": verdict.status if verdict is not None else "failed",
            "fired": list(verdict.fired) if verdict is not None else [],
            "reason": reason,
            "message": message,
            "verdict": verdict.model_dump(mode="json") if verdict is not None else None,
        },
        ensure_ascii=False,
    )


def _line(key: str, verdict: Verdict) -> str:
    return f"FLAGGED {key}: {verdict.reason()}"


def _settings(rules_file: Path | None, workers: int | None) -> Settings:
    from rtcsnap.errors import ConfigurationError
    from rtcsnap.profiles import plugin_section

    from rtcsnap_moderation import settings as settings_mod

    if rules_file is not None:
        import tomllib

        try:
            document = tomllib.loads(rules_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise click.UsageError(f"--rules {rules_file}: {exc}") from None
        table = document.get("plugins", {}).get(settings_mod.NAME, document.get("moderation", document))
        where = f"--rules {rules_file}: "
    else:
        section = plugin_section(settings_mod.NAME)
        table, where = dict(section.data), ""
    try:
        parsed = settings_mod.parse(table)
    except settings_mod.SettingsError as exc:
        from rtcsnap.profiles.plugins import field_name

        loc, rule = exc.problems[0]
        if not where:  # the config file's table: FILE:LINE: plugins.moderation.…
            raise ConfigurationError(f"{plugin_section(settings_mod.NAME).where(loc)}: {rule}") from None
        raise ConfigurationError(f"{where}{field_name(loc) or settings_mod.NAME}: {rule}") from None
    if workers is not None:
        parsed = settings_mod.Settings(parsed.rules, parsed.storage, workers)
    return parsed


def _task_keys(db: str, task: str) -> Iterator[str]:
    from rtcsnap.callbacks.index import SnapshotIndex, database_url

    parts = task.split("/")
    if len(parts) != 3 or not all(parts):
        raise click.UsageError(f"--task: expected APP/ROOM/TASK (got {task!r})")
    app_id, room_id, task_id = parts
    index = SnapshotIndex(database_url(db))
    try:
        after = None
        while True:
            page = index.snapshots(app_id=app_id, room_id=room_id, task_id=task_id, after=after)
            for item in page.items:
                key = item.get("object_key") or item.get("veimagex_uri")
                if key:
                    yield str(key)
            if page.next is None:
                return
            after = page.next
    finally:
        index.close()


@click.command(
    "moderate",
    epilog="\b\nExamples:\n"
    "  rtcsnap moderate --image frame.jpg --rules rules.toml\n"
    "  rtcsnap moderate @evidence --prefix app1/room1/ --json > verdicts.jsonl\n"
    "  rtcsnap moderate @evidence --task app1/room1/task1 --db snaps.db -w 2\n"
    "  rtcsnap moderate --backlog --db snaps.db\n"
    "\n"
    "Rules: [plugins.moderation] of the config file (rtcsnap config check validates it), or --rules FILE.",
)
@click.argument("target", required=False)
@click.option(
    "--image",
    "images",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Judge this local image file (repeatable).",
)
@click.option("--prefix", default="", help="With TARGET: the images under this prefix.")
@click.option("--task", help="With TARGET and --db: exactly the indexed images of APP/ROOM/TASK.")
@click.option("--db", help="The snapshot index (SQLite file or database URL): for --task and --backlog.")
@click.option(
    "--backlog",
    is_flag=True,
    help="Run the snapshot hooks for the index's images they have not judged (all installed hooks, as `snapshots replay-hooks`).",
)
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A TOML file with the rules ([plugins.moderation] or [moderation]) instead of the config file's.",
)
@click.option("--app-id", help="Judge by this app's rules (per-app overrides).")
@click.option(
    "--workers",
    "-w",
    type=click.IntRange(1, 64),
    help="Model processes (default: the settings' workers, else 1).",
)
@click.option(
    "--access-key",
    envvar="RTCSNAP_ACCESS_KEY",
    help="TARGET's read key (env RTCSNAP_ACCESS_KEY); else @NAME's read reference, else the provider's chain.",
)
@click.option(
    "--secret-key",
    envvar="RTCSNAP_SECRET_KEY",
    help="Its secret (env RTCSNAP_SECRET_KEY; prefer the env var).",
)
@click.option("--json", "as_json", is_flag=True, help='One JSON object per image, then {"summary": …}.')
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
def moderate(
    target: str | None,
    images: tuple[Path, ...],
    prefix: str,
    task: str | None,
    db: str | None,
    backlog: bool,
    rules_file: Path | None,
    app_id: str | None,
    workers: int | None,
    access_key: str | None,
    secret_key: str | None,
    as_json: bool,
    quiet: bool,
) -> int:
    """Flag images that show nudity or forbidden text (rtcsnap-moderation).

    TARGET (a storage URL or @NAME, read with its read key) with --prefix or --task: images
    already in a bucket; --image FILE: local files; --backlog --db: what the receiver's hook left
    pending. Prints the flagged images with the rules that fired; exit 1 if an image could not be
    judged."""
    modes = sum([bool(images), target is not None, backlog])
    if modes != 1:
        raise click.UsageError("give exactly one of TARGET, --image FILE or --backlog")
    if backlog:
        return _backlog(db, app_id, as_json)
    settings = _settings(rules_file, workers)
    if images:
        return _images(images, settings, app_id, as_json)
    assert target is not None
    if task and not db:
        raise click.UsageError("--task needs --db (the index that knows the task's images)")
    if task and prefix:
        raise click.UsageError("give --prefix or --task, not both")
    from rtcsnap.profiles import resolve_target

    resolved = resolve_target(target, "read", access_key=access_key, secret_key=secret_key)
    return _bucket(resolved, prefix, task, db, settings, app_id, as_json, quiet)


def _images(images: tuple[Path, ...], settings: Settings, app_id: str | None, as_json: bool) -> int:
    from rtcsnap_moderation.moderator import Moderator

    moderator = Moderator(settings.rules)
    failed = flagged = 0
    for path in dict.fromkeys(images):
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise click.UsageError(f"--image {path}: {exc.strerror or exc}") from None
        verdict = moderator.moderate(data, app_id)
        failed += verdict.status == "error"
        flagged += verdict.flagged
        if as_json:
            print(image_json(str(path), verdict))
        elif verdict.flagged:
            print(_line(str(path), verdict))
        elif verdict.status == "error":
            print(f"FAILED {path}: {verdict.error}")
        else:
            print(f"ok {path}" + (" (partial: a detector failed)" if verdict.status == "partial" else ""))
    if as_json:
        print(json.dumps({"summary": {"listed": len(set(images)), "flagged": flagged, "failed": failed}}))
    return 1 if failed else 0


def _bucket(
    resolved: StorageTarget,
    prefix: str,
    task: str | None,
    db: str | None,
    settings: Settings,
    app_id: str | None,
    as_json: bool,
    quiet: bool,
) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rtcsnap.storage import iter_objects

    from rtcsnap_moderation.pool import ModerationPool
    from rtcsnap_moderation.review import review

    listed = [0]

    def keys() -> Iterator[str]:
        source = _task_keys(db or "", task) if task else (o.key for o in iter_objects(resolved, prefix))
        for key in source:
            if key.endswith("/"):
                continue
            listed[0] += 1
            yield key

    err = Console(stderr=True, highlight=False)
    show = not quiet and err.is_terminal
    lock = threading.Lock()
    progress = Progress(
        TextColumn("moderating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("(listed so far)"),
        TimeElapsedColumn(),
        console=err,
        disable=not show,
    )

    with progress, ModerationPool(settings.rules, settings.workers) as pool:
        bar = progress.add_task("moderate", total=None)

        def report(result: Reviewed) -> None:
            with lock:
                progress.update(bar, advance=1, total=listed[0])
                if as_json:
                    print(image_json(result.key, result.verdict, result.reason, result.message), flush=True)
                elif result.failed:
                    progress.console.print(
                        f"FAILED {result.key}: {result.reason}: {result.message}", markup=False
                    )
                elif result.flagged and result.verdict is not None:
                    print(_line(result.key, result.verdict), flush=True)

        summary = review(resolved, keys(), pool, app_id=app_id, on_result=report)
    _summary(summary, as_json)
    return 1 if summary.failed else 0


def _summary(summary: ReviewSummary, as_json: bool) -> None:
    counts: dict[str, Any] = {
        "listed": summary.listed,
        "judged": summary.judged,
        "flagged": summary.flagged,
        "partial": summary.partial,
        "failed": summary.failed,
    }
    if as_json:
        print(json.dumps({"summary": counts}))
    else:
        print(
            f"moderated {summary.listed}: {summary.flagged} flagged, {summary.judged - summary.flagged} clean, "
            f"{summary.failed} failed" + (f" ({summary.partial} partial)" if summary.partial else ""),
            file=sys.stderr,
        )


def _backlog(db: str | None, app_id: str | None, as_json: bool) -> int:
    from rtcsnap.callbacks.hooks import replay_backlog
    from rtcsnap.providers.manager import ProviderManager

    if not db:
        raise click.UsageError("--backlog needs --db (the index the receiver fills)")
    done, _ = replay_backlog(db, ProviderManager.default().plugin_manager(), app_id=app_id)
    body = {"replayed": done.replayed, "succeeded": done.succeeded, "still_failing": done.still_failing}
    print(
        json.dumps(body)
        if as_json
        else f"backlog: {done.replayed} events judged again, {done.still_failing} still failing"
    )
    return 1 if done.still_failing else 0


__all__ = ["image_json", "moderate"]
