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
    from rtcsnap.callbacks.images import ImageSource
    from rtcsnap.callbacks.index import SnapshotIndex
    from rtcsnap.callbacks.records import SnapshotRecord

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
def rtcsnap_snapshot_received(record: SnapshotRecord, index: SnapshotIndex, images: ImageSource) -> None:
    runtime = Runtime.shared()
    if runtime is None:  # installed but not enabled: no [plugins.moderation] table
        return
    data = runtime.images_for(images).fetch(record).data
    store(index, record, runtime.pool.moderate(data, record.app_id))


DEMO_SECTION: dict[str, Any] = {"packs": ["contact"], "workers": 1}
"""The demo's table: the contact pack flags the demo's screen share, which shows a WeChat id."""


@hookimpl
def rtcsnap_demo_sections() -> dict[str, dict[str, Any]]:
    return {NAME: DEMO_SECTION}


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
        reason=verdict.reason(),
    )


@dataclass
class Runtime:
    """The process's settings, model pool and fetchers, built on first use (a receiver that never
    gets an image never starts a model)."""

    settings: Settings
    pool: ModerationPool
    _own: ImageSource | None = None
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

    def images_for(self, images: ImageSource | None) -> ImageSource:
        """Where the hook reads images: the ``storage`` of the settings (its read key), else the
        receiver's `ImageSource` (the hook's ``images``: the task log for ``callbacks serve``, the
        demo's bucket in the demo)."""
        if not self.settings.storage:
            if images is None:
                raise ConfigurationError(
                    f"no storage to read images from: set storage = TARGET in [plugins.{NAME}]"
                )
            return images
        with self._lock:
            if self._own is None:
                from rtcsnap.callbacks.images import ImageSource

                self._own = ImageSource(self.settings.storage, task_log=None)
            return self._own

    def close(self) -> None:
        self.pool.close()
        with self._lock:
            own, self._own = self._own, None
        if own is not None:
            own.close()


__all__ = ["LANE_THREADS", "Runtime", "labels_of", "store"]
