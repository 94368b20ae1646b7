"""What the plugin adds to rtcsnap (entry point ``moderate`` in the ``rtcsnap`` group): the
snapshot hook, the check of its ``[plugins.moderation]`` table, and the ``rtcsnap moderate`` command.

The hook, per new image, after the receiver durably stored its callback (so it never delays or
risks an acknowledgement): fetch the image through the task's storage provider, judge it on the
model processes, store the verdict in the index. Why each piece sits where it does:
* Back-pressure is core's: the hook lane's queue is bounded, and when images arrive faster than the
  models judge them the overflow stays 'pending' in the index (nothing is dropped), to be drained by
  ``rtcsnap moderate --backlog`` (or ``snapshots replay-hooks``) when the burst is over. The policy
  is *defer*, not *sample*: evidence review wants every image judged eventually.
* `LANE_THREADS` threads take images off the lane, each waiting on the shared `ModerationPool`; the
  pool's processes (``workers``) bound the CPU. More threads than processes keeps the next images
  fetched while the current ones are judged.
* The model processes run at nice 19 (`pool.BACKGROUND`): on a small machine judging images must
  not take the CPU from acknowledging callbacks. The hook is on only when the config file has a
  ``[plugins.moderation]`` table; installed alone, it does nothing.
* A detector that crashes gives a ``partial``/``error`` verdict that is stored like any other (the
  image is accounted for, with the reason); a storage failure raises, so core records a hook failure
  and the image is judged again on replay. A dead model process costs one retry (`pool`).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from rtcsnap import hookimpl
from rtcsnap.errors import ConfigurationError
from rtcsnap.hookspecs import workers

from rtcsnap_moderation import settings as settings_mod
from rtcsnap_moderation.settings import NAME, Settings

if TYPE_CHECKING:
    import click
    from rtcsnap.callbacks.index import SnapshotIndex
    from rtcsnap.callbacks.records import SnapshotRecord
    from rtcsnap.storage import Fetcher

    from rtcsnap_moderation.pool import ModerationPool
    from rtcsnap_moderation.verdict import Verdict

log = logging.getLogger(__name__)

LANE_THREADS = 8
"""Hook threads: images in flight at once (fetched or being judged); the processes bound the CPU."""


@hookimpl
def rtcsnap_check_config(
    name: str, section: dict[str, Any]
) -> list[tuple[tuple[str | int, ...], str]] | None:
    if name != NAME:
        return None
    return settings_mod.problems(section)


@hookimpl
def rtcsnap_register_commands(cli: click.Group) -> None:
    from rtcsnap_moderation.cli import moderate

    cli.add_command(moderate)


@hookimpl
@workers(LANE_THREADS)
def rtcsnap_snapshot_received(record: SnapshotRecord, index: SnapshotIndex) -> None:
    runtime = Runtime.shared()
    if runtime is None:  # installed but not enabled: no [plugins.moderation] table
        return
    key = record.object_key or record.veimagex_uri
    if not key:
        raise ValueError(f"event {record.event_id}: the callback names no object key")
    data = runtime.fetcher_for(record).fetch(key).data
    store(index, record, runtime.pool.moderate(data, record.app_id))


def labels_of(verdict: Verdict) -> list[str]:
    """What ``snapshots list --label`` finds a verdict by: the rules that fired, and the detector
    labels behind them (``text.weapons``, ``FEMALE_BREAST_EXPOSED``)."""
    labels = list(verdict.fired)
    labels += [hit.label for hit in verdict.hits if hit.label]
    return list(dict.fromkeys(labels))


def store(index: SnapshotIndex, record: SnapshotRecord | int, verdict: Verdict) -> None:
    index.record_verdict(
        record,
        NAME,
        status=verdict.status,
        flagged=verdict.flagged,
        fired=verdict.fired,
        labels=labels_of(verdict),
        details=verdict.model_dump_json(),
        error=verdict.error,
    )


@dataclass
class Runtime:
    """The process's settings, model pool and fetchers, built on first use (a receiver that never
    gets an image never starts a model)."""

    settings: Settings
    pool: ModerationPool
    _fetchers: dict[str, Fetcher] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    _shared: ClassVar[Runtime | None] = None
    _disabled: ClassVar[bool] = False
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    @classmethod
    def shared(cls) -> Runtime | None:
        """The runtime, or None when the config file has no ``[plugins.moderation]`` table:
        installing the plugin does not turn it on (a receiver without a storage to read images
        from would otherwise record a hook failure for every event)."""
        with cls._shared_lock:
            if cls._disabled:
                return None
            if cls._shared is None:
                from rtcsnap.profiles import plugin_section

                from rtcsnap_moderation.pool import BACKGROUND, ModerationPool

                section = plugin_section(NAME)
                if not section.present:
                    log.info(
                        "moderation: no [plugins.%s] table in %s: the hook does nothing", NAME, section.path
                    )
                    cls._disabled = True
                    return None
                try:
                    parsed = settings_mod.parse(section.data)
                except settings_mod.SettingsError as exc:
                    loc, rule = exc.problems[0]
                    raise ConfigurationError(f"{section.where(loc)}: {rule}") from None
                cls._shared = cls(parsed, ModerationPool(parsed.rules, parsed.workers, nice=BACKGROUND))
            return cls._shared

    @classmethod
    def reset(cls) -> None:
        """Forget the shared runtime (tests; a changed config file), closing its processes."""
        with cls._shared_lock:
            runtime, cls._shared = cls._shared, None
            cls._disabled = False
        if runtime is not None:
            runtime.close()

    def target_spec(self, record: SnapshotRecord) -> str:
        """Where `record`'s image is read from: ``storage`` of the settings, else the target this
        machine's ``rtcsnap start --storage`` used for the task (the local task log)."""
        if self.settings.storage:
            return self.settings.storage
        from rtcsnap.tasklog import TaskLog

        log = TaskLog.default()
        entry = log.lookup(record.app_id or "", record.room_id or "", record.task_id or "") if log else None
        if entry is None:
            raise ConfigurationError(
                f"task {record.app_id}/{record.room_id}/{record.task_id}: no storage to read its images "
                f"from: set storage = TARGET in [plugins.{NAME}] (the read key), or start the task here"
            )
        return entry.storage

    def fetcher_for(self, record: SnapshotRecord) -> Fetcher:
        spec = self.target_spec(record)
        with self._lock:
            fetcher = self._fetchers.get(spec)
            if fetcher is None:
                from rtcsnap.profiles import resolve_target
                from rtcsnap.storage import Fetcher

                fetcher = Fetcher(resolve_target(spec, "read"))
                self._fetchers[spec] = fetcher
        if record.bucket and fetcher.target.bucket != record.bucket:
            raise ConfigurationError(
                f"the image is in bucket {record.bucket!r} but [plugins.{NAME}] storage reads "
                f"{fetcher.target.bucket!r}"
            )
        return fetcher

    def close(self) -> None:
        self.pool.close()
        with self._lock:
            for fetcher in self._fetchers.values():
                fetcher.close()
            self._fetchers.clear()


__all__ = ["LANE_THREADS", "Runtime", "labels_of", "store"]
