"""Running the `rtcsnap_snapshot_received` hook after a commit, without ever costing the receiver.

Why it looks like this (issue 10 §4: a failing or slow hook never loses, duplicates or blocks an event):
* The receiver has already promised RTC the event (200 after the durable commit), so hooks can only
  run afterwards and must not delay the answer: `submit` only puts the event on bounded queues,
  never waits. When a queue is full (hooks slower than callbacks) the event is not queued at all and
  stays 'pending' in the index, counted in `metrics["dropped"]`; `replay` runs it later.
* Each implementation has its own worker thread and queue ("lane"), so a slow or stuck plugin delays
  only itself, never the others. An implementation may ask for more threads on its lane
  (`hookspecs.workers`, the ``rtcsnap_workers`` attribute, 1–64): a CPU-bound hook waiting on a
  process pool would otherwise keep one process busy; they share the lane's one bounded queue.
  An event is queued on every lane or on none (all-or-nothing, under one lock), so no plugin sees
  an event that another never will.
* Outcomes go to one writer thread, the only one writing hook state: a failure becomes a
  `hook_failures` row (the plugin's name, one redacted line, attempts, last time); once every lane
  reported, the event's `hook_status` becomes 'done' or 'failed'. Hooks never run for duplicates,
  because the receiver submits only events its commit reported new.
* `replay` re-runs what is 'pending' (every implementation) or 'failed' (only the implementations
  with a failure row, so those that succeeded are not called twice), updating the same rows.

Hooks are at-least-once, not exactly-once: an implementation that ran but whose outcome was not
written (the process died, or `close` timed out) runs again on replay. Implementations should be
idempotent. Run `replay` when no receiver is feeding the same events, or events still queued in a
live receiver may run twice.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy

from rtcsnap import hookspecs, secrets
from rtcsnap.errors import PluginError

if TYPE_CHECKING:
    from rtcsnap.callbacks.images import ImageSource
    from rtcsnap.callbacks.index import SnapshotIndex
    from rtcsnap.callbacks.records import SnapshotRecord

log = logging.getLogger(__name__)

HOOK = "rtcsnap_snapshot_received"
DEFAULT_QUEUE_SIZE = 1000
"""Events waiting per implementation before further events are left 'pending' for `replay`."""
_WRITER_BATCH = 500


@dataclass(frozen=True)
class HookImpl:
    """One implementation of the hook: the plugin's name (recorded with its failures), function,
    the arguments it takes (a subset of the hookspec's) and its worker threads."""

    name: str
    function: Callable[..., object]
    argnames: tuple[str, ...]
    workers: int = 1

    def __call__(
        self, record: SnapshotRecord, index: SnapshotIndex | None = None, images: ImageSource | None = None
    ) -> None:
        kwargs = {"record": record, "index": index, "images": images}
        self.function(*(kwargs[name] for name in self.argnames))


def _workers(plugin: str, function: Callable[..., object]) -> int:
    """The implementation's `hookspecs.WORKERS_ATTR` (default 1), or a `PluginError` naming it."""
    value = getattr(function, hookspecs.WORKERS_ATTR, 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= hookspecs.MAX_WORKERS:
        raise PluginError(
            f"hook plugin {plugin!r}: {HOOK}.{hookspecs.WORKERS_ATTR} must be an integer in "
            f"[1, {hookspecs.MAX_WORKERS}] (got {value!r})"
        )
    return value


@dataclass(frozen=True)
class ReplaySummary:
    """What `HookRunner.replay` did, counted in events."""

    replayed: int
    succeeded: int
    still_failing: int


@dataclass(frozen=True)
class _Outcome:
    event_id: str
    hook: str | None  # None: no implementation to run (nothing recorded but the status)
    error: str | None


def error_line(exc: BaseException) -> str:
    """`exc` as one redacted line, short enough for a table cell."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return secrets.redact(text)[:1000]


def _plugin_name(plugin: object) -> str:
    name = getattr(plugin, "__name__", None)
    return name if isinstance(name, str) and name else type(plugin).__name__


def implementations(
    plugin_manager: pluggy.PluginManager | None, plugins: Iterable[object] = ()
) -> list[HookImpl]:
    """The hook's implementations in `plugin_manager` (a pluggy manager with `rtcsnap.hookspecs`,
    e.g. ``ProviderManager.default().plugin_manager()``) plus those of `plugins`, objects or modules
    with a ``@hookimpl def rtcsnap_snapshot_received(record)``, named by ``__name__`` or their class.
    Wrappers are left out: they wrap a call chain, and each implementation here runs on its own.
    Raises `PluginError` when an implementation asks for an invalid number of workers."""
    own = pluggy.PluginManager(hookspecs.PROJECT)
    own.add_hookspecs(hookspecs)
    taken = set() if plugin_manager is None else {name for name, _ in plugin_manager.list_name_plugin()}
    for plugin in plugins:
        name = _plugin_name(plugin)
        if name in taken or own.has_plugin(name):
            raise ValueError(f"hook plugins: two plugins named {name!r} (failures are recorded by name)")
        own.register(plugin, name=name)  # pluggy checks the signature against the hookspec
    impls: list[HookImpl] = []
    for manager in (plugin_manager, own):
        if manager is None:
            continue
        caller = getattr(manager.hook, HOOK, None)
        if caller is None:
            continue
        for impl in caller.get_hookimpls():
            if impl.wrapper or impl.hookwrapper:
                continue
            workers = _workers(impl.plugin_name, impl.function)
            impls.append(HookImpl(impl.plugin_name, impl.function, tuple(impl.argnames), workers))
    return impls


def _run(
    impl: HookImpl, records: Sequence[SnapshotRecord], index: SnapshotIndex, images: ImageSource
) -> str | None:
    """Call `impl` for each record, stopping at the first failure; its one-line error, or None."""
    for record in records:
        try:
            impl(record, index, images)
        except Exception as exc:
            log.warning("hook %s failed on event %s: %s", impl.name, record.event_id, error_line(exc))
            return error_line(exc)
    return None


class _Lane:
    """One implementation's bounded queue and its worker threads (`HookImpl.workers`), which take
    events from it in turn; `close` puts one stop marker per thread."""

    def __init__(
        self,
        impl: HookImpl,
        size: int,
        report: Callable[[_Outcome], None],
        index: SnapshotIndex,
        images: ImageSource,
    ) -> None:
        self.impl = impl
        self.queue: queue.Queue[tuple[str, tuple[SnapshotRecord, ...]] | None] = queue.Queue(size)
        self._report = report
        self._index = index
        self._images = images
        self.threads = [
            threading.Thread(target=self._work, name=f"rtcsnap-hook-{impl.name}-{n}", daemon=True)
            for n in range(impl.workers)
        ]
        for thread in self.threads:
            thread.start()

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            event_id, records = item
            self._report(
                _Outcome(event_id, self.impl.name, _run(self.impl, records, self._index, self._images))
            )


class HookRunner:
    """Runs the hook's implementations for newly committed events, off the request path.

    `plugin_manager`: a pluggy manager whose plugins implement the hook (the CLI passes the installed
    plugins', ``ProviderManager.default().plugin_manager()``); `plugins`: further objects with a
    hookimpl (tests, embedders); `images`: where the hooks read each record's image (the hook's
    ``images`` argument; default an `ImageSource` over this machine's task log, which the runner
    closes). `close` stops the threads; the caller closes `index` and an `images` it passed.
    """

    def __init__(
        self,
        index: SnapshotIndex,
        plugin_manager: pluggy.PluginManager | None = None,
        *,
        plugins: Iterable[object] = (),
        queue_size: int = DEFAULT_QUEUE_SIZE,
        clock: Callable[[], float] = time.time,
        images: ImageSource | None = None,
    ) -> None:
        from rtcsnap.callbacks.images import ImageSource

        if isinstance(queue_size, bool) or not isinstance(queue_size, int) or queue_size < 1:
            raise ValueError("hook runner queue_size: must be an integer >= 1")
        self._index = index
        self._owns_images = images is None
        self.images = ImageSource() if images is None else images
        self._clock = clock
        self.implementations = implementations(plugin_manager, plugins)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._outstanding = 0  # events submitted whose status is not written yet
        self._closed = False
        self.metrics: dict[str, int] = dict.fromkeys(("queued", "dropped", "done", "failed", "errors"), 0)
        """Events queued, left pending (queue full or closed), finished 'done' / 'failed', and
        writes of hook state that failed (those events stay 'pending')."""
        self._writes: queue.Queue[_Outcome | None] = queue.Queue(queue_size)
        self._writer = threading.Thread(target=self._write, name="rtcsnap-hook-writer", daemon=True)
        self._writer.start()
        self._lanes = [
            _Lane(impl, queue_size, self._writes.put, index, self.images) for impl in self.implementations
        ]

    def __repr__(self) -> str:
        return f"HookRunner(hooks={[i.name for i in self.implementations]!r})"

    # ------------------------------------------------------------------ live

    def submit(self, event_id: str, records: Sequence[SnapshotRecord]) -> bool:
        """Queue a newly committed event's records for every implementation; never blocks. False:
        not queued (a queue is full, or the runner is closed), so the event stays 'pending'."""
        with self._lock:
            if self._closed:
                self.metrics["dropped"] += 1
                return False
            try:
                if not records or not self._lanes:  # nothing to run: only the status to write
                    self._writes.put_nowait(_Outcome(event_id, None, None))
                elif any(lane.queue.full() for lane in self._lanes):
                    raise queue.Full
                else:  # only submit puts on lanes, under this lock: none can fill up meanwhile
                    item = (event_id, tuple(records))
                    for lane in self._lanes:
                        lane.queue.put_nowait(item)
            except queue.Full:
                self.metrics["dropped"] += 1
                return False
            self.metrics["queued"] += 1
            self._outstanding += 1
            return True

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until every queued event's outcome is written; False if `timeout` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._outstanding == 0, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Let the queued events finish (up to `timeout` seconds), then stop. Events whose hooks did
        not finish in time stay 'pending' (their hooks may have run: `replay` runs them again)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        deadline = time.monotonic() + timeout
        for lane in self._lanes:
            with contextlib.suppress(queue.Full):  # a stuck lane: its queued events stay pending
                for _ in lane.threads:  # one stop marker per worker
                    lane.queue.put(None, timeout=max(0.0, deadline - time.monotonic()))
        threads = [thread for lane in self._lanes for thread in lane.threads]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with contextlib.suppress(queue.Full):
            self._writes.put(None, timeout=max(0.01, deadline - time.monotonic()))
        self._writer.join(max(0.01, deadline - time.monotonic()))
        if self._writer.is_alive() or any(thread.is_alive() for thread in threads):
            log.warning("hook runner: still busy after %g s; unfinished events stay pending", timeout)
        if self._owns_images:
            self.images.close()

    def _write(self) -> None:
        lanes = len(self.implementations)
        seen: dict[str, tuple[int, bool]] = {}  # event_id -> (lanes reported, any failed)
        while True:
            batch = [self._writes.get()]
            while len(batch) < _WRITER_BATCH and batch[-1] is not None:
                try:
                    batch.append(self._writes.get_nowait())
                except queue.Empty:
                    break
            finished: dict[str, bool] = {}  # event_id -> failed
            for outcome in batch:
                if outcome is None:
                    continue
                if outcome.hook is None:
                    finished[outcome.event_id] = False
                    continue
                if outcome.error is not None:
                    self._guard(
                        self._index.record_hook_failure, outcome.event_id, outcome.hook, outcome.error
                    )
                count, failed = seen.pop(outcome.event_id, (0, False))
                count, failed = count + 1, failed or outcome.error is not None
                if count == lanes:
                    finished[outcome.event_id] = failed
                else:
                    seen[outcome.event_id] = (count, failed)
            for status, failed in (("done", False), ("failed", True)):
                ids = [event_id for event_id, f in finished.items() if f is failed]
                if ids and self._guard(self._index.set_hook_status, ids, status, at=False):
                    with self._lock:
                        self.metrics[status] += len(ids)
            if finished:
                with self._idle:
                    self._outstanding -= len(finished)
                    self._idle.notify_all()
            if batch[-1] is None:
                return

    def _guard(self, write: Callable[..., Any], *args: Any, at: bool = True) -> bool:
        """Run one write of hook state; a failure is logged and counted, never raised (the writer
        must keep going; the event stays 'pending' and replay repairs it)."""
        try:
            write(*args, *((self._clock(),) if at else ()))
        except Exception as exc:
            with self._lock:
                self.metrics["errors"] += 1
            log.warning("hook runner: could not record hook state: %s", error_line(exc))
            return False
        return True

    # ------------------------------------------------------------------ replay

    def replay(
        self, *, app_id: str | None = None, task_id: str | None = None, page: int = 500
    ) -> ReplaySummary:
        """Run the hook, in this thread, for every event whose hooks are 'pending' (all implementations)
        or 'failed' (the implementations with a failure row), of one app or task if given. A success
        clears its failure row; a failure updates it (attempts + 1). A failed hook whose plugin is not
        installed here cannot be retried: its event counts as still failing, its row unchanged."""
        replayed = succeeded = still_failing = 0
        after: int | None = None
        while True:
            backlog = self._index.hook_backlog(page, app_id=app_id, task_id=task_id, after=after)
            if not backlog:
                break
            for event, records in backlog:
                after = int(event["id"])
                failed_hooks = set(event["failed_hooks"])
                if event["hook_status"] == "failed":
                    impls = [i for i in self.implementations if i.name in failed_hooks]
                    failed = bool(failed_hooks - {i.name for i in impls})
                else:
                    impls, failed = list(self.implementations), False
                for impl in impls:
                    error = _run(impl, records, self._index, self.images)
                    if error is not None:
                        self._index.record_hook_failure(event["event_id"], impl.name, error, self._clock())
                        failed = True
                    elif impl.name in failed_hooks:
                        self._index.clear_hook_failure(event["event_id"], impl.name)
                self._index.set_hook_status([event["event_id"]], "failed" if failed else "done")
                replayed += 1
                still_failing += failed
                succeeded += not failed
        return ReplaySummary(replayed, succeeded, still_failing)


def replay_backlog(
    db: str,
    plugin_manager: pluggy.PluginManager | None,
    *,
    app_id: str | None = None,
    task_id: str | None = None,
) -> tuple[ReplaySummary, list[str]]:
    """`HookRunner.replay` over the index at `db` (a URL or a SQLite path), opened and closed
    here: what ``rtcsnap snapshots replay-hooks`` and a plugin's own backlog command run. Returns
    the summary and the names of the implementations that were run."""
    from rtcsnap.callbacks.index import SnapshotIndex, database_url

    index = SnapshotIndex(database_url(db))
    try:
        runner = HookRunner(index, plugin_manager)
        try:
            return runner.replay(app_id=app_id, task_id=task_id), [i.name for i in runner.implementations]
        finally:
            runner.close()
    finally:
        index.close()


__all__ = [
    "DEFAULT_QUEUE_SIZE",
    "HOOK",
    "HookImpl",
    "HookRunner",
    "ReplaySummary",
    "error_line",
    "implementations",
    "replay_backlog",
]
